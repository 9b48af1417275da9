"""Neighbour lists (vesin) for periodic, partly periodic and isolated structures.

Full lists: every pair appears as (i, j) and (j, i); `shifts` are integer cell translations so
that the vector from i to j is ``positions[j] - positions[i] + shifts @ cell``. Cells smaller than
the cutoff are handled by vesin, which returns every periodic image within the cutoff.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
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


def _same_frame_key(atoms: Atoms) -> tuple:
    return (atoms.numbers.tobytes(), np.asarray(atoms.cell[:]).tobytes(),
            tuple(bool(p) for p in atoms.pbc))


def _max_move(positions: np.ndarray, reference: np.ndarray) -> float:
    """How far the atom that moved most has moved (Å)."""
    step = positions - reference
    return float(np.sqrt(np.einsum("ak,ak->a", step, step).max(initial=0.0)))


def neighbor_lists(structures: Sequence[Atoms], cutoff: float,
                   skin: float = 1.0) -> list[NeighborList]:
    """Full neighbour lists of many structures, equal to `neighbor_list` on each.

    Consecutive structures with the same elements, cell and pbc whose atoms all lie within
    skin/2 of the run's first structure (phonopy displacement sets, rattled sets of one cell,
    fixed-cell trajectories) share one build at cutoff + skin, filtered for all of them in one
    array operation: a build costs ~100 µs even for an 8-atom cell, the filter ~5 µs."""
    lists: list[NeighborList] = []
    start = 0
    while start < len(structures):
        first = structures[start]
        key, reference = _same_frame_key(first), first.positions
        stop = start + 1
        while (stop < len(structures) and _same_frame_key(structures[stop]) == key
               and _max_move(structures[stop].positions, reference) <= 0.5 * skin):
            stop += 1
        if stop - start == 1:
            lists.append(neighbor_list(first, cutoff))
        else:
            lists.extend(_filtered(structures[start:stop], neighbor_list(first, cutoff + skin),
                                   cutoff))
        start = stop
    return lists


def _filtered(run: Sequence[Atoms], candidates: NeighborList,
              cutoff: float) -> list[NeighborList]:
    """The pairs of `candidates` within `cutoff` in each structure of `run` (same cell)."""
    positions = np.stack([atoms.positions for atoms in run])  # (B, N, 3)
    offsets = candidates.shifts @ np.asarray(run[0].cell[:])
    vectors = (np.take(positions, candidates.j, axis=1)
               - np.take(positions, candidates.i, axis=1) + offsets)
    squared = np.einsum("bpk,bpk->bp", vectors, vectors)
    which, pair = np.nonzero(squared < cutoff * cutoff)  # row-major: pairs stay in order
    bounds = np.searchsorted(which, np.arange(1, len(run)))
    parts = [np.split(a, bounds) for a in (candidates.i[pair], candidates.j[pair],
                                           candidates.shifts[pair],
                                           np.sqrt(squared[which, pair]))]
    return [NeighborList(*fields) for fields in zip(*parts, strict=True)]


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
        key = _same_frame_key(atoms)
        moved = (np.inf if self._reference is None or key != self._key
                 else _max_move(positions, self._reference))
        if moved > 0.5 * self.skin or self.skin == 0:
            self._candidates = neighbor_list(atoms, self.cutoff + self.skin)
            self._key, self._reference = key, positions.copy()
            self.builds += 1
        nl = self._candidates
        vectors = positions[nl.j] - positions[nl.i] + nl.shifts @ np.asarray(atoms.cell[:])
        distances = np.linalg.norm(vectors, axis=1)
        keep = distances < self.cutoff
        return NeighborList(nl.i[keep], nl.j[keep], nl.shifts[keep], distances[keep])
