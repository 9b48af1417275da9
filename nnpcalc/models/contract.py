"""The model contract: what every model kind provides, and what it may rely on.

A model maps one batch graph to per-atom energies; `potential.evaluate` derives totals, forces,
stress and per-atom virials from them for every kind alike, by autograd through `vectors`. So a
model must be a function of the pair vectors it is given (never of absolute positions), must
return exactly zero gradient for pairs beyond its cutoff, and must give an atom without
neighbours its reference energy when it claims `isolated_atom_exact`.

    forward(species, edge_i, edge_j, vectors, batch) -> energies
        species (n_atoms,) int64   index into `model.species`
        edge_i, edge_j (n_pairs,)  full neighbour list: every pair as (i, j) and (j, i)
        vectors (n_pairs, 3)       r_j − r_i (+ cell shift), Å, the model's dtype
        batch (n_atoms,) int64     structure index of each atom (for per-structure pooling)
        energies (n_atoms,) eV     — an ensemble returns (n_members, n_atoms)

A kind is a `torch.nn.Module` subclass with the class attributes below, registered in
`models.registry` under `kind`. `config()` holds every constructor argument (plain data), and
`from_config(config)` rebuilds the architecture; weights and fitted statistics travel as the
state dict (tensors only), so model files load with ``weights_only=True``.

A trainable kind also names a pydantic `Settings` class (the `model:` block of a training
config, `kind` included) and fits its own statistics — feature normalisation, neighbour counts,
reference energies, a linear start — from the training graphs in `fit_statistics`, which
returns True when that start is a fitted model in its own right (it then competes for the best
checkpoint as epoch 0). A kind may name `grown_settings` ({setting: value}): settings whose
other value only adds terms that start at zero, so that `init_from` can start a bigger model
from a file without them (the trainer checks that the grown model gives the file's per-atom
energies). Likewise `widened_settings` (setting names): widths a file may have fewer of, the
file then copied into the wider model's leading blocks with every new unit read through a
zeroed weight (`models.widen`), and checked the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from nnpcalc.batch import StructureGraph, collate


class ModelSettings(BaseModel):
    """The `model:` block of a training config keys every kind shares; a kind's `Settings`
    subclass adds its own (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    kind: str = "bpnn"
    species: list[str] | None = None
    cutoff: float = Field(6.0, gt=0)
    anchor_isolated: bool | None = None  # None: anchor when isolated-atom energies are known

    def neighbour_cutoff(self) -> float:
        """Å: the pairs a model of these settings reads (its training graphs' cutoff)."""
        return self.cutoff


@dataclass
class TrainingData:
    """What a model may fit its statistics from: the training graphs and their labels.

    `residual` is each structure's (E − Σ_i E_ref[s_i]) / N in eV/atom; `energy_scale` the RMS
    of it (the natural unit of the network's output). `cache` lets replicas of one run share
    expensive intermediate results (features, a ridge fit) keyed by the caller's choice.
    """

    species: list[str]
    graphs: Sequence[StructureGraph]
    residual: np.ndarray
    forces: Sequence[np.ndarray | None]
    reference_energies: dict[str, float]
    energy_scale: float
    anchor_isolated: bool
    energy_weight: float = 1.0
    force_weight: float = 0.0
    cache: dict[Any, Any] = field(default_factory=dict)


@runtime_checkable
class AtomisticModel(Protocol):
    """Structural type of a model (see the module docstring for the meaning of each part)."""

    kind: ClassVar[str]
    species: list[str]

    @property
    def cutoff(self) -> float: ...

    def forward(self, species: torch.Tensor, edge_i: torch.Tensor, edge_j: torch.Tensor,
                vectors: torch.Tensor, batch: torch.Tensor) -> torch.Tensor: ...

    def config(self) -> dict: ...

    @classmethod
    def from_config(cls, config: dict) -> AtomisticModel: ...


class TrainableModel(AtomisticModel, Protocol):
    """A kind the trainer can build from a `model:` settings block and fit statistics for."""

    grown_settings: ClassVar[dict[str, Any]]
    widened_settings: ClassVar[tuple[str, ...]]

    @classmethod
    def config_from_settings(cls, settings: Any, species: list[str], anchor_isolated: bool
                             ) -> dict: ...

    def fit_statistics(self, data: TrainingData) -> bool:
        """Set fitted statistics; True when the model then starts as a fitted model."""


def atom_features(features: Callable, graphs: Sequence[StructureGraph], chunk: int = 32
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """`features(species, edge_i, edge_j, vectors)` (a kind's optional per-atom descriptor,
    float64) of every atom of `graphs`, in chunks, with each atom's species index."""
    feats, spec = [], []
    for start in range(0, len(graphs), chunk):
        batch = collate(graphs[start:start + chunk], torch.float64)
        with torch.no_grad():
            vectors = batch.edge_vectors(batch.positions, batch.cell)
            feats.append(features(batch.species, batch.edge_i, batch.edge_j, vectors))
        spec.append(batch.species)
    return torch.cat(feats), torch.cat(spec)


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    """The floating dtype of a model's tensors (float64 for parameter-free models)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return getattr(model, "dtype", torch.float64)
