"""Phonons against independent references (ase.phonons; phonopy fed by LAMMPS forces) and
physics: acoustic sum rule, mode count, Dulong–Petit, imaginary modes shown, file round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.phonons import Phonons
from lammps_reference import lammps_sw, requires_lammps
from scipy.constants import R

from nnpcalc.analysis.phonons import (
    analyse,
    build_phonopy,
    compare,
    frequencies_at,
    load_phonopy,
    phonons,
    plot_bands,
    plot_dos_thermal,
)
from nnpcalc.teachers import SWCalculator

THZ_PER_EV = 241.79893  # 1 eV / h in THz
A0 = 5.431


class ForcesFrom:
    """A minimal calculator with only `predict`: forces from a function of the structure."""

    def __init__(self, forces):
        self.forces = forces

    def predict(self, structures):
        return [{"forces": self.forces(a)} for a in structures]


@pytest.fixture(scope="module")
def sw_phonons():
    return phonons(SWCalculator(), bulk("Si", "diamond", A0), (3, 3, 3), mesh=(8, 8, 8))


def test_acoustic_sum_rule_mode_count_and_dulong_petit(sw_phonons):
    _, res = sw_phonons
    assert res["max_acoustic_gamma_THz"] < 1e-3
    assert res["n_imaginary_band_points"] == 0 and res["n_imaginary_mesh_modes"] == 0
    assert 15.0 < res["gamma_optical_THz"] < 19.0  # SW Si optical mode ~ 17.8 THz
    assert len(res["bands"]["tick_labels"]) == len(res["bands"]["distances"]) + 1
    nu, dos = np.array(res["dos"]["frequency_THz"]), np.array(res["dos"]["dos"])
    assert np.trapezoid(dos, nu) == pytest.approx(6.0, rel=0.02)  # 3 × 2 atoms
    t = res["thermal"]
    cv_1000 = t["heat_capacity_J_per_K_mol"][t["temperature_K"].index(1000.0)]
    dulong_petit = 6 * R  # 3R per atom, 2 atoms per primitive cell, J/K/mol
    assert cv_1000 == pytest.approx(dulong_petit, rel=0.05) and cv_1000 < dulong_petit


def test_matches_ase_phonons_with_the_same_calculator(sw_phonons, tmp_path):
    phonon, _ = sw_phonons
    unit = bulk("Si", "diamond", A0)
    ref = Phonons(unit, SWCalculator(), supercell=(3, 3, 3), delta=0.01,
                  name=str(tmp_path / "ph"))
    ref.run()
    ref.read(acoustic=True)
    qpoints = np.array([[0, 0, 0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.0], [0.25, 0.25, 0.0]])
    ase_thz = ref.band_structure(qpoints) * THZ_PER_EV  # ASE: q in units of the reciprocal cell
    ours = frequencies_at(phonon, qpoints)
    np.testing.assert_allclose(np.sort(ours, axis=1), np.sort(ase_thz, axis=1), atol=0.05)
    assert np.sort(ours, axis=1)[1:, 0].min() > 1.0  # a real comparison away from Γ


@requires_lammps
def test_matches_phonopy_driven_by_lammps_forces(sw_phonons):
    phonon, _ = sw_phonons
    reference = build_phonopy(ForcesFrom(lambda a: lammps_sw(a)["forces"]),
                              bulk("Si", "diamond", A0), (3, 3, 3))
    diff = compare(phonon, reference)
    assert diff["rmse_THz"] < 1e-3 and diff["n_qpoints"] > 200


def test_file_round_trip_and_comparison_sees_a_real_difference(sw_phonons, tmp_path):
    phonon, res = sw_phonons
    phonon.save(str(tmp_path / "phonopy.yaml"))
    loaded = load_phonopy(tmp_path / "phonopy.yaml")
    assert compare(phonon, loaded)["rmse_THz"] < 1e-6
    squeezed = build_phonopy(SWCalculator(), bulk("Si", "diamond", 0.98 * A0), (3, 3, 3))
    diff = compare(squeezed, phonon)
    assert diff["mean_signed_THz"] > 0.1  # compression stiffens SW Si
    assert plot_bands({"a0": res, "0.98 a0": analyse(squeezed, (6, 6, 6))},
                      tmp_path / "bands.png").stat().st_size > 10_000
    assert plot_dos_thermal({"a0": res}, tmp_path / "dos.png").stat().st_size > 10_000
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_phonopy(tmp_path / "missing.yaml")


def test_imaginary_modes_are_reported_not_hidden():
    """Reversed SW forces make every optical mode imaginary: they must show as negative."""
    calc = SWCalculator()

    def reversed_forces(atoms):
        atoms = atoms.copy()
        atoms.calc = calc
        return -atoms.get_forces()

    phonon = build_phonopy(ForcesFrom(reversed_forces), bulk("Si", "diamond", A0), (2, 2, 2))
    res = analyse(phonon, mesh=(4, 4, 4))
    assert res["gamma_frequencies_THz"][0] < -15.0
    assert res["n_imaginary_band_points"] > 0 and res["n_imaginary_mesh_modes"] > 0
    assert res["min_frequency_THz"] < -15.0


def test_bad_supercell_is_named():
    with pytest.raises(ValueError, match="supercell_matrix"):
        build_phonopy(SWCalculator(), bulk("Si", "diamond", A0), (2, 2))


def test_cli_writes_plots_and_the_same_gamma_frequencies(sw_phonons, tmp_path):
    from nnpcalc.cli import main

    assert main(["phonons", "teacher", "--supercell", "2", "--mesh", "4",
                 "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "phonons.json").read_text())
    assert res["gamma_optical_THz"] == pytest.approx(sw_phonons[1]["gamma_optical_THz"],
                                                     abs=1e-3)
    assert (tmp_path / "bands.png").is_file() and (tmp_path / "dos_thermal.png").is_file()
