"""Behler–Parrinello atom-centred symmetry functions, radial G2 and angular G5.

G2_i(s; η, r_s)      = Σ_{j∈s} exp(-η (r_ij - r_s)²) f_c(r_ij)
G5_i(s,t; η, ζ, λ, r_s) = 2^(1-ζ) Σ_{j∈s, k∈t, j≠k} (1 + λ cos θ_jik)^ζ
                         × exp(-η((r_ij - r_s)² + (r_ik - r_s)²)) f_c(r_ij) f_c(r_ik)

A row may name a second radial function (η₂, r_s₂): then the weight is
½[g₁(r_ij) g₂(r_ik) + g₂(r_ij) g₁(r_ik)], a "cross-shell" term. Products of a radial basis
g_a(r_ij) g_b(r_ik) over all pairs (a, b) span any separable three-body weight h(r_ij) h(r_ik)
(Stillinger–Weber's, for one); the diagonal a = b alone does not.

The sum runs over ordered neighbour pairs, for unordered species pairs (s, t). f_c is the cosine
cutoff. r_s = 0 is Behler's G5; a shifted r_s puts an angular function on one neighbour shell (the
radial weight still factorises over j and k, which the moment trick below needs). G5 is evaluated
without a triplet list: expanding (1 + λ cos θ)^ζ in powers cos^n θ and writing cos^n θ =
Σ_{a+b+c=n} n!/(a!b!c!) (x_j x_k)^a (y_j y_k)^b (z_j z_k)^c for unit vectors turns the double sum
into squares of per-atom moments Σ_j g(r_ij) x_j^a y_j^b z_j^c, minus the j = k terms. That is
exact for integer ζ and costs O(neighbours) instead of O(neighbours²), which is what makes the
model fast (see PERFORMANCE.md); ζ is limited to small integers (≤ 8) because the binomial
expansion loses precision in float32 for large ζ.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch

from nnpcalc.batch import grouped_order
from nnpcalc.descriptors.pair_sums import (
    SlotConstants,
    cosine_cutoff,
    monomial_exponents,
    slope_tables,
    slot_sums,
)

__all__ = ["ACSF", "ACSFParameters", "PRESETS", "cosine_cutoff", "descriptor_from"]

MAX_ZETA = 8


@dataclass(frozen=True)
class ACSFParameters:
    """A parameter table: cutoff (Å), radial (η Å⁻², r_s Å) and angular (η Å⁻², ζ, λ, r_s Å
    [, η₂, r_s₂]) rows; angular rows are stored with all six fields."""

    cutoff: float
    radial: tuple[tuple[float, float], ...]
    angular: tuple[tuple[float, int, int, float, float, float], ...] = field(
        default_factory=tuple)

    def __post_init__(self) -> None:
        if self.cutoff <= 0:
            raise ValueError(f"ACSF cutoff must be positive, got {self.cutoff}")
        rows = []
        for row in self.angular:
            if len(row) not in (3, 4, 6):
                raise ValueError(f"G5 row needs 3, 4 or 6 values (η, ζ, λ[, r_s[, η₂, r_s₂]]), "
                                 f"got {row}")
            eta, zeta, lam = float(row[0]), int(row[1]), int(row[2])
            rs = float(row[3]) if len(row) > 3 else 0.0
            second = (float(row[4]), float(row[5])) if len(row) == 6 else (eta, rs)
            rows.append((eta, zeta, lam, rs, *second))
        object.__setattr__(self, "angular", tuple(rows))
        for eta, zeta, lam, _, eta2, _ in self.angular:
            if int(zeta) != zeta or not 1 <= zeta <= MAX_ZETA:
                raise ValueError(f"G5 zeta must be an integer in 1..{MAX_ZETA}, got {zeta}")
            if lam not in (-1, 1):
                raise ValueError(f"G5 lambda must be +1 or -1, got {lam}")
            if eta < 0 or eta2 < 0:
                raise ValueError(f"G5 eta must be >= 0, got {eta}, {eta2}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ACSFParameters:
        return cls(
            cutoff=float(data["cutoff"]),
            radial=tuple((float(e), float(r)) for e, r in data["radial"]),
            angular=tuple(tuple(row) for row in data.get("angular", ())),
        )

    @classmethod
    def default_si(cls, cutoff: float = 6.0) -> ACSFParameters:
        """64 functions for Si: 16 G2 (8 centred, 8 shifted shells) and 48 G5.

        The centred G2 widths follow the values common in published Si NNP setups; the shifted
        Gaussians resolve the first three diamond shells. Widths are scaled with the cutoff.
        """
        scale = (6.0 / cutoff) ** 2
        centred = [0.003214, 0.035711, 0.071421, 0.124987, 0.214264, 0.357106, 0.714213, 1.428426]
        shells = [cutoff * f for f in (0.37, 0.43, 0.5, 0.57, 0.63, 0.7, 0.77, 0.83)]
        radial = tuple((e * scale, 0.0) for e in centred) + tuple((2.0 * scale, r) for r in shells)
        etas = [0.0003, 0.008, 0.02, 0.04, 0.07, 0.12, 0.2, 0.35]
        angular = tuple(
            (e * scale, z, lam, 0.0) for e in etas for z in (1, 2, 4) for lam in (1, -1)
        )
        return cls(cutoff=cutoff, radial=radial, angular=angular)

    @classmethod
    def shells(cls, cutoff: float, r_min: float = 1.8, n_radial: int = 16,
               n_angular_shells: int = 6, zetas: tuple[int, ...] = (1, 2, 4),
               cross_zetas: tuple[int, ...] = ()) -> ACSFParameters:
        """A set derived from the cutoff alone: fine radial shells between r_min and the
        cutoff, and angular functions on shifted shells (ζ in `zetas`, λ = ±1) plus three
        centred widths.

        Why shells: a three-body term such as Stillinger–Weber's, g(r_ij) g(r_ik)
        (cos θ + 1/3)², is a combination of (1 ± cos θ)^ζ with ζ ≤ 2 weighted by a radial
        function concentrated inside the first shell; centred Gaussians see that shell only
        through their tails, shifted ones resolve it.
        """
        if not 0 < r_min < cutoff:
            raise ValueError(f"r_min must lie in (0, cutoff), got {r_min} for cutoff {cutoff}")
        step = (cutoff - r_min) / n_radial
        radial = tuple((0.5 / step**2, r_min + k * step) for k in range(n_radial))
        centred = [0.5 / (f * cutoff) ** 2 for f in (0.3, 0.5, 1.0)]
        radial += tuple((e, 0.0) for e in centred)
        a_step = (cutoff - r_min) / n_angular_shells
        angular_shells = [(0.5 / a_step**2, r_min + (k + 0.5) * a_step)
                          for k in range(n_angular_shells)]
        angular_shells += [(e, 0.0) for e in centred]
        angular = tuple((e, z, lam, rs) for e, rs in angular_shells for z in zetas
                        for lam in (1, -1))
        if cross_zetas:
            angular += tuple((e1, z, lam, r1, e2, r2)
                             for i, (e1, r1) in enumerate(angular_shells)
                             for e2, r2 in angular_shells[i + 1:]
                             for z in cross_zetas for lam in (1, -1))
        return cls(cutoff=cutoff, radial=radial, angular=angular)

    @classmethod
    def shells_cross(cls, cutoff: float) -> ACSFParameters:
        """`shells` plus cross-shell angular terms (ζ = 1, 2) for every pair of shells."""
        return cls.shells(cutoff, cross_zetas=(1, 2))

    @classmethod
    def default_si_shells(cls, cutoff: float = 6.0) -> ACSFParameters:
        """`default_si` followed by `shells` (137 functions at 6 Å): the fine first-shell
        radial and angular resolution of `shells` beside the wide G5 widths of `default_si`;
        the shipped BP model's set (docs/accuracy.md, session 30: beside the e3nn model's
        cells, C44 50 GPa with `default_si` alone, 64-76 with both; PBE 74)."""
        first, second = cls.default_si(cutoff), cls.shells(cutoff)
        return cls(cutoff=cutoff, radial=first.radial + second.radial,
                   angular=first.angular + second.angular)


PRESETS = {"default_si": ACSFParameters.default_si, "shells": ACSFParameters.shells,
           "shells_cross": ACSFParameters.shells_cross,
           "default_si_shells": ACSFParameters.default_si_shells}


def descriptor_from(spec: str | dict | None, cutoff: float) -> ACSFParameters:
    """A parameter table from a preset name (PRESETS; None: default_si) or an explicit table."""
    if spec is None:
        spec = "default_si"
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ValueError(f"unknown descriptor preset {spec!r}; choose from {sorted(PRESETS)}")
        return PRESETS[spec](cutoff=cutoff)
    return ACSFParameters.from_dict({"cutoff": cutoff, **spec})


def _monomial_table(max_degree: int) -> tuple[list[tuple[int, int, int]], list[float], list[int]]:
    """Exponents (a, b, c) of all monomials up to max_degree (in `monomials` order), their
    multinomial weights and degrees."""
    exps = monomial_exponents(max_degree)
    weights = [math.factorial(a + b + c) / (math.factorial(a) * math.factorial(b)
                                            * math.factorial(c)) for a, b, c in exps]
    return exps, weights, [a + b + c for a, b, c in exps]


class ACSF(torch.nn.Module):
    """Symmetry functions for a fixed species list; output layout is documented by `labels`."""

    def __init__(self, params: ACSFParameters, species: list[str]):
        super().__init__()
        self.params = params
        self.species = list(species)
        self.cutoff = float(params.cutoff)
        n_s = len(self.species)
        self.pairs = [(s, t) for s in range(n_s) for t in range(s, n_s)]
        radial = torch.tensor(params.radial, dtype=torch.float64).reshape(-1, 2)
        self.register_buffer("radial_eta", radial[:, 0].clone(), persistent=False)
        self.register_buffer("radial_rs", radial[:, 1].clone(), persistent=False)
        shells = sorted({shell for e, _, _, rs, e2, rs2 in params.angular
                         for shell in ((e, rs), (e2, rs2))})
        pairs = sorted({(shells.index((e, rs)), shells.index((e2, rs2)))
                        for e, _, _, rs, e2, rs2 in params.angular})
        self.max_zeta = max((int(row[1]) for row in params.angular), default=0)
        exps, weights, degrees = _monomial_table(self.max_zeta)
        shell_table = torch.tensor(shells, dtype=torch.float64).reshape(-1, 2)
        self.register_buffer("angular_eta", shell_table[:, 0].clone(), persistent=False)
        self.register_buffer("angular_rs", shell_table[:, 1].clone(), persistent=False)
        self.register_buffer("mono_weights", torch.tensor(weights, dtype=torch.float64),
                             persistent=False)
        degree_onehot = torch.zeros(len(exps), self.max_zeta + 1, dtype=torch.float64)
        degree_onehot[torch.arange(len(exps)), torch.tensor(degrees, dtype=torch.long)] = 1.0
        self.register_buffer("degree_onehot", degree_onehot, persistent=False)
        # Coefficients of cos^n in 2^(1-ζ)(1 + λ cos)^ζ, and which shell pair each row uses.
        coeffs = torch.zeros(len(params.angular), self.max_zeta + 1, dtype=torch.float64)
        pair_index = []
        for row, (eta, zeta, lam, rs, eta2, rs2) in enumerate(params.angular):
            for n in range(int(zeta) + 1):
                coeffs[row, n] = 2.0 ** (1 - zeta) * math.comb(int(zeta), n) * float(lam) ** n
            pair_index.append(pairs.index((shells.index((eta, rs)), shells.index((eta2, rs2)))))
        self.register_buffer("angular_coeffs", coeffs, persistent=False)
        self.register_buffer("angular_pair_index", torch.tensor(pair_index, dtype=torch.long),
                             persistent=False)
        pair_table = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)
        self.register_buffer("pair_a", pair_table[:, 0].clone(), persistent=False)
        self.register_buffer("pair_b", pair_table[:, 1].clone(), persistent=False)
        slope_index, slope_weight = slope_tables(self.max_zeta)
        self.register_buffer("slope_index", slope_index, persistent=False)
        self.register_buffer("slope_weight", slope_weight, persistent=False)
        self._exact = {name: b.clone() for name, b in self.named_buffers()
                       if b.is_floating_point()}

    def _apply(self, fn, recurse=True):
        """Dtype/device moves re-derive the constants from their float64 values, so a model
        converted float32 → float64 equals one built in float64 (no rounding carried along)."""
        super()._apply(fn, recurse)
        for name, exact in self._exact.items():
            buffer = getattr(self, name)
            setattr(self, name, exact.to(device=buffer.device, dtype=buffer.dtype))
        return self

    @property
    def n_features(self) -> int:
        return len(self.species) * len(self.params.radial) + len(self.pairs) * len(
            self.params.angular
        )

    def labels(self) -> list[str]:
        """Human-readable names of the features, in output order."""
        names = [f"G2[{s}] eta={e:g} rs={r:g}" for s in self.species for e, r in self.params.radial]
        for s, t in self.pairs:
            pair = f"{self.species[s]}-{self.species[t]}"
            names += [f"G5[{pair}] eta={e:g} zeta={z} lambda={lam:+d} rs={rs:g}"
                      + ("" if (e, rs) == (e2, rs2) else f" x eta={e2:g} rs={rs2:g}")
                      for e, z, lam, rs, e2, rs2 in self.params.angular]
        return names

    def forward(
        self,
        species: torch.Tensor,
        edge_i: torch.Tensor,
        neighbour_species: torch.Tensor,
        vectors: torch.Tensor,
    ) -> torch.Tensor:
        """Features (n_atoms, n_features) of the atoms `species` from their pairs: centre index
        `edge_i`, the neighbour's species index and the pair vector (a neighbour's index is never
        needed, so any subset of centres can be evaluated alone).

        Pairs are laid out densely, one row per (centre atom, neighbour species) "slot", padded
        to the widest slot with vectors beyond the cutoff (their cutoff function is exactly 0):
        only the pair vectors are scattered, and every sum over neighbours is a reduction or a
        batched matmul over that block.
        """
        n_atoms, n_s = species.shape[0], len(self.species)
        vec = _dense_pairs(edge_i * n_s + neighbour_species, n_atoms * n_s, vectors,
                           2.0 * self.cutoff)  # (slots, width, 3)
        radial, moments, diag = slot_sums(vec, self._constants(vec.dtype))
        parts = [radial.reshape(n_atoms, -1)]
        if len(self.params.angular):
            parts.append(self._angular(n_atoms, moments, diag))
        return torch.cat(parts, dim=1)

    def _constants(self, dtype: torch.dtype) -> SlotConstants:
        return SlotConstants(
            cutoff=self.cutoff, radial_eta=self.radial_eta.to(dtype),
            radial_rs=self.radial_rs.to(dtype), angular_eta=self.angular_eta.to(dtype),
            angular_rs=self.angular_rs.to(dtype), pair_a=self.pair_a, pair_b=self.pair_b,
            max_degree=self.max_zeta, slope_index=self.slope_index,
            slope_weight=self.slope_weight.to(dtype))

    def _angular(self, n_atoms: int, moments: torch.Tensor, diag: torch.Tensor) -> torch.Tensor:
        """G5 rows from the per-slot moments (S, U, M) and diagonal products (S, P)."""
        n_s, dtype = len(self.species), moments.dtype
        moments = moments.reshape(n_atoms, n_s, *moments.shape[1:])
        diag = diag.reshape(n_atoms, n_s, -1)
        a, b = self.pair_a, self.pair_b
        weighted = moments * self.mono_weights.to(dtype)
        onehot = self.degree_onehot.to(dtype)
        features = []
        for s, t in self.pairs:
            # Σ_{j∈s,k∈t} g_a g_b cos^n θ for every shell pair and degree n (symmetrised over
            # which neighbour carries which shell), minus the j = k terms. (index_select, not
            # advanced indexing: its backward is an index_add, not an index_put.)
            by_degree = (weighted[:, s].index_select(1, a)
                         * moments[:, t].index_select(1, b)) @ onehot
            if s == t:
                by_degree = by_degree - diag[:, s, :, None]
            else:
                by_degree = by_degree + (weighted[:, s].index_select(1, b)
                                         * moments[:, t].index_select(1, a)) @ onehot
            rows = by_degree.index_select(1, self.angular_pair_index)  # (N, A, n_degree)
            features.append((rows * self.angular_coeffs.to(dtype)).sum(-1))
        return torch.cat(features, dim=1)


def _dense_pairs(slot: torch.Tensor, n_slots: int, vectors: torch.Tensor,
                 far: float) -> torch.Tensor:
    """Pair vectors as a (slots × width × 3) block, each slot's pairs in their list order,
    padded with (far, 0, 0).

    Scattering the (pairs × η × monomials) products per pair is memory-bound; moving only the
    three vector components into a dense block and contracting there with `bmm` is several
    times faster and needs far less memory.
    """
    order, sorted_slot = grouped_order(slot)
    counts = torch.bincount(sorted_slot, minlength=n_slots)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(slot)
    rank[order] = torch.arange(slot.shape[0], device=slot.device) - starts[sorted_slot]
    width = int(counts.max()) if slot.numel() else 0
    dense = vectors.new_zeros(n_slots * width, 3)
    dense[:, 0] = far
    dense = dense.index_copy(0, slot * width + rank, vectors)
    return dense.reshape(n_slots, width, 3)
