"""Neighbour lists: the Verlet list with a skin returns exactly what a fresh list returns."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import bulk, fcc111
from ase.md.verlet import VelocityVerlet
from ase.units import fs

from nnpcalc import neighbors
from nnpcalc.calculator import NNPCalculator
from nnpcalc.neighbors import VerletList, neighbor_list, neighbor_lists


def _pairs(nl) -> set:
    return {(int(i), int(j), *map(int, s)) for i, j, s in zip(nl.i, nl.j, nl.shifts,
                                                              strict=True)}


def _distances(nl) -> dict:
    return {(int(i), int(j), *map(int, s)): float(d)
            for i, j, s, d in zip(nl.i, nl.j, nl.shifts, nl.distances, strict=True)}


def test_lists_of_many_structures_equal_one_list_each(monkeypatch):
    """Runs sharing a cell share a build: the pairs, shifts and distances must still be each
    structure's own, pairs grouped by centre; a structure that moved beyond skin/2, a new
    cell, a slab, a cluster and a skewed 2-atom cell each break a run."""
    rng = np.random.default_rng(3)
    diamond = bulk("Si", "diamond", 5.43, cubic=True)
    skewed = bulk("Si", "diamond", 5.43)
    skewed.set_cell(skewed.cell[:] + [[0.3, 0, 0], [0, 0, 0], [0, 0.4, 0]], scale_atoms=True)
    structures = []
    for _ in range(5):
        atoms = diamond.copy()
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        structures.append(atoms)
    far = diamond.copy()
    far.positions[3] += [0.8, 0.0, 0.0]  # moved more than skin/2: rebuilt
    structures += [far, far.copy(), diamond.copy(), skewed, skewed.copy(),
                   fcc111("Si", (2, 2, 2), a=5.4, vacuum=4.0),
                   Atoms("Si3", [[0, 0, 0], [2.3, 0, 0], [0, 2.2, 0.4]])]
    structures[7].set_cell(diamond.cell[:] * 1.02, scale_atoms=True)
    structures[9].positions[0] += [0.05, -0.02, 0.0]
    builds = []
    monkeypatch.setattr(neighbors, "neighbor_list",
                        lambda atoms, cutoff: builds.append(cutoff) or neighbor_list(atoms, cutoff))
    lists = neighbor_lists(structures, 4.0, skin=1.0)
    assert len(lists) == len(structures)
    assert builds == [5.0, 5.0, 4.0, 5.0, 4.0, 4.0]  # runs 0-4, 5-6, 7, 8-9, 10, 11
    for atoms, nl in zip(structures, lists, strict=True):
        fresh = neighbor_list(atoms, 4.0)
        got, want = _distances(nl), _distances(fresh)
        assert got.keys() == want.keys()
        np.testing.assert_allclose([got[k] for k in want], list(want.values()), atol=1e-12)
        assert np.all(np.diff(nl.i) >= 0)
        vectors = atoms.positions[nl.j] - atoms.positions[nl.i] + nl.shifts @ atoms.cell[:]
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), nl.distances, atol=1e-12)


def test_verlet_list_equals_a_fresh_list_while_atoms_move():
    atoms = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
    verlet = VerletList(4.0, skin=0.6)
    rng = np.random.default_rng(0)
    for _ in range(12):
        atoms.positions += rng.normal(scale=0.04, size=atoms.positions.shape)
        reused, fresh = verlet(atoms), neighbor_list(atoms, 4.0)
        assert _pairs(reused) == _pairs(fresh)
    assert 1 < verlet.builds < 12  # reused most steps, rebuilt once atoms moved skin/2
    atoms.set_cell(atoms.cell[:] * 1.01, scale_atoms=True)  # a new cell always rebuilds
    builds = verlet.builds
    assert _pairs(verlet(atoms)) == _pairs(neighbor_list(atoms, 4.0))
    assert verlet.builds == builds + 1


def test_md_with_a_skin_gives_the_same_trajectory(si_model):
    def run(skin):
        atoms = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
        atoms.rattle(0.05, seed=1)
        atoms.calc = NNPCalculator(si_model, dtype="float64", skin=skin)
        VelocityVerlet(atoms, 2 * fs).run(20)
        return atoms.positions.copy(), atoms.get_forces(), atoms.calc.neighbors.builds

    reused, fresh = run(0.8), run(0.0)
    np.testing.assert_allclose(reused[0], fresh[0], atol=1e-12)
    np.testing.assert_allclose(reused[1], fresh[1], atol=1e-12)
    assert reused[2] < fresh[2] / 5
