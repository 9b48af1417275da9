"""Defect formation energies: SW vacancy vs LAMMPS minimisation, symmetry-broken starts,
perfect-crystal shells that add up to E_f, cell relaxation, antisites with an EMT alloy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from lammps_reference import lammps_sw_minimized_energy, requires_lammps

from nnpcalc.analysis.defects import (
    SPURIOUS_RELAXATION_EV,
    _starts,
    antisite_cell,
    defect_cell,
    formation_at_reference_geometry,
    formation_energy,
    plot_convergence,
    point_defect,
    relaxation_warning,
    size_convergence,
)
from nnpcalc.analysis.relax import relax
from nnpcalc.sampling import diamond_supercell
from nnpcalc.teachers import SWCalculator

A0 = 5.431


@pytest.fixture(scope="module")
def vacancy():
    return formation_energy(SWCalculator(), "vacancy", A0, size=2)


@requires_lammps
def test_vacancy_formation_matches_lammps_minimisation(vacancy):
    cell, site = defect_cell("vacancy", A0, 2)
    mu = vacancy["mu_eV_per_atom"]
    lammps = min(lammps_sw_minimized_energy(s) for s in _starts(cell, "vacancy", site, 0))
    assert vacancy["formation_energy_eV"] == pytest.approx(lammps - len(cell) * mu, abs=0.02)


def test_symmetric_start_stays_unrelaxed_and_broken_start_relaxes(vacancy):
    starts = vacancy["start_energies_eV"]
    assert starts[0] == pytest.approx(vacancy["unrelaxed_formation_energy_eV"], abs=1e-3)
    assert vacancy["formation_energy_eV"] < vacancy["unrelaxed_formation_energy_eV"] - 1.0
    assert 2.6 < vacancy["formation_energy_eV"] < 3.0  # SW relaxed vacancy (PITFALLS.md)
    assert vacancy["mu_eV_per_atom"] == pytest.approx(-4.3366, abs=1e-4)  # SW cohesive energy


def test_shells_are_perfect_crystal_shells_and_sum_to_the_formation_energy(vacancy):
    shells = vacancy["shells"]
    assert shells["reservoir_eV"] == pytest.approx(0.0, abs=1e-9)  # elemental crystal
    assert shells["cumulative_eV"][-1] == pytest.approx(vacancy["formation_energy_eV"],
                                                        abs=1e-8)
    radii = np.array([np.sqrt(3) / 4, np.sqrt(2) / 2, np.sqrt(11) / 4]) * A0
    np.testing.assert_allclose(shells["shell_radius_A"][:3], radii, atol=1e-6)
    assert shells["shell_size"][:3] == [4, 12, 12]
    # Relaxation spreads the energy: the first shell no longer carries all of it.
    assert 0.2 < shells["shell_energy_eV"][0] / vacancy["formation_energy_eV"] < 0.9


def test_cell_relaxation_can_only_lower_the_energy_and_series_plots(tmp_path):
    calc = SWCalculator()
    free = formation_energy(calc, "tetrahedral", A0, size=1, decompose=False, relax_cell=True)
    fixed = formation_energy(calc, "tetrahedral", A0, size=1, decompose=False)
    assert free["fixed_cell_formation_energy_eV"] == pytest.approx(fixed["formation_energy_eV"])
    # An interstitial in 9 atoms strains the cell a lot: releasing it must pay.
    assert free["formation_energy_eV"] < fixed["formation_energy_eV"] - 0.05
    series = size_convergence(calc, "split110", A0, sizes=(1, 2), decompose=False)
    assert [r["n_atoms"] for r in series] == [9, 65]
    assert all(r["formation_energy_eV"] > 3.0 for r in series)
    assert plot_convergence({"split110": series}, tmp_path / "c.png",
                            {"ref": 4.0}).stat().st_size > 5000


def _relaxed_energy_per_atom(atoms, calc):
    return relax(atoms, calc, fmax=1e-4, cell=True)["energy_eV"] / len(atoms)


def test_antisite_in_an_emt_alloy_without_predict():
    """Cu3Au (L1_2) with ASE's EMT: a plain ASE calculator, two species, μ from the elements."""
    calc = EMT()
    unit = Atoms("AuCu3", scaled_positions=[[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]],
                 cell=np.eye(3) * 3.75, pbc=True)
    unit = relax(unit, calc, fmax=1e-4, cell=True)["atoms"]
    perfect = unit.repeat(2)
    mu = {s: _relaxed_energy_per_atom(bulk(s, "fcc", a), calc)
          for s, a in (("Cu", 3.6), ("Au", 4.08))}
    index = 1  # a Cu site
    defect, site = antisite_cell(perfect, index, "Au")
    res = point_defect(calc, perfect, defect, site, mu, fmax=1e-3, kind="Au_Cu")
    assert res["atoms_added"] == {"Au": 1, "Cu": -1}
    direct = relax(defect, calc, fmax=1e-3)["energy_eV"]
    perfect.calc = calc
    expected = direct - perfect.get_potential_energy() - mu["Au"] + mu["Cu"]
    assert res["formation_energy_eV"] == pytest.approx(expected, abs=2e-3)
    shells = res["shells"]
    assert shells["total_eV"] + shells["reservoir_eV"] == pytest.approx(
        res["formation_energy_eV"], abs=1e-8)
    assert shells["shell_size"][0] == 1  # the antisite atom itself
    with pytest.raises(ValueError, match="chemical potential.*Au, Cu"):
        point_defect(calc, perfect, defect, site)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown defect"):
        formation_energy(SWCalculator(), "antisite", A0)
    with pytest.raises(ValueError, match="multi-element"):
        antisite_cell(bulk("Si", "diamond", A0), 0, "C")
    with pytest.raises(ValueError, match="size"):
        formation_energy(SWCalculator(), "vacancy", A0, size=0)


def test_cli_writes_plots_and_the_same_vacancy_energy(vacancy, tmp_path):
    from nnpcalc.cli import main

    assert main(["defects", "teacher", "--kinds", "vacancy", "--sizes", "2",
                 "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "defects.json").read_text())
    assert res["vacancy"][0]["formation_energy_eV"] == pytest.approx(
        vacancy["formation_energy_eV"], abs=2e-3)  # own a0 from the EOS vs 5.431 Å
    assert (tmp_path / "convergence.png").is_file() and (tmp_path / "vacancy_shells.png").is_file()


def test_ensemble_spread_reaches_the_shells():
    """A calculator reporting energies_std: each shell carries the spread of its atoms."""
    sw = SWCalculator()

    class Ensemble:
        def predict(self, structures):
            out = sw.predict(structures)
            for res, atoms in zip(out, structures, strict=True):
                res["energies_std"] = np.full(len(atoms), 0.01)
            return out

        def __getattr__(self, name):  # the ASE interface, for the relaxations
            return getattr(sw, name)

    perfect = bulk("Si", "diamond", A0).repeat(2)
    defect, site = perfect[1:], perfect.positions[0]
    res = point_defect(Ensemble(), perfect, defect, site, kind="vacancy")
    assert res["shells"]["shell_std_eV"][0] == pytest.approx(0.01 * 2)  # √4 atoms × 0.01


def test_vacancy_at_its_own_minimum_releases_nothing_and_a_far_geometry_warns(vacancy):
    """At the model's own relaxed geometry, the at-geometry formation energy is the relaxed
    one; labels 1 meV/atom above SW on the defect cell only make the reference 63 meV higher;
    at a geometry far from the minimum (neighbours pushed 0.4 Å into the vacancy) the release
    exceeds what force errors explain."""
    sw = SWCalculator()

    def labelled(atoms, offset_per_atom=0.0):
        atoms = atoms.copy()
        energy = sw.get_potential_energy(atoms) + offset_per_atom * len(atoms)
        atoms.calc = SinglePointCalculator(atoms, energy=energy)
        return atoms

    perfect = labelled(diamond_supercell("Si", A0, 2))
    own = formation_at_reference_geometry(sw, labelled(vacancy["relaxed_atoms"], 1e-3), perfect)
    assert own["n_atoms"] == 63
    assert own["model_eV"] == pytest.approx(vacancy["formation_energy_eV"], abs=1e-6)
    assert own["reference_eV"] == pytest.approx(own["model_eV"] + 0.063, abs=1e-9)
    assert own["diff_eV"] == pytest.approx(-0.063, abs=1e-9)
    unlabelled = formation_at_reference_geometry(sw, vacancy["relaxed_atoms"].copy(), perfect)
    assert "reference_eV" not in unlabelled and "diff_eV" not in unlabelled
    assert unlabelled["model_eV"] == pytest.approx(own["model_eV"], abs=1e-9)
    assert relaxation_warning(vacancy["formation_energy_eV"], own["model_eV"], "vacancy") is None
    cell, site = defect_cell("vacancy", A0, 2)
    pushed = _starts(cell, "vacancy", site, 0)[-1]
    far = formation_at_reference_geometry(sw, labelled(pushed), perfect)
    assert far["model_eV"] - vacancy["formation_energy_eV"] > SPURIOUS_RELAXATION_EV
    warning = relaxation_warning(vacancy["formation_energy_eV"], far["model_eV"], "vacancy")
    assert "vacancy" in warning and "below its own energy at the DFT geometry" in warning
    with pytest.raises(ValueError, match="elemental"):
        formation_at_reference_geometry(sw, bulk("NaCl", "rocksalt", 5.6), perfect)
    with pytest.raises(ValueError, match="share one cell"):  # a 63-atom cell of another lattice
        formation_at_reference_geometry(sw, diamond_supercell("Si", 1.01 * A0, 2)[1:], perfect)
