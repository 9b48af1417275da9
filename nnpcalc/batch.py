"""Many structures as one graph: concatenated atoms with a batch index, and their pairs.

This is the only input a model sees, so batching is decided here once: `predict` on a list and
one-at-a-time calls build the same per-structure pieces and differ only in how many are joined.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from ase import Atoms

from nnpcalc.neighbors import NeighborList, VerletList, neighbor_list, neighbor_lists
from nnpcalc.structures import StructureError, check_structure, species_indices


@dataclass
class AtomsBatch:
    """Tensors for a batch of structures (all on one device, positions/cell in one dtype)."""

    positions: torch.Tensor  # (n_atoms, 3)
    cell: torch.Tensor  # (n_structures, 3, 3)
    species: torch.Tensor  # (n_atoms,) index into the model's species list
    batch: torch.Tensor  # (n_atoms,) structure index of each atom
    edge_i: torch.Tensor  # (n_pairs,) centre atom (global index)
    edge_j: torch.Tensor  # (n_pairs,) neighbour atom (global index)
    shifts: torch.Tensor  # (n_pairs, 3) integer cell translations, in positions' dtype
    n_atoms: torch.Tensor  # (n_structures,)
    periodic: torch.Tensor  # (n_structures,) True when the cell has a volume (any pbc)
    volume: torch.Tensor  # (n_structures,) |det cell|, Å³ (a constant: stress = virial / V)

    @property
    def n_structures(self) -> int:
        return int(self.n_atoms.shape[0])

    def edge_vectors(self, positions: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        """Vectors from centre to neighbour, differentiable in positions and cell.

        index_select, whose backward is an index_add, not advanced indexing (an index_put)."""
        if cell.shape[0] == 1:
            offsets = self.shifts @ cell[0]
        else:
            edge_cell = cell.index_select(0, self.batch.index_select(0, self.edge_i))
            offsets = torch.einsum("ea,eab->eb", self.shifts, edge_cell)
        return (positions.index_select(0, self.edge_j) - positions.index_select(0, self.edge_i)
                + offsets)


def grouped_order(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(order, keys[order]): a stable order grouping pairs by `keys` (centre atom, slot); the
    identity, without sorting, when they already are (neighbour lists come sorted by centre)."""
    if keys.numel() < 2 or bool((keys[1:] >= keys[:-1]).all()):
        return torch.arange(keys.shape[0], device=keys.device), keys
    order = torch.argsort(keys, stable=True)
    return order, keys.index_select(0, order)


@dataclass
class StructureGraph:
    """One checked structure and its neighbour list, in numpy (cheap to cache and re-join)."""

    positions: np.ndarray
    cell: np.ndarray
    species: np.ndarray
    edge_i: np.ndarray
    edge_j: np.ndarray
    shifts: np.ndarray
    periodic: bool


def structure_graph(
    atoms: Atoms, species: Sequence[str], cutoff: float, min_distance: float = 0.5,
    label: str = "", neighbors: VerletList | None = None,
) -> StructureGraph:
    """Check `atoms` and build its graph; `min_distance` (Å) rejects overlapping atoms.
    `neighbors` (a VerletList at the same cutoff) reuses pairs across calls."""
    check_structure(atoms, species, label)
    nl = neighbors(atoms) if neighbors is not None else neighbor_list(atoms, cutoff)
    return _graph(atoms, species, nl, min_distance, label)


def _graph(atoms: Atoms, species: Sequence[str], nl: NeighborList, min_distance: float,
           label: str) -> StructureGraph:
    """The graph of a checked structure from its pairs."""
    if nl.distances.size and nl.distances.min() < min_distance:
        pair = int(np.argmin(nl.distances))
        raise StructureError(
            f"structure {label}: atoms {nl.i[pair]} and {nl.j[pair]} are "
            f"{nl.distances[pair]:.3f} Å apart, closer than min_distance={min_distance} Å"
        )
    return StructureGraph(
        positions=atoms.get_positions(),
        cell=np.asarray(atoms.cell[:], dtype=np.float64),
        species=species_indices(atoms, species),
        edge_i=nl.i,
        edge_j=nl.j,
        shifts=nl.shifts,
        periodic=bool(atoms.pbc.any()) and abs(atoms.cell.volume) > 1e-8,
    )


def collate(
    graphs: Sequence[StructureGraph],
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> AtomsBatch:
    """Join graphs into one batch, offsetting pair indices by the atoms before them."""
    if len(graphs) == 0:
        raise StructureError("no structures given")
    counts = np.array([len(g.species) for g in graphs])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])

    def cat(parts, tdtype):
        return torch.as_tensor(np.concatenate(parts), dtype=tdtype, device=device)

    return AtomsBatch(
        positions=cat([g.positions for g in graphs], dtype),
        cell=torch.as_tensor(np.stack([g.cell for g in graphs]), dtype=dtype, device=device),
        species=cat([g.species for g in graphs], torch.long),
        batch=cat([np.full(n, k) for k, n in enumerate(counts)], torch.long),
        edge_i=cat([g.edge_i + o for g, o in zip(graphs, offsets, strict=True)], torch.long),
        edge_j=cat([g.edge_j + o for g, o in zip(graphs, offsets, strict=True)], torch.long),
        shifts=cat([g.shifts.reshape(-1, 3) for g in graphs], dtype),
        n_atoms=torch.as_tensor(counts, dtype=torch.long, device=device),
        periodic=torch.as_tensor([g.periodic for g in graphs], dtype=torch.bool, device=device),
        volume=torch.as_tensor(np.abs(np.linalg.det(np.stack([g.cell for g in graphs]))),
                               dtype=dtype, device=device),
    )


def build_batch(
    structures: Sequence[Atoms],
    species: Sequence[str],
    cutoff: float,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    min_distance: float = 0.5,
    first_label: int = 0,
) -> AtomsBatch:
    """Check, build neighbour lists and join; `first_label` numbers structures in errors.
    Structures sharing a cell share neighbour-list builds (`neighbor_lists`)."""
    labels = [str(first_label + k) for k in range(len(structures))]
    for atoms, label in zip(structures, labels, strict=True):
        check_structure(atoms, species, label)
    lists = neighbor_lists(structures, cutoff)
    return collate([_graph(atoms, species, nl, min_distance, label)
                    for atoms, nl, label in zip(structures, lists, labels, strict=True)],
                   dtype, device)


def chunks_by_atoms(structures: Sequence[Atoms], max_atoms: int) -> Iterator[range]:
    """Consecutive index ranges holding at most `max_atoms` atoms (at least one structure)."""
    start, total = 0, 0
    for k, atoms in enumerate(structures):
        if k > start and total + len(atoms) > max_atoms:
            yield range(start, k)
            start, total = k, 0
        total += len(atoms)
    if start < len(structures):
        yield range(start, len(structures))
