"""Defect formation energies of the SW teacher vs LAMMPS minimisation, shell sums."""

from __future__ import annotations

import pytest
from lammps_reference import lammps_sw_minimized_energy, requires_lammps

from nnpcalc.analysis.defects import _starts, defect_cell, formation_energy
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


def test_shell_decomposition_sums_to_the_formation_energy(vacancy):
    shells = vacancy["shells"]
    assert shells["cumulative_eV"][-1] == pytest.approx(vacancy["formation_energy_eV"],
                                                        abs=1e-8)


def test_interstitial_formation_is_positive_and_named():
    res = formation_energy(SWCalculator(), "tetrahedral", A0, size=2, decompose=False)
    assert res["n_atoms"] == 65 and res["formation_energy_eV"] > 3.0
    with pytest.raises(ValueError, match="unknown defect"):
        formation_energy(SWCalculator(), "antisite", A0)
