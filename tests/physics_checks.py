"""Reusable physics checks for any ASE calculator: finite differences and invariances."""

from __future__ import annotations

import numpy as np
from ase import Atoms


def energy(calc, atoms: Atoms) -> float:
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy()


def finite_difference_forces(calc, atoms: Atoms, delta: float = 1e-4) -> np.ndarray:
    """−∂E/∂R by central differences on every coordinate."""
    forces = np.zeros((len(atoms), 3))
    for a in range(len(atoms)):
        for c in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[a, c] += delta
            minus.positions[a, c] -= delta
            forces[a, c] = -(energy(calc, plus) - energy(calc, minus)) / (2 * delta)
    return forces


def finite_difference_stress(calc, atoms: Atoms, delta: float = 1e-5) -> np.ndarray:
    """(1/V) ∂E/∂ε by central differences of symmetric strains, Voigt order (ASE)."""
    volume = atoms.get_volume()
    pairs = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    stress = np.zeros(6)
    for k, (a, b) in enumerate(pairs):
        values = []
        for sign in (1, -1):
            eps = np.zeros((3, 3))
            eps[a, b] += sign * delta
            eps[b, a] += sign * delta
            if a == b:
                eps[a, a] = sign * delta
            strained = atoms.copy()
            strained.set_cell(atoms.cell[:] @ (np.eye(3) + eps), scale_atoms=True)
            values.append(energy(calc, strained))
        derivative = (values[0] - values[1]) / (2 * delta)
        stress[k] = derivative / volume if a == b else derivative / (2 * volume)
    return stress
