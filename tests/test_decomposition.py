"""Decomposition: per-atom energies in the structure, shell sums add up to the total."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from nnpcalc.analysis.decomposition import (
    atomic_energies,
    plot_histogram,
    plot_shell_profile,
    shell_profile,
)
from nnpcalc.sampling import vacancy
from nnpcalc.teachers import SWCalculator


def test_vacancy_shell_profile_sums_to_the_unrelaxed_formation_energy(tmp_path):
    calc = SWCalculator()
    bulk_cell = bulk("Si", "diamond", 5.431, cubic=True).repeat(3)
    e_bulk = calc.predict([bulk_cell])[0]["energy"] / len(bulk_cell)
    site = bulk_cell.positions[0].copy()
    defect = atomic_energies(calc, vacancy(bulk_cell, 0))
    assert defect.arrays["atomic_energy"].sum() == pytest.approx(defect.info["energy"])
    profile = shell_profile(defect, site, e_bulk)
    formation = defect.info["energy"] - (len(bulk_cell) - 1) * e_bulk
    assert profile["cumulative_eV"][-1] == pytest.approx(formation, abs=1e-9)
    assert profile["shell_size"][0] == 4 and profile["shell_radius_A"][0] == pytest.approx(
        np.sqrt(3) / 4 * 5.431, abs=1e-6)
    # SW (vertex partition): only the four dangling-bond neighbours change energy
    assert profile["shell_energy_eV"][0] == pytest.approx(formation, abs=1e-9)
    plot_histogram(defect, tmp_path / "h.png")
    plot_shell_profile(profile, tmp_path / "s.png")
    assert (tmp_path / "h.png").stat().st_size > 1000


def test_calculators_without_energies_are_refused():
    from ase.calculators.calculator import Calculator, all_changes

    class TotalsOnly(Calculator):
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            self.results = {"energy": 0.0, "forces": np.zeros((len(self.atoms), 3))}

    with pytest.raises(ValueError, match="per-atom energies"):
        atomic_energies(TotalsOnly(), bulk("Si", "diamond", 5.43))


def test_ensemble_spread_is_written_per_atom_and_per_shell(si_model, tmp_path):
    import ase.io
    from conftest import normalised_model

    from nnpcalc.calculator import NNPCalculator
    from nnpcalc.models.ensemble import Ensemble

    other = normalised_model(["Si"], [bulk("Si", "diamond", 5.43, cubic=True)], seed=7)
    ensemble = NNPCalculator(Ensemble([si_model, other]), dtype="float64")
    cell = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
    cell.rattle(0.05, seed=3)
    decomposed = atomic_energies(ensemble, cell)
    members = [NNPCalculator(m, dtype="float64").predict([cell])[0]["energies"]
               for m in (si_model, other)]
    # the ensemble's E_i is the members' mean; the population std of two is half the gap
    assert decomposed.arrays["atomic_energy"] == pytest.approx(np.mean(members, 0), abs=1e-9)
    assert decomposed.arrays["atomic_energy_std"] == pytest.approx(
        np.abs(members[0] - members[1]) / 2, abs=1e-9)
    profile = shell_profile(decomposed, 0, reference_eV=0.0)
    assert sum(profile["shell_size"]) == len(cell)
    assert profile["shell_std_eV"][0] == pytest.approx(decomposed.arrays["atomic_energy_std"][0])
    ase.io.write(tmp_path / "d.extxyz", decomposed)
    back = ase.io.read(tmp_path / "d.extxyz")
    assert back.arrays["atomic_energy_std"] == pytest.approx(  # extxyz keeps 8 decimals
        decomposed.arrays["atomic_energy_std"], abs=1e-8)
    with pytest.raises(ValueError, match="atomic_energy"):
        shell_profile(cell, 0, 0.0)
