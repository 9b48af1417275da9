"""Checks on input structures, so bad input fails loudly instead of giving NaN energies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, chemical_symbols


def species_indices(atoms: Atoms, species: Sequence[str]) -> np.ndarray:
    """Index of each atom's element in `species`, −1 for elements not in it."""
    lookup = np.full(len(chemical_symbols), -1, dtype=np.int64)
    for k, symbol in enumerate(species):
        lookup[atomic_numbers[symbol]] = k
    return lookup[atoms.numbers]


class StructureError(ValueError):
    """A structure cannot be evaluated; the message names the structure and the problem."""


def check_structure(atoms: Atoms, species: Sequence[str] | None = None, label: str = "") -> None:
    """Raise StructureError for empty, non-finite, zero-volume or unknown-element input."""
    where = f"structure {label}: " if label else ""
    if len(atoms) == 0:
        raise StructureError(f"{where}it has no atoms")
    positions = atoms.positions
    with np.errstate(over="ignore"):  # one reduction first: NaN or inf anywhere propagates
        suspect = not np.isfinite(positions.sum())
    if suspect and not np.isfinite(positions).all():
        bad = np.flatnonzero(~np.all(np.isfinite(positions), axis=1))
        raise StructureError(f"{where}non-finite positions for atoms {bad[:10].tolist()}")
    cell = atoms.cell.array
    if not np.isfinite(cell).all():
        raise StructureError(f"{where}the cell contains NaN or inf")
    pbc = atoms.pbc
    if pbc.any():
        periodic_vectors = cell[pbc]
        lengths = np.linalg.norm(periodic_vectors, axis=1)
        if np.any(lengths < 1e-8):
            raise StructureError(f"{where}periodic along an axis with a zero-length cell vector")
        if pbc.all() and abs(np.linalg.det(cell)) < 1e-8:
            raise StructureError(f"{where}the cell has zero volume under periodic boundaries")
    if species is not None and (species_indices(atoms, species) < 0).any():
        unknown = sorted({chemical_symbols[z] for z in np.unique(atoms.numbers)} - set(species))
        if unknown:
            raise StructureError(
                f"{where}element(s) {', '.join(unknown)} not known to this model "
                f"(it knows {', '.join(species)})"
            )
