"""Neighbour lists (vesin) for periodic, partly periodic and isolated structures.

Full lists: every pair appears as (i, j) and (j, i); `shifts` are integer cell translations so
that the vector from i to j is ``positions[j] - positions[i] + shifts @ cell``. Cells smaller than
the cutoff are handled by vesin, which returns every periodic image within the cutoff.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=16)
def _vesin(cutoff: float) -> vesin.NeighborList:
    # sorted: pairs grouped by centre atom, which the models' dense pair blocks and the
    # chunked evaluation of local models would otherwise have to sort again
    return vesin.NeighborList(cutoff=cutoff, full_list=True, sorted=True)


def neighbor_list(atoms: Atoms, cutoff: float) -> NeighborList:
    """Full neighbour list of `atoms` within `cutoff` (Å)."""
    pbc = [bool(p) for p in atoms.pbc]
    cell = atoms.cell.array
    positions = atoms.positions
    box = cell if any(pbc) else np.zeros((3, 3))
    # copy=False: vesin's own buffers, copied once by the conversions below
    i, j, shifts, distances = _vesin(float(cutoff)).compute(
        points=positions, box=box, periodic=pbc if any(pbc) else False, quantities="ijSd",
        copy=False,
    )
    return NeighborList(
        i=i.astype(np.int64),
        j=j.astype(np.int64),
        shifts=shifts.astype(np.int64),
        distances=np.array(distances, dtype=np.float64),
    )


class VerletList:
    """A neighbour list built at cutoff + skin and reused while no atom has moved more than
    skin/2 since the build (as MD engines do); every call still returns exactly the pairs
    within the cutoff, so results equal a fresh list's. Any change of elements, cell or pbc
    rebuilds it."""

    def __init__(self, cutoff: float, skin: float):
        if skin < 0:
            raise ValueError(f"skin must be >= 0 Å, got {skin}")
        self.cutoff, self.skin = float(cutoff), float(skin)
        self.builds = 0
        self._key: tuple | None = None
        self._reference: np.ndarray | None = None
        self._candidates: NeighborList | None = None

    def __call__(self, atoms: Atoms) -> NeighborList:
        positions = atoms.get_positions()
        key = (atoms.numbers.tobytes(), np.asarray(atoms.cell[:]).tobytes(),
               tuple(bool(p) for p in atoms.pbc))
        moved = (np.inf if self._reference is None or key != self._key
                 else np.abs(positions - self._reference).max(initial=0.0) * np.sqrt(3))
        if moved > 0.5 * self.skin or self.skin == 0:
            self._candidates = neighbor_list(atoms, self.cutoff + self.skin)
            self._key, self._reference = key, positions.copy()
            self.builds += 1
        nl = self._candidates
        vectors = positions[nl.j] - positions[nl.i] + nl.shifts @ np.asarray(atoms.cell[:])
        distances = np.linalg.norm(vectors, axis=1)
        keep = distances < self.cutoff
        return NeighborList(nl.i[keep], nl.j[keep], nl.shifts[keep], distances[keep])
