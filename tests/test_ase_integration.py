"""NNPCalculator inside ASE workflows: MD conserves energy, cell relaxation reaches zero stress."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.filters import FrechetCellFilter
from ase.md.verlet import VelocityVerlet
from ase.optimize import BFGS

from nnpcalc.calculator import NNPCalculator
from nnpcalc.sampling import thermalize


def test_velocity_verlet_conserves_energy(si_model):
    atoms = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
    atoms.calc = NNPCalculator(si_model, dtype="float64")
    thermalize(atoms, 300, np.random.default_rng(0))
    dyn = VelocityVerlet(atoms, 0.5 * units.fs)
    energies = []
    for _ in range(40):
        dyn.run(5)
        energies.append(atoms.get_total_energy())
    kinetic = atoms.get_kinetic_energy()
    assert kinetic > 0.01
    assert np.ptp(energies) < 2e-3 * len(atoms) * 0.0259  # drift ≪ kT per atom


def test_cell_relaxation_reaches_zero_stress():
    """Through the same calculator code path (SWCalculator is an NNPCalculator with the SW
    model), since a random-weight network has no meaningful minimum to relax to."""
    from nnpcalc.teachers import SWCalculator

    atoms = bulk("Si", "diamond", 5.30, cubic=True)
    atoms.rattle(0.02, seed=3)
    atoms.calc = SWCalculator()
    opt = BFGS(FrechetCellFilter(atoms), logfile=None)
    assert opt.run(fmax=1e-4, steps=300)
    assert np.abs(atoms.get_stress()).max() < 1e-4
    assert np.abs(atoms.get_forces()).max() < 1e-4
    assert atoms.cell.lengths() == pytest.approx([5.431] * 3, abs=2e-3)
