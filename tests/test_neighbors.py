"""Neighbour lists: the Verlet list with a skin returns exactly what a fresh list returns."""

from __future__ import annotations

import numpy as np
from ase.build import bulk
from ase.md.verlet import VelocityVerlet
from ase.units import fs

from nnpcalc.calculator import NNPCalculator
from nnpcalc.neighbors import VerletList, neighbor_list


def _pairs(nl) -> set:
    return {(int(i), int(j), *map(int, s)) for i, j, s in zip(nl.i, nl.j, nl.shifts,
                                                              strict=True)}


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
