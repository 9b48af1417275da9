"""Phonons against independent references: ase.phonons and phonopy fed by LAMMPS forces."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.phonons import Phonons
from lammps_reference import lammps_sw, requires_lammps

from nnpcalc.analysis.phonons import build_phonopy, compare, frequencies_on_path, phonons
from nnpcalc.teachers import SWCalculator

THZ_PER_EV = 241.79893  # 1 eV / h in THz


@pytest.fixture(scope="module")
def sw_phonons():
    unit = bulk("Si", "diamond", 5.431)
    return phonons(SWCalculator(), unit, (3, 3, 3), mesh=(8, 8, 8))


def test_acoustic_modes_vanish_at_gamma_and_no_imaginary_modes(sw_phonons):
    _, res = sw_phonons
    assert res["max_acoustic_gamma_THz"] < 1e-3
    assert res["n_imaginary_band_points"] == 0
    assert 15.0 < res["gamma_optical_THz"] < 19.0  # SW Si optical mode ~ 17.8 THz
    assert len(res["bands"]["tick_labels"]) == len(res["bands"]["distances"]) + 1


def test_matches_ase_phonons_with_the_same_calculator(sw_phonons, tmp_path):
    phonon, _ = sw_phonons
    unit = bulk("Si", "diamond", 5.431)
    ref = Phonons(unit, SWCalculator(), supercell=(3, 3, 3), delta=0.01,
                  name=str(tmp_path / "ph"))
    ref.run()
    ref.read(acoustic=True)
    qpoints = np.array([[0, 0, 0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.0], [0.25, 0.25, 0.0]])
    ase_thz = ref.band_structure(qpoints) * THZ_PER_EV  # ASE: q in units of the reciprocal cell
    ours = frequencies_on_path(phonon, qpoints)
    np.testing.assert_allclose(np.sort(ours, axis=1), np.sort(ase_thz, axis=1), atol=0.05)
    assert np.sort(ours, axis=1)[1:, 0].min() > 1.0  # a real comparison away from Γ


class LammpsForces:
    """Minimal ASE-like calculator returning LAMMPS SW forces (an independent engine)."""

    def predict(self, structures):
        return [{"forces": lammps_sw(a)["forces"]} for a in structures]


@requires_lammps
def test_matches_phonopy_driven_by_lammps_forces(sw_phonons):
    phonon, _ = sw_phonons
    unit = bulk("Si", "diamond", 5.431)
    reference = build_phonopy(LammpsForces(), unit, np.diag([3, 3, 3]))
    diff = compare(phonon, reference)
    assert diff["rmse_THz"] < 1e-3
