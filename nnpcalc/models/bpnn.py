"""Behler–Parrinello network: one MLP per element on standardised symmetry functions.

E_i = E0[s_i] + scale · (f_s(x̂_i) − f_s(x̂⁰_s))   with x̂ = (G − mean_s) / std_s,
f_s(x̂) = MLP_s(x̂) [+ w_s · x̂ with `linear_term`]; with `whitening` x̂ is further multiplied by
a per-species PCA-whitening matrix fitted on the training atoms (decorrelated inputs, as
SIMPLE-NN does by default).

The optional linear term is a shortcut beside the network: symmetry functions that resolve the
neighbour shells describe a three-body potential almost linearly (a ridge fit of the linear part
alone reaches ~1 meV/atom on Stillinger–Weber data), so the trainer starts w_s at that fit and
the network only has to learn what is left.

x̂⁰_s is the standardised descriptor of an isolated atom (G = 0), so when `anchor_isolated` is on
an atom without neighbours has exactly the reference energy E0 — the first invariant point.
Without the anchor the network is free to shift it (E_i = E0 + scale · MLP_s(x̂_i)).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import field_validator

from nnpcalc.descriptors.acsf import ACSF, PRESETS, ACSFParameters, descriptor_from
from nnpcalc.models.bpnn_fit import feature_statistics, linear_fit, safe_std
from nnpcalc.models.contract import ModelSettings, TrainingData

ACTIVATIONS = {"tanh": torch.nn.Tanh, "silu": torch.nn.SiLU, "softplus": torch.nn.Softplus}


def _mlp(n_in: int, hidden: list[int], activation: str) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for width in hidden:
        layers += [torch.nn.Linear(n_in, width), ACTIVATIONS[activation]()]
        n_in = width
    layers.append(torch.nn.Linear(n_in, 1))
    return torch.nn.Sequential(*layers)


class BPNNSettings(ModelSettings):
    """`model: {kind: bpnn, ...}` in a training config."""

    kind: Literal["bpnn"] = "bpnn"
    hidden: list[int] = [30, 30]
    activation: Literal["tanh", "silu", "softplus"] = "tanh"
    descriptor: str | dict | None = None  # a preset name (descriptors.acsf.PRESETS) or a table
    linear_term: bool = False  # a linear shortcut beside the MLP, started at a ridge fit
    whitening: bool = False  # PCA-whiten the standardised features (fitted on training atoms)

    @field_validator("descriptor")
    @classmethod
    def _known_preset(cls, value):
        if isinstance(value, str) and value not in PRESETS:
            raise ValueError(f"unknown descriptor preset {value!r}; choose from {sorted(PRESETS)}")
        return value


class BPNN(torch.nn.Module):
    """Per-atom energies from ACSF features; see the module docstring for the formula."""

    kind = "bpnn"
    Settings = BPNNSettings
    grown_settings: dict = {}  # no setting adds zero-started terms (contract)
    widened_settings = ("hidden",)  # a file with narrower layers starts a wider net (contract)
    local = True  # E_i depends on atom i's own pairs only (contract: local models)

    def __init__(
        self,
        species: list[str],
        descriptor: ACSFParameters | dict | None = None,
        hidden: list[int] | tuple[int, ...] = (30, 30),
        activation: str = "tanh",
        anchor_isolated: bool = True,
        linear_term: bool = False,
        whitening: bool = False,
    ):
        super().__init__()
        if not species:
            raise ValueError("a model needs at least one species")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {list(ACTIVATIONS)}")
        if descriptor is None:
            descriptor = ACSFParameters.default_si()
        elif isinstance(descriptor, dict):
            descriptor = ACSFParameters.from_dict(descriptor)
        self.species = list(species)
        self.hidden = [int(h) for h in hidden]
        self.activation = activation
        self.anchor_isolated = bool(anchor_isolated)
        self.linear_term = bool(linear_term)
        self.whitening = bool(whitening)
        self.acsf = ACSF(descriptor, self.species)
        n_f, n_s = self.acsf.n_features, len(self.species)
        self.nets = torch.nn.ModuleList(_mlp(n_f, self.hidden, activation) for _ in self.species)
        if self.linear_term:
            self.linears = torch.nn.ModuleList(torch.nn.Linear(n_f, 1, bias=False)
                                               for _ in self.species)
        self.register_buffer("feature_mean", torch.zeros(n_s, n_f))
        self.register_buffer("feature_std", torch.ones(n_s, n_f))
        self.register_buffer("reference_energy", torch.zeros(n_s))
        self.register_buffer("energy_scale", torch.ones(()))
        if self.whitening:
            self.register_buffer("feature_whiten", torch.eye(n_f).repeat(n_s, 1, 1))

    @property
    def cutoff(self) -> float:
        return self.acsf.cutoff

    def config(self) -> dict:
        """Everything needed to rebuild the architecture (weights travel separately)."""
        return {
            "species": self.species,
            "descriptor": self.acsf.params.to_dict(),
            "hidden": self.hidden,
            "activation": self.activation,
            "anchor_isolated": self.anchor_isolated,
            "linear_term": self.linear_term,
            "whitening": self.whitening,
        }

    @classmethod
    def from_config(cls, config: dict) -> BPNN:
        return cls(**config)

    @classmethod
    def config_from_settings(cls, settings: BPNNSettings, species: list[str],
                             anchor_isolated: bool) -> dict:
        return {"species": species,
                "descriptor": descriptor_from(settings.descriptor, settings.cutoff).to_dict(),
                "hidden": settings.hidden, "activation": settings.activation,
                "anchor_isolated": anchor_isolated, "linear_term": settings.linear_term,
                "whitening": settings.whitening}

    def fit_statistics(self, data: TrainingData) -> bool:
        """Feature mean/std (and whitening) per species, reference energies and scale, and
        with `linear_term` the ridge start: the MLP's output layer starts at zero, so the
        model starts as the fitted linear potential (then True: the start is a fitted model)."""
        key = ("bpnn", self.acsf.params, self.whitening)
        if key not in data.cache:
            data.cache[key] = feature_statistics(self, data)
        mean, std, whiten = data.cache[key]
        self.set_normalization(mean.to(self.feature_mean), std.to(self.feature_std))
        if whiten is not None:
            self.set_whitening(whiten.to(self.feature_whiten))
        self.set_reference_energies(data.reference_energies, data.energy_scale)
        if not self.linear_term:
            return False
        key = ("bpnn-linear", self.acsf.params, self.whitening, self.anchor_isolated)
        if key not in data.cache:
            data.cache[key] = linear_fit(self, data)
        weights, intercepts = data.cache[key]
        with torch.no_grad():
            for k, net in enumerate(self.nets):
                self.linears[k].weight.copy_(weights[k][None])
                net[-1].weight.zero_()
                net[-1].bias.fill_(float(intercepts[k]))
        return True

    def isolated_energies(self) -> dict[str, float] | None:
        """The energy an atom without neighbours has by construction (None when free)."""
        if not self.anchor_isolated:
            return None
        return {s: float(e) for s, e in zip(self.species, self.reference_energy, strict=True)}

    def feature_signature(self):
        """Equal signatures mean equal features: an ensemble computes them once."""
        return ("acsf", self.acsf.params, tuple(self.species))

    def set_normalization(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-species feature statistics; tiny std (constant features) is clamped to 1."""
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(safe_std(mean, std))

    def set_whitening(self, matrices: torch.Tensor) -> None:
        """Per-species (n_f × n_f) maps applied after standardisation (PCA whitening)."""
        self.feature_whiten.copy_(matrices)

    def set_reference_energies(self, energies: dict[str, float], scale: float = 1.0) -> None:
        for k, symbol in enumerate(self.species):
            self.reference_energy[k] = float(energies[symbol])
        self.energy_scale.fill_(float(scale))

    def features(self, species, edge_i, edge_j, vectors) -> torch.Tensor:
        return self.local_features(species, edge_i, species.index_select(0, edge_j), vectors)

    def local_features(self, species, edge_i, neighbour_species, vectors) -> torch.Tensor:
        return self.acsf(species, edge_i, neighbour_species, vectors)

    def local_energies(self, species, edge_i, neighbour_species, vectors) -> torch.Tensor:
        """Energies of the centre atoms `species` from their own pairs alone (contract: `local`)."""
        return self.energies_from_features(
            species, self.local_features(species, edge_i, neighbour_species, vectors))

    def energies_from_features(self, species: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        if len(self.species) == 1:  # no per-species gather/scatter for one element
            out = self._network(0, g)
        else:
            out = g.new_zeros(g.shape[0])
            for k in range(len(self.species)):
                index = (species == k).nonzero().squeeze(-1)
                out = out.index_copy(0, index, self._network(k, g.index_select(0, index)))
        return self.reference_energy[species] + self.energy_scale * out

    def _network(self, k: int, g: torch.Tensor) -> torch.Tensor:
        """f_k(x̂) for the rows of g, minus f_k of the isolated atom when anchored."""
        e = self._f(k, self._standardise(k, g))
        if self.anchor_isolated:
            e = e - self._f(k, self._standardise(k, g.new_zeros(1, g.shape[1])))
        return e

    def linear_inputs(self, species: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Per-atom inputs as the linear term sees them: x̂, minus x̂ of the isolated atom when
        anchored (the trainer's ridge start fits on exactly these)."""
        out = torch.empty_like(g)
        for k in range(len(self.species)):
            mask = species == k
            x = self._standardise(k, g[mask])
            if self.anchor_isolated:
                x = x - self._standardise(k, torch.zeros_like(g[:1]))
            out[mask] = x
        return out

    def _standardise(self, k: int, g: torch.Tensor) -> torch.Tensor:
        x = (g - self.feature_mean[k]) / self.feature_std[k]
        return x @ self.feature_whiten[k] if self.whitening else x

    def _f(self, k: int, x: torch.Tensor) -> torch.Tensor:
        e = self.nets[k](x).squeeze(-1)
        if self.linear_term:
            e = e + self.linears[k](x).squeeze(-1)
        return e

    def forward(self, species, edge_i, edge_j, vectors, batch=None) -> torch.Tensor:
        """Per-atom energies (n_atoms,) in eV (`batch` is not needed: ACSF are per atom)."""
        return self.local_energies(species, edge_i, species.index_select(0, edge_j), vectors)
