"""Test structures shared by the physics checks of every model and calculator."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import bulk


def rattled_diamond(seed: int = 1, repeat: int = 1, stdev: float = 0.08) -> Atoms:
    atoms = bulk("Si", "diamond", a=5.43, cubic=True).repeat(repeat)
    atoms.rattle(stdev, seed=seed)
    return atoms


def triclinic_si(seed: int = 2) -> Atoms:
    cell = np.array([[3.9, 0.2, 0.1], [1.1, 3.7, -0.3], [0.4, 0.9, 4.2]])
    rng = np.random.default_rng(seed)
    frac = np.array([[0.0, 0.0, 0.0], [0.26, 0.24, 0.27], [0.5, 0.55, 0.1], [0.8, 0.3, 0.6]])
    atoms = Atoms("Si4", scaled_positions=frac + rng.normal(0, 0.01, frac.shape), cell=cell,
                  pbc=True)
    return atoms


def small_primitive_si(seed: int = 3) -> Atoms:
    """2 atoms in a cell much smaller than a 6 Å cutoff: many images of each atom count."""
    atoms = bulk("Si", "diamond", a=5.43)
    atoms.rattle(0.05, seed=seed)
    return atoms


def rattled_sic(seed: int = 4) -> Atoms:
    atoms = bulk("SiC", "zincblende", a=4.36, cubic=True)
    atoms.rattle(0.06, seed=seed)
    return atoms


def si_cluster(seed: int = 5) -> Atoms:
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.pbc = False
    atoms.center(vacuum=4.0)
    atoms.rattle(0.05, seed=seed)
    return atoms


def random_rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q
