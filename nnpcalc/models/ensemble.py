"""Replica ensemble: K models trained from different seeds; their spread is the uncertainty.

Members may be of any kind (or mixed kinds) sharing species and cutoff. Members whose
`feature_signature()` agree compute their shared input (e.g. the ACSF) once.
"""

from __future__ import annotations

import torch

from nnpcalc.models.registry import model_class


def _signature(model: torch.nn.Module):
    method = getattr(model, "feature_signature", None)
    return None if method is None else method()


class Ensemble(torch.nn.Module):
    """Returns per-atom energies of every member, shape (K, n_atoms)."""

    kind = "ensemble"
    Settings = None  # built by training replicas (`replicas: K`), not from a settings block

    def __init__(self, members: list[torch.nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        first = members[0]
        for m in members[1:]:
            if list(m.species) != list(first.species) or m.cutoff != first.cutoff:
                raise ValueError("ensemble members must share species and cutoff; got "
                                 f"{first.species}/{first.cutoff} Å and {m.species}/{m.cutoff} Å")
        self.members = torch.nn.ModuleList(members)
        self.species = list(first.species)
        signature = _signature(first)
        self._shared = signature is not None and all(_signature(m) == signature
                                                     for m in members)
        self.local = all(getattr(m, "local", False) for m in members)

    @property
    def cutoff(self) -> float:
        return self.members[0].cutoff

    def config(self) -> dict:
        return {"members": [{"kind": m.kind, "config": m.config()} for m in self.members]}

    @classmethod
    def from_config(cls, config: dict) -> Ensemble:
        return cls([model_class(m["kind"]).from_config(m["config"]) for m in config["members"]])

    def isolated_energies(self) -> dict[str, float] | None:
        """Guaranteed only when every member guarantees the same values."""
        values = [getattr(m, "isolated_energies", lambda: None)() for m in self.members]
        return values[0] if all(v is not None and v == values[0] for v in values) else None

    def feature_signature(self):
        return _signature(self.members[0]) if self._shared else None

    def features(self, species, edge_i, edge_j, vectors) -> torch.Tensor:
        return self.members[0].features(species, edge_i, edge_j, vectors)

    def forward(self, species, edge_i, edge_j, vectors, batch=None) -> torch.Tensor:
        if self._shared:
            g = self.features(species, edge_i, edge_j, vectors)
            return torch.stack([m.energies_from_features(species, g) for m in self.members])
        return torch.stack([m(species, edge_i, edge_j, vectors, batch) for m in self.members])

    def local_energies(self, species, edge_i, neighbour_species, vectors) -> torch.Tensor:
        """(K, n_centres) energies from the centres' own pairs; only when `self.local`."""
        if not self.local:
            raise TypeError("local_energies needs every member to be a local model")
        args = (species, edge_i, neighbour_species, vectors)
        if self._shared:
            g = self.members[0].local_features(*args)
            return torch.stack([m.energies_from_features(species, g) for m in self.members])
        return torch.stack([m.local_energies(*args) for m in self.members])
