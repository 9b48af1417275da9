"""Replica ensemble: K models trained from different seeds; their spread is the uncertainty."""

from __future__ import annotations

import torch

from nnpcalc.models.bpnn import BPNN


class Ensemble(torch.nn.Module):
    """Returns per-atom energies of every member, shape (K, n_atoms)."""

    kind = "ensemble"

    def __init__(self, members: list[BPNN]):
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        first = members[0]
        for m in members[1:]:
            if m.species != first.species or m.acsf.params != first.acsf.params:
                raise ValueError("ensemble members must share species and descriptor parameters")
        self.members = torch.nn.ModuleList(members)
        self.species = first.species

    @property
    def cutoff(self) -> float:
        return self.members[0].cutoff

    def config(self) -> dict:
        return {"members": [m.config() for m in self.members]}

    def features(self, species, edge_i, edge_j, vectors) -> torch.Tensor:
        return self.members[0].features(species, edge_i, edge_j, vectors)

    def forward(self, species, edge_i, edge_j, vectors) -> torch.Tensor:
        # Members share the descriptor, so it is computed once for all of them.
        g = self.features(species, edge_i, edge_j, vectors)
        return torch.stack([m.energies_from_features(species, g) for m in self.members])
