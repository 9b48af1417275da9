"""Invariant-point detection: which structures pin atomic energies, and why others do not."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from nnpcalc.analysis.invariant import classify, find_invariant_points, probe_families
from nnpcalc.sampling import PHASES, crystal, strained, vacancy
from nnpcalc.teachers import SWCalculator


@pytest.mark.parametrize("phase", PHASES)
def test_every_probe_phase_is_a_single_orbit_crystal(phase):
    info = classify(crystal(phase).repeat(2), cutoff=6.0)
    assert info.is_invariant and info.kind == "single_orbit_crystal", info.reason


def test_strained_crystal_stays_invariant_when_the_orbit_stays_single():
    info = classify(strained(crystal("diamond"), [0.02, -0.01, 0.0, 0.0, 0.0, 0.0]), 6.0)
    assert info.is_invariant
    sheared = strained(crystal("fcc"), [0.0, 0.0, 0.0, 0.03, 0.01, 0.02])
    assert classify(sheared, 6.0).is_invariant  # one atom per cell: always one orbit


def test_vacancy_rattled_and_two_orbit_cells_are_not_invariant():
    cell = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
    info = classify(vacancy(cell, 0), 6.0)
    assert not info.is_invariant and "Wyckoff orbits for Si" in info.reason
    rattled = cell.copy()
    rattled.rattle(0.05, seed=1)
    assert not classify(rattled, 6.0).is_invariant
    # layers at unequal spacings along z: no operation maps one atom onto another
    layered = Atoms("Si3", positions=[[0, 0, 0], [0, 0, 2.3], [0, 0, 4.9]],
                    cell=[2.8, 2.8, 7.3], pbc=True)
    info = classify(layered, 6.0)
    assert not info.is_invariant and info.reason.startswith("3 Wyckoff orbits")


def test_two_species_are_not_pinned_even_with_one_orbit_each():
    info = classify(bulk("SiC", "zincblende", 4.36), 6.0)
    assert not info.is_invariant and "per-species shift" in info.reason


def test_isolated_atom_and_dimers():
    assert classify(Atoms("Si", positions=[[0, 0, 0]]), 6.0).kind == "isolated_atom"
    far = Atoms("Si2", positions=[[0, 0, 0], [7.0, 0, 0]])
    assert classify(far, 6.0).kind == "isolated_atom"
    assert classify(Atoms("Si2", positions=[[0, 0, 0], [2.3, 0, 0]]), 6.0).kind == \
        "symmetric_dimer"
    trimer = Atoms("Si3", positions=[[0, 0, 0], [2.3, 0, 0], [0, 2.4, 0]])
    assert not classify(trimer, 6.0).is_invariant


def test_find_invariant_points_references_and_reasons():
    calc = SWCalculator()
    structures = probe_families("Si", volume_factors=(0.95, 1.05), phases=("diamond", "fcc"))
    cell = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
    structures.append(vacancy(cell, 3))
    energies = [r["energy"] for r in calc.predict(structures)]
    points, rejected = find_invariant_points(structures, energies, cutoff=calc.cutoff,
                                             isolated_atom_energies={"Si": 0.0},
                                             with_reasons=True)
    assert list(rejected) == [len(structures) - 1]
    families = {p.family for p in points}
    assert families == {"diamond", "fcc", "dimer", "isolated_atom"}
    for p in points:
        assert p.reference_eV_per_atom == pytest.approx(energies[p.index] / p.n_atoms)
    sw_diamond = [p for p in points if p.family == "diamond"]
    assert all(-4.34 < p.reference_eV_per_atom < -4.2 for p in sw_diamond)
    assert np.isclose(min(p.volume_A3_per_atom for p in sw_diamond), 20.45 * 0.95)
