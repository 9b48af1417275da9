"""Neighbour lists (vesin) for periodic, partly periodic and isolated structures.

Full lists: every pair appears as (i, j) and (j, i); `shifts` are integer cell translations so
that the vector from i to j is ``positions[j] - positions[i] + shifts @ cell``. Cells smaller than
the cutoff are handled by vesin, which returns every periodic image within the cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import vesin
from ase import Atoms


@dataclass
class NeighborList:
    """Pairs within the cutoff for one structure."""

    i: np.ndarray  # (n_pairs,) int64
    j: np.ndarray  # (n_pairs,) int64
    shifts: np.ndarray  # (n_pairs, 3) int64
    distances: np.ndarray  # (n_pairs,) float64


def neighbor_list(atoms: Atoms, cutoff: float) -> NeighborList:
    """Full neighbour list of `atoms` within `cutoff` (Å)."""
    pbc = [bool(p) for p in atoms.pbc]
    cell = np.asarray(atoms.cell[:], dtype=np.float64)
    positions = atoms.get_positions()
    box = cell if any(pbc) else np.zeros((3, 3))
    calculator = vesin.NeighborList(cutoff=float(cutoff), full_list=True)
    i, j, shifts, distances = calculator.compute(
        points=positions, box=box, periodic=pbc if any(pbc) else False, quantities="ijSd"
    )
    return NeighborList(
        i=i.astype(np.int64),
        j=j.astype(np.int64),
        shifts=shifts.astype(np.int64),
        distances=distances.astype(np.float64),
    )
