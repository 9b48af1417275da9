"""Structures with their labels as cached graphs, joined into training batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nnpcalc.batch import AtomsBatch, StructureGraph, collate, structure_graph
from nnpcalc.train.data import Labelled


@dataclass
class LabelBatch:
    """Reference values aligned with an AtomsBatch (masks mark which labels exist)."""

    energy: torch.Tensor  # (B,)
    weight: torch.Tensor  # (B,)
    size: torch.Tensor  # (B,) atoms per structure / mean atoms per training structure
    forces: torch.Tensor  # (N, 3)
    forces_mask: torch.Tensor  # (N,) bool
    atom_weight: torch.Tensor  # (N,) structure weight × optional GDF weight
    stress: torch.Tensor  # (B, 6) eV/Å^3
    stress_mask: torch.Tensor  # (B,) bool
    stress_weight: torch.Tensor  # (B,) structure weight × stress group weight


class GraphSet:
    """Graphs of labelled structures, built once (neighbour lists are not redone per epoch)."""

    def __init__(self, items: Sequence[Labelled], species: Sequence[str], cutoff: float):
        self.items = list(items)
        self.graphs: list[StructureGraph] = [
            structure_graph(it.atoms, species, cutoff, min_distance=0.1, label=it.source)
            for it in self.items
        ]
        self.gdf: list[np.ndarray] | None = None
        self.size_reference = 1.0  # mean atoms per training structure, set by the trainer

    def __len__(self) -> int:
        return len(self.items)

    def batch(self, indices: Sequence[int], dtype: torch.dtype,
              device: torch.device | str) -> tuple[AtomsBatch, LabelBatch]:
        items = [self.items[k] for k in indices]
        graphs = collate([self.graphs[k] for k in indices], dtype, device)

        def t(values, tdtype=dtype):
            return torch.as_tensor(np.asarray(values), dtype=tdtype, device=device)

        forces, fmask, aweight = [], [], []
        for k, it in zip(indices, items, strict=True):
            n = len(it.atoms)
            has = it.forces is not None
            forces.append(it.forces if has else np.zeros((n, 3)))
            fmask.append(np.full(n, has))
            gdf = self.gdf[k] if self.gdf is not None else np.ones(n)
            aweight.append(it.weight * gdf)
        stress = [it.stress if it.stress is not None else np.zeros(6) for it in items]
        labels = LabelBatch(
            energy=t([it.energy for it in items]),
            weight=t([it.weight for it in items]),
            size=t([len(it.atoms) / self.size_reference for it in items]),
            forces=t(np.concatenate(forces)),
            forces_mask=t(np.concatenate(fmask), torch.bool),
            atom_weight=t(np.concatenate(aweight)),
            stress=t(np.stack(stress)),
            stress_mask=t([it.stress is not None and it.atoms.pbc.all() for it in items],
                          torch.bool),
            stress_weight=t([it.weight * it.stress_weight for it in items]),
        )
        return graphs, labels
