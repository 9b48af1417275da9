"""Equivariant message passing (NequIP-style) on e3nn: the second model kind.

Per layer, every atom sends its neighbours a message x_j ⊗ Y(r̂_ij), weighted per channel and
path by an MLP of a Bessel radial basis times a polynomial cutoff envelope (smooth to the
second derivative at r_c), summed with native `index_add_` and divided by √(mean neighbour
count); a linear map, a species-dependent self-connection and a gated nonlinearity follow,
with a residual connection where shapes allow. With `product` the squared norm of
each channel and degree of the summed messages (|A_i,cl|², the diagonal of MACE's A ⊗ A → 0e)
joins the scalars: Σ_jk R_c(r_ij) R_c(r_ik) P_l(cos θ_jik), the angles *at* atom i, already in
the first layer — without it a first layer sees distances only (its vectors reach the readout
through the next layer's tensor product alone; tests/test_e3nn_angles.py). With
`cross_channels` the products of *different* channels join too, Σ_m A_i,clm A_i,c'lm (the full
power spectrum, as SOAP's): the diagonal alone spans Σ_c R_c(r_ij) R_c(r_ik), the cross terms
R_c(r_ij) R_c'(r_ik) for every pair, which is what the BP cross-shell set needed for SW's
three-body weight. They start at zero, so a model file without them is a valid start for a
model with them (`grown_settings`). With `bispectrum` the triple products of one channel join
as well, Σ C^{l1l2l3} A_i,cl1 A_i,cl2 A_i,cl3 (the Wigner 3j coupling; MACE's correlation
order 3 on the channel diagonal): Σ_jkl R(r_ij) R(r_ik) R(r_il) F(r̂_ij, r̂_ik, r̂_il), the
four-body term at atom i that the squared norms (three-body) lack, at the same reach. They
too start at zero. With `scalar_layer` one more interaction follows whose
output is scalars only, added to the last layer's scalars: each atom reads its neighbours'
equivariant features along the bond, Σ_j R(r_ij) x_j,l · Y_l(r̂_ij) (l > 0 features of the last
layer, which the invariant readout never sees otherwise), so that a bond's energy can depend on
the environment at its far end — the coordination of a dimer partner against a crystal
neighbour — at little cost (only the l ⊗ l → 0 paths), with the reach one cutoff longer. Its
maps start at zero, so it too grows from a file without it. `reach_layers` adds full
interactions after the first `n_layers` on features and harmonics of degree ≤ `reach_l_max`
(default min(2, l_max)) only: the first layer's l ≤ l_max moments enter through its squared
norms, and a further layer, each one more cutoff of reach, costs what an l_max 2 layer costs
rather than the l ⊗ l products of an l_max 4 one (~20× an epoch). They start at zero (their
residual passes the input on) and grow from a file without them. With `outer_cutoff` an MLP of
radial densities out to that longer cutoff joins (`OuterDensity`; the convolutions still read
only the pairs within `cutoff`), starting at zero as well. SW's angular factor
(cos θ + 1/3)² needs l = 2. Node features carry l = 0…l_max irreps (l parity (−1)^l); an
invariant readout gives per-atom energies

    E_i = E0[s_i] + scale · (f(x_i) − f(x_i^isolated) + w[s_i] · c_i)      (anchored, default)

where x_i^isolated is the same network on an atom without neighbours, so an isolated atom has
exactly its reference energy, and c_i = Σ_j u(r_ij) is a smooth coordination (u the cutoff
envelope) whose weights w start at a least-squares fit of the training energies
(`coordination_start`): the network then learns what is left instead of the whole cohesive
energy, which an untrained network, anchored at the isolated atom, is eV/atom away from.
An atom's energy depends on everything within (n_layers + reach_layers + scalar_layer) × r_c
(or the outer cutoff, if longer) — the "reach" the audit asks about.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from e3nn import o3
from e3nn.nn import FullyConnectedNet, Gate
from pydantic import Field, PositiveInt

from nnpcalc.models.contract import ModelSettings, TrainingData


class E3nnSettings(ModelSettings):
    """`model: {kind: e3nn, ...}` in a training config."""

    kind: Literal["e3nn"] = "e3nn"
    cutoff: float = Field(5.0, gt=0)
    l_max: int = Field(1, ge=0, le=4)
    channels: int = Field(16, ge=1)  # multiplicity of every irrep (l = 0: see `scalars`)
    scalars: PositiveInt | None = None  # multiplicity of the l = 0 irreps (default: channels)
    n_layers: int = Field(2, ge=1)
    n_radial: int = Field(8, ge=1)  # Bessel functions
    radial_hidden: int = Field(32, ge=1)
    envelope_p: int = Field(6, ge=2)
    coordination_start: bool = True  # a fitted per-species coordination term (see the model)
    product: bool = True  # invariants of each atom's summed messages squared (3-body per layer)
    cross_channels: bool = False  # ... and the products of different channels (needs product)
    bispectrum: bool = False  # ... and the triple products of one channel (needs product)
    scalar_layer: bool = False  # one more interaction with scalar output (see the model)
    # interactions after the first n_layers on the degrees <= reach_l_max (default min(2, l_max));
    # they take `product` and `cross_channels`, not `bispectrum`
    reach_layers: int = Field(0, ge=0)
    reach_l_max: int | None = Field(None, ge=0, le=4)
    # widths of the invariant readout's hidden layers (default: one layer of `channels`)
    readout_hidden: list[PositiveInt] | None = None
    outer_cutoff: float | None = Field(None, gt=0)  # Å: a radial term beyond `cutoff` (model)
    outer_radial: PositiveInt | None = None  # its Bessel functions (default 12)

    def neighbour_cutoff(self) -> float:
        return max(self.cutoff, self.outer_cutoff or 0.0)


def bessel_basis(r: torch.Tensor, cutoff: float, n: int) -> torch.Tensor:
    """√(2/r_c) sin(kπr/r_c)/r, k = 1…n (NequIP's radial basis)."""
    k = torch.arange(1, n + 1, dtype=r.dtype, device=r.device)
    return math.sqrt(2.0 / cutoff) * torch.sin(k * math.pi * r[:, None] / cutoff) / r[:, None]


def polynomial_envelope(r: torch.Tensor, cutoff: float, p: int) -> torch.Tensor:
    """1 − (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) − p(p+1)/2 x^(p+2), x = r/r_c: value, slope and
    curvature vanish at r_c (zero beyond)."""
    x = r / cutoff
    value = (1.0 - (p + 1) * (p + 2) / 2 * x**p + p * (p + 2) * x ** (p + 1)
             - p * (p + 1) / 2 * x ** (p + 2))
    return torch.where(x < 1.0, value, torch.zeros_like(value))


def _hidden_irreps(channels: int, l_max: int, scalars: int) -> o3.Irreps:
    return o3.Irreps([(scalars if degree == 0 else channels, (degree, (-1) ** degree))
                      for degree in range(l_max + 1)])


class Interaction(torch.nn.Module):
    """One message-passing layer: convolution, linear, self-connection, gate, residual."""

    def __init__(self, irreps_in: o3.Irreps, irreps_out: o3.Irreps, irreps_sh: o3.Irreps,
                 n_species: int, n_radial: int, radial_hidden: int, product: bool,
                 cross_channels: bool = False, bispectrum: bool = False):
        super().__init__()
        self.irreps_in = irreps_in
        self.sh_dim = irreps_sh.dim  # a prefix of the model's harmonics (degrees 0…its l_max)
        if all(ir.l == 0 for _, ir in irreps_out):
            self.tp = BondProjection(irreps_in, irreps_sh)
            mid_sorted = self.tp.irreps_out
        else:
            self.tp, mid_sorted = convolution(irreps_in, irreps_sh, irreps_out)
        self.radial = FullyConnectedNet([n_radial, radial_hidden, self.tp.weight_numel],
                                        torch.nn.functional.silu)
        scalars = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l == 0])
        gated = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l > 0])
        gates = o3.Irreps([(m, "0e") for m, _ in gated])
        self.gate = Gate(scalars, [torch.nn.functional.silu] * len(scalars),
                         gates, [torch.sigmoid] * len(gates), gated)
        self.linear = o3.Linear(mid_sorted.simplify(), self.gate.irreps_in)
        self.self_connection = o3.FullyConnectedTensorProduct(
            irreps_in, o3.Irreps(f"{n_species}x0e"), self.gate.irreps_in)
        # residual onto the input's leading block of the output's shape: the whole input of a
        # layer like the previous one, the scalars of a scalar layer
        out = self.gate.irreps_out
        self.residual = irreps_in[:len(out)] == out
        self.product = None
        if product:
            # one squared norm per channel and degree: Σ_jk R_c(r_ij) R_c(r_ik) P_l(cos θ_jik),
            # a G5-type three-body sum at atom i with learned radial functions (e3nn's full
            # TensorSquare made a two-layer l_max 2 epoch ~12x slower)
            self.product = o3.Norm(mid_sorted.simplify(), squared=True)
            self.product_linear = o3.Linear(self.product.irreps_out, self.gate.irreps_in)
        self.cross = ChannelPairs(mid_sorted.simplify()) if product and cross_channels else None
        if self.cross is not None:
            self.cross_linear = o3.Linear(self.cross.irreps_out, self.gate.irreps_in)
            with torch.no_grad():  # starts as the model without it
                self.cross_linear.weight.zero_()
        self.triples = ChannelTriples(mid_sorted.simplify()) if product and bispectrum else None
        if self.triples is not None:
            self.triples_linear = o3.Linear(self.triples.irreps_out, self.gate.irreps_in)
            with torch.no_grad():
                self.triples_linear.weight.zero_()

    def forward(self, x, onehot, edge_i, edge_j, sh, radial, neighbours: torch.Tensor):
        # the leading degrees of the previous layer's features (irreps are sorted by degree)
        x, sh = x[:, :self.irreps_in.dim], sh[:, :self.sh_dim]
        messages = self.tp(x[edge_j], sh, self.radial(radial))
        summed = messages.new_zeros(x.shape[0], messages.shape[1]).index_add_(0, edge_i, messages)
        summed = summed / neighbours.sqrt()
        update = self.linear(summed) + self.self_connection(x, onehot)
        if self.product is not None:
            update = update + self.product_linear(self.product(summed))
        if self.cross is not None:
            update = update + self.cross_linear(self.cross(summed))
        if self.triples is not None:
            update = update + self.triples_linear(self.triples(summed))
        out = self.gate(update)
        return x[:, :out.shape[1]] + out if self.residual else out

    def update_maps(self) -> list[torch.nn.Module]:
        """The maps into the layer's update (what `zero_start` zeroes)."""
        maps = [self.linear, self.self_connection]
        return maps + [m for m in (getattr(self, "product_linear", None),
                                   getattr(self, "cross_linear", None),
                                   getattr(self, "triples_linear", None)) if m is not None]

    def zero_start(self) -> None:
        """Every map into the update at zero: the layer passes its input's leading block on."""
        with torch.no_grad():
            for module in self.update_maps():
                module.weight.zero_()


def convolution(irreps_in: o3.Irreps, irreps_sh: o3.Irreps,
                 irreps_out: o3.Irreps) -> tuple[o3.TensorProduct, o3.Irreps]:
    """x_j ⊗ Y(r̂_ij) on every path into `irreps_out`, one weight per channel and path."""
    mid, instructions = [], []
    for i, (mul, ir_in) in enumerate(irreps_in):
        for j, (_, ir_sh) in enumerate(irreps_sh):
            for ir in ir_in * ir_sh:
                if ir in irreps_out:
                    instructions.append((i, j, len(mid), "uvu", True))
                    mid.append((mul, ir))
    mid_sorted, perm, _ = o3.Irreps(mid).sort()
    instructions = [(i, j, perm[k], mode, train) for i, j, k, mode, train in instructions]
    tp = o3.TensorProduct(irreps_in, irreps_sh, mid_sorted, instructions,
                          shared_weights=False, internal_weights=False)
    return tp, mid_sorted


class BondProjection(torch.nn.Module):
    """The convolution's l ⊗ l → 0 paths alone, x_j,cl · Y_l(r̂_ij) / √(2l+1) per channel c and
    degree l, times a weight each: a scalar-output layer's whole convolution. The numbers of
    e3nn's tensor product on these paths (tests/test_e3nn_angles.py), written out because the
    general one spent ~3x the rest of a one-layer l_max 4 model on them."""

    def __init__(self, irreps_in: o3.Irreps, irreps_sh: o3.Irreps):
        super().__init__()
        sh_start = {ir.l: sl.start for (_, ir), sl in zip(irreps_sh, irreps_sh.slices(),
                                                          strict=True)}
        self.blocks = [(sl.start, mul, ir.dim, sh_start[ir.l])
                       for (mul, ir), sl in zip(irreps_in, irreps_in.slices(), strict=True)
                       if ir.l in sh_start and ir.p == (-1) ** ir.l]
        self.irreps_out = o3.Irreps(f"{sum(mul for _, mul, _, _ in self.blocks)}x0e")
        self.weight_numel = self.irreps_out.dim

    def forward(self, x: torch.Tensor, sh: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        out = [(x[:, start:start + mul * dim].reshape(-1, mul, dim)
                * sh[:, None, at:at + dim]).sum(-1) / math.sqrt(dim)
               for start, mul, dim, at in self.blocks]
        return torch.cat(out, dim=1) * weight


class ChannelPairs(torch.nn.Module):
    """Σ_m A_clm A_c'lm for every degree l and channel pair c < c' of one irreps block (the
    pairs c = c' are `o3.Norm`'s squared norms): invariants, since both factors rotate alike.
    Computed as each atom's Gram matrix of its channels, upper triangle read out: a reach
    layer's block holds up to 64 channels (the paths into one degree), and pairing them by
    index made an (atoms × 2016 × 2l+1) tensor and a scatter backward (~30 % of a step)."""

    def __init__(self, irreps: o3.Irreps):
        super().__init__()
        self.blocks = [(sl.start, mul, ir.dim) for (mul, ir), sl in zip(irreps, irreps.slices(),
                                                                         strict=True)
                       if mul > 1]
        upper = [torch.triu_indices(mul, mul, offset=1) for _, mul, _ in self.blocks]
        for k, ((_, mul, _), (first, second)) in enumerate(zip(self.blocks, upper, strict=True)):
            # positions of the pairs (c, c') in the flattened mul × mul Gram matrix
            self.register_buffer(f"pairs_{k}", first * mul + second, persistent=False)
        self.irreps_out = o3.Irreps(f"{sum(p.shape[1] for p in upper)}x0e")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = []
        for k, (start, mul, dim) in enumerate(self.blocks):
            a = x[:, start:start + mul * dim].reshape(-1, mul, dim)
            gram = torch.bmm(a, a.transpose(1, 2)).flatten(1)
            out.append(gram.index_select(1, getattr(self, f"pairs_{k}")))
        return torch.cat(out, dim=1)


class ChannelTriples(torch.nn.Module):
    """Σ_m1m2m3 C^{l1l2l3}_m1m2m3 A_c,l1m1 A_c,l2m2 A_c,l3m3 per channel c and degree triple
    1 ≤ l1 ≤ l2 ≤ l3 (triangle, even sum; C e3nn's Wigner 3j): invariants, four-body at the
    atom. An odd sum couples to a pseudo-scalar; a degree 0 factor multiplies invariants the
    layer has already. Blocks of unequal multiplicity (a deeper layer's) give their first
    min(multiplicity) channels."""

    def __init__(self, irreps: o3.Irreps):
        super().__init__()
        natural = {ir.l: (sl.start, mul) for (mul, ir), sl in zip(irreps, irreps.slices(),
                                                                   strict=True)
                   if ir.l > 0 and ir.p == (-1) ** ir.l}
        self.blocks = {degree: start for degree, (start, _) in natural.items()}
        self.channels = min((mul for _, mul in natural.values()), default=0)
        self.triples = [(l1, l2, l3) for l1 in natural for l2 in natural for l3 in natural
                        if l1 <= l2 <= l3 <= l1 + l2 and (l1 + l2 + l3) % 2 == 0]
        if not self.triples:
            raise ValueError(f"e3nn: no degree triple to couple in {irreps}")
        # kept in float64 and cast per call: a buffer would follow a model built in float32
        # to float64 rounded (rotation invariance of a float64 model 3e-12 instead of 4e-16)
        self.couplings = [o3.wigner_3j(*triple, dtype=torch.float64) for triple in self.triples]
        self.irreps_out = o3.Irreps(f"{len(self.triples) * self.channels}x0e")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        degree = {d: x[:, start:start + self.channels * (2 * d + 1)].reshape(
            -1, self.channels, 2 * d + 1) for d, start in self.blocks.items()}
        out = []
        for (l1, l2, l3), coupling in zip(self.triples, self.couplings, strict=True):
            coupling = coupling.to(dtype=x.dtype, device=x.device)
            coupled = torch.einsum("nci,ijk->ncjk", degree[l1], coupling)
            coupled = torch.einsum("ncjk,ncj->nck", coupled, degree[l2])
            out.append((coupled * degree[l3]).sum(-1))
        return torch.cat(out, dim=1)


class OuterDensity(torch.nn.Module):
    """g(ρ_i) with ρ_i,sk = Σ_j∈s B_k(r_ij) u(r_ij) / n̄ over neighbours j of species s out to
    the outer cutoff: radial densities that see the shells a cutoff of ~5 Å cuts off — the
    third shell that tells fcc from hcp at expanded volumes, where those two differ by 16–25
    meV/atom in PBE (data/si_pbe.extxyz). g is a one-hidden-layer MLP whose last map starts at
    zero, so the term grows from a model file without it."""

    def __init__(self, n_species: int, cutoff: float, n_radial: int, envelope_p: int,
                 hidden: int):
        super().__init__()
        self.cutoff, self.n_radial, self.envelope_p = cutoff, n_radial, envelope_p
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(n_species * (n_radial + 1), hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, 1))
        torch.nn.init.zeros_(self.mlp[-1].weight)
        torch.nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, onehot: torch.Tensor, edge_i: torch.Tensor, edge_j: torch.Tensor,
                r: torch.Tensor, mean_neighbours: torch.Tensor) -> torch.Tensor:
        basis = (bessel_basis(r, self.cutoff, self.n_radial)
                 * polynomial_envelope(r, self.cutoff, self.envelope_p)[:, None])
        # (pair, species of j, k) summed onto i; the centre's species joins as its one-hot
        pair = (onehot[edge_j][:, :, None] * basis[:, None, :]).flatten(1)
        rho = pair.new_zeros(len(onehot), pair.shape[1]).index_add(0, edge_i, pair)
        return self.mlp(torch.cat([rho / mean_neighbours, onehot], dim=1)).squeeze(-1)


def _compiled(key: str) -> bool:
    return "._compiled_" in key


def _drop_compiled(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict if _compiled(k)]:
        del state_dict[key]
    return state_dict


def _ignore_compiled(module, incompatible_keys) -> None:
    incompatible_keys.missing_keys[:] = [k for k in incompatible_keys.missing_keys
                                         if not _compiled(k)]


def _readout(irreps: o3.Irreps, widths: list[int]) -> torch.nn.Sequential:
    """Invariant MLP on the scalars: an equivariant linear map to the first width picks them."""
    modules = [o3.Linear(irreps, o3.Irreps(f"{widths[0]}x0e")), torch.nn.SiLU()]
    for w_in, w_out in zip(widths[:-1], widths[1:], strict=True):
        modules += [torch.nn.Linear(w_in, w_out), torch.nn.SiLU()]
    return torch.nn.Sequential(*modules, torch.nn.Linear(widths[-1], 1))


class E3nnModel(torch.nn.Module):
    """Per-atom energies from equivariant message passing; see the module docstring."""

    kind = "e3nn"
    Settings = E3nnSettings
    # settings that add terms starting at zero: a file with the value given here (or without
    # the key) loads into a model with the other value and computes the same energies
    grown_settings = {"cross_channels": False, "scalar_layer": False, "bispectrum": False,
                      "outer_cutoff": None, "outer_radial": None, "reach_layers": 0,
                      "reach_l_max": None}
    # widths a file may have fewer of: `init_from` copies it into the wider maps (models.widen)
    widened_settings = ("scalars", "readout_hidden")

    def __init__(self, species: list[str], cutoff: float = 5.0, l_max: int = 1,
                 channels: int = 16, n_layers: int = 2, n_radial: int = 8,
                 radial_hidden: int = 32, envelope_p: int = 6, anchor_isolated: bool = True,
                 coordination_start: bool = True, product: bool = True,
                 readout_hidden: list[int] | None = None, scalars: int | None = None,
                 cross_channels: bool = False, scalar_layer: bool = False,
                 bispectrum: bool = False, outer_cutoff: float | None = None,
                 outer_radial: int | None = None, reach_layers: int = 0,
                 reach_l_max: int | None = None):
        super().__init__()
        if not species:
            raise ValueError("a model needs at least one species")
        for name, wanted in (("cross_channels", cross_channels), ("bispectrum", bispectrum)):
            if wanted and not product:
                raise ValueError(f"e3nn: {name} needs product (it extends its squared norms)")
        if bispectrum and l_max < 2:
            raise ValueError(f"e3nn: bispectrum needs l_max >= 2 (its lowest triple couples "
                             f"degrees 1, 1 and 2), got l_max {l_max}")
        if outer_cutoff is not None and outer_cutoff <= cutoff:
            raise ValueError(f"e3nn: outer_cutoff ({outer_cutoff} Å) must exceed cutoff "
                             f"({cutoff} Å); leave it out for no outer term")
        if not reach_layers:
            reach_l_max = None  # a file without reach layers grows into any
        else:
            reach_l_max = min(2, l_max) if reach_l_max is None else int(reach_l_max)
        if reach_l_max is not None and not 0 <= reach_l_max <= l_max:
            raise ValueError(f"e3nn: reach_l_max ({reach_l_max}) must lie in 0…l_max ({l_max}): "
                             "the reach layers read the first layers' features of those degrees")
        if reach_layers and scalar_layer:
            raise ValueError("e3nn: reach_layers and scalar_layer together are not supported "
                             "(the scalar layer would read only the reach layers' degrees, and "
                             "a file with a scalar layer cannot grow reach layers before it)")
        self.species = list(species)
        self.hyper = {"cutoff": float(cutoff), "l_max": int(l_max), "channels": int(channels),
                      "n_layers": int(n_layers), "n_radial": int(n_radial),
                      "radial_hidden": int(radial_hidden), "envelope_p": int(envelope_p),
                      "anchor_isolated": bool(anchor_isolated),
                      "coordination_start": bool(coordination_start), "product": bool(product),
                      "readout_hidden": [int(w) for w in readout_hidden or [channels]],
                      "scalars": int(scalars or channels),
                      "cross_channels": bool(cross_channels),
                      "scalar_layer": bool(scalar_layer), "bispectrum": bool(bispectrum),
                      # None without the term, so a file without it grows into any size
                      "outer_cutoff": None if outer_cutoff is None else float(outer_cutoff),
                      "outer_radial": None if outer_cutoff is None else int(outer_radial or 12),
                      "reach_layers": int(reach_layers), "reach_l_max": reach_l_max}
        n_s = len(self.species)
        self.irreps_sh = o3.Irreps.spherical_harmonics(l_max)
        self.embedding = torch.nn.Linear(n_s, channels, bias=False)
        hidden = _hidden_irreps(channels, l_max, self.hyper["scalars"])
        layers, irreps = [], o3.Irreps(f"{channels}x0e")
        for _ in range(n_layers):
            layer = Interaction(irreps, hidden, self.irreps_sh, n_s, n_radial, radial_hidden,
                                product, cross_channels, bispectrum)
            layers.append(layer)
            irreps = layer.gate.irreps_out
        if reach_layers:
            low = _hidden_irreps(channels, reach_l_max, self.hyper["scalars"])
            low_sh = o3.Irreps.spherical_harmonics(reach_l_max)
            if irreps[:len(low)] != low:  # the previous layer's leading degrees
                raise ValueError(f"e3nn: the reach layers need {low} leading {irreps}")
            for _ in range(reach_layers):
                layer = Interaction(low, low, low_sh, n_s, n_radial, radial_hidden, product,
                                    cross_channels)
                layer.zero_start()  # passes its input on: starts as the model without it
                layers.append(layer)
                irreps = layer.gate.irreps_out
        if scalar_layer:
            layer = Interaction(irreps, o3.Irreps(f"{self.hyper['scalars']}x0e"),
                                self.irreps_sh, n_s, n_radial, radial_hidden, product)
            layer.zero_start()  # starts as the model without it (its readout sees the same)
            layers.append(layer)
            irreps = layer.gate.irreps_out
        self.layers = torch.nn.ModuleList(layers)
        self.readout = _readout(irreps, self.hyper["readout_hidden"])
        self.outer = None if outer_cutoff is None else OuterDensity(
            n_s, float(outer_cutoff), self.hyper["outer_radial"], envelope_p, channels)
        self.coordination_weight = torch.nn.Parameter(torch.zeros(n_s),
                                                      requires_grad=coordination_start)
        self.register_buffer("reference_energy", torch.zeros(n_s))
        self.register_buffer("energy_scale", torch.ones(()))
        self.register_buffer("mean_neighbours", torch.ones(()))
        # e3nn compiles some products on first use and registers their constants then: they are
        # derived, not learned, so model files neither carry nor expect them
        self._register_state_dict_hook(_drop_compiled)
        self.register_load_state_dict_post_hook(_ignore_compiled)

    @property
    def cutoff(self) -> float:
        """Å: the pairs the model reads (the outer term's, when it has one)."""
        return max(self.hyper["cutoff"], self.hyper["outer_cutoff"] or 0.0)

    def config(self) -> dict:
        return {"species": self.species, **self.hyper}

    @classmethod
    def from_config(cls, config: dict) -> E3nnModel:
        return cls(**config)

    @classmethod
    def config_from_settings(cls, settings: E3nnSettings, species: list[str],
                             anchor_isolated: bool) -> dict:
        fields = settings.model_dump(exclude={"kind", "species", "anchor_isolated"})
        return {"species": species, **fields, "anchor_isolated": anchor_isolated}

    def fit_statistics(self, data: TrainingData) -> bool:
        """Mean neighbour count (message normalisation), reference energies and scale, and the
        least-squares coordination weights (per species) of the residual energies."""
        lengths = [np.linalg.norm(g.positions[g.edge_j] - g.positions[g.edge_i]
                                  + g.shifts @ g.cell, axis=1) for g in data.graphs]
        # the convolutions' neighbours (the graphs may reach further, for the outer term)
        counts = [np.sum(r < self.hyper["cutoff"]) / max(len(g.species), 1)
                  for g, r in zip(data.graphs, lengths, strict=True)]
        self.mean_neighbours.fill_(max(sum(counts) / max(len(counts), 1), 1.0))
        for k, symbol in enumerate(self.species):
            self.reference_energy[k] = float(data.reference_energies[symbol])
        self.energy_scale.fill_(float(data.energy_scale))
        if self.hyper["coordination_start"]:
            rows = []
            for g, r in zip(data.graphs, lengths, strict=True):
                u = polynomial_envelope(torch.as_tensor(r), self.hyper["cutoff"],
                                        self.hyper["envelope_p"]).numpy()
                per_species = np.zeros(len(self.species))
                np.add.at(per_species, g.species[g.edge_i], u)
                rows.append(per_species / len(g.species))
            a = np.array(rows)
            b = np.asarray(data.residual) / data.energy_scale
            w = np.linalg.solve(a.T @ a + 1e-8 * np.eye(a.shape[1]), a.T @ b)
            with torch.no_grad():
                self.coordination_weight.copy_(torch.as_tensor(w))
        return False

    def isolated_energies(self) -> dict[str, float] | None:
        if not self.hyper["anchor_isolated"]:
            return None
        return {s: float(e) for s, e in zip(self.species, self.reference_energy, strict=True)}

    def _outputs(self, species, edge_i, edge_j, vectors) -> torch.Tensor:
        onehot = torch.nn.functional.one_hot(species, len(self.species)).to(vectors.dtype)
        h = self.hyper
        r = torch.linalg.norm(vectors, dim=1)
        outer = None
        if self.outer is not None:
            outer = self.outer(onehot, edge_i, edge_j, r, self.mean_neighbours)
            near = r < h["cutoff"]
            edge_i, edge_j, vectors, r = edge_i[near], edge_j[near], vectors[near], r[near]
        x = self.embedding(onehot)
        sh = o3.spherical_harmonics(self.irreps_sh, vectors, normalize=True,
                                    normalization="component")
        radial = (bessel_basis(r, h["cutoff"], h["n_radial"])
                  * polynomial_envelope(r, h["cutoff"], h["envelope_p"])[:, None])
        for layer in self.layers:
            x = layer(x, onehot, edge_i, edge_j, sh, radial, self.mean_neighbours)
        out = self.readout(x).squeeze(-1)
        if self.hyper["coordination_start"]:
            u = polynomial_envelope(r, h["cutoff"], h["envelope_p"])
            coordination = u.new_zeros(len(species)).index_add(0, edge_i, u)
            out = out + self.coordination_weight[species] * coordination
        return out if outer is None else out + outer

    def forward(self, species, edge_i, edge_j, vectors, batch=None) -> torch.Tensor:
        """Per-atom energies (n_atoms,) in eV."""
        out = self._outputs(species, edge_i, edge_j, vectors)
        if self.hyper["anchor_isolated"]:
            lone = torch.arange(len(self.species), device=species.device)
            none = edge_i[:0]
            out = out - self._outputs(lone, none, none, vectors[:0])[species]
        return self.reference_energy[species] + self.energy_scale * out
