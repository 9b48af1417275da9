"""The neighbour sums behind the ACSF, per (centre atom, neighbour species) slot, with a
hand-written backward for force and stress evaluation.

Over a dense (slots × width × 3) block of pair vectors, with f_c the cosine cutoff:

    radial[s, q]     = Σ_j exp(−η_q (r_j − r_q)²) f_c(r_j)                      (the G2)
    moments[s, u, m] = Σ_j g_u(r_j) x̂_j^a ŷ_j^b ẑ_j^c,  g_u = exp(−η_u (r_j − r_u)²) f_c(r_j)
    diag[s, p]       = Σ_j g_{a_p}(r_j) g_{b_p}(r_j)                               (j = k terms)

Autograd through these saves every intermediate and replays each elementwise step; the
vector-Jacobian product written out (`_SlotSums.backward`) is two batched matmuls and a few
fused expressions over the block. It is not differentiable a second time, so it is used only
inside `autodiff.first_derivatives_only()` (forces and stress, not force training).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from nnpcalc.autodiff import only_first_derivatives


@dataclass(frozen=True)
class SlotConstants:
    """Everything the sums depend on besides the vectors (tensors in the block's dtype)."""

    cutoff: float
    radial_eta: torch.Tensor  # (R,)
    radial_rs: torch.Tensor
    angular_eta: torch.Tensor  # (U,)
    angular_rs: torch.Tensor
    pair_a: torch.Tensor  # (P,) shell pairs of the diagonal term
    pair_b: torch.Tensor
    max_degree: int
    slope_index: torch.Tensor  # (3·M,) `slope_tables`
    slope_weight: torch.Tensor  # (3·M,)


def monomial_exponents(max_degree: int) -> list[tuple[int, int, int]]:
    """Exponents (a, b, c) of x^a y^b z^c in the order `monomials` builds them: degree d is
    x·(degree d−1), then y·(its x-free tail of d monomials), then z·(its last, z^(d−1))."""
    exps, block = [(0, 0, 0)], [(0, 0, 0)]
    for d in range(1, max_degree + 1):
        block = ([(a + 1, b, c) for a, b, c in block] + [(a, b + 1, c) for a, b, c in block[-d:]]
                 + [(a, b, c + 1) for a, b, c in block[-1:]])
        exps += block
    return exps


def monomials(unit: torch.Tensor, max_degree: int, dim: int = -1) -> torch.Tensor:
    """x^a y^b z^c of unit vectors (components along `dim`) for a + b + c ≤ max_degree,
    ordered as `monomial_exponents`: products of contiguous slices only (no gathers)."""
    x, y, z = (unit.narrow(dim, k, 1) for k in range(3))
    block = torch.ones_like(x)
    out = [block]
    for d in range(1, max_degree + 1):
        block = torch.cat([x * block, y * block.narrow(dim, block.shape[dim] - d, d),
                           z * block.narrow(dim, block.shape[dim] - 1, 1)], dim=dim)
        out.append(block)
    return torch.cat(out, dim=dim)


def slope_tables(max_degree: int) -> tuple[torch.Tensor, torch.Tensor]:
    """∂(x^a y^b z^c)/∂x = a x^(a−1) y^b z^c, read backwards: for every axis and monomial k,
    the monomial m = k·x (k·y, k·z) whose derivative gives a multiple of k, and that multiple
    (m's exponent of the axis); weight 0 where m's degree is beyond the table."""
    exps = monomial_exponents(max_degree)
    where = {e: k for k, e in enumerate(exps)}
    index, weight = [], []
    for axis in range(3):
        for e in exps:
            upper = tuple(v + (k == axis) for k, v in enumerate(e))
            index.append(where.get(upper, 0))
            weight.append(float(upper[axis]) if upper in where else 0.0)
    return torch.tensor(index), torch.tensor(weight, dtype=torch.float64)


def cosine_cutoff(r: torch.Tensor, cutoff: float) -> torch.Tensor:
    """Behler's cutoff: smooth (zero value and slope) at r = cutoff."""
    inside = r < cutoff
    return torch.where(inside, 0.5 * (torch.cos(math.pi * r / cutoff) + 1.0), torch.zeros_like(r))


def _cutoff_slope(r: torch.Tensor, cutoff: float) -> torch.Tensor:
    inside = r < cutoff
    return torch.where(inside, (-0.5 * math.pi / cutoff) * torch.sin(math.pi * r / cutoff),
                       torch.zeros_like(r))


def _sums(vec: torch.Tensor, c: SlotConstants, keep: bool = False):
    """The three sums (and, with `keep`, what the backward reuses). Per-pair quantities are
    laid out channels first, (S, channel, W), so that picking channels (shell pairs, lower
    monomials) copies whole rows."""
    r = torch.linalg.norm(vec, dim=-1)[:, None, :]  # (S, 1, W)
    fc = cosine_cutoff(r, c.cutoff)
    radial_exp = torch.exp(-c.radial_eta[:, None] * (r - c.radial_rs[:, None]) ** 2)  # (S, R, W)
    radial = (radial_exp * fc).sum(-1)
    angular_exp = torch.exp(-c.angular_eta[:, None] * (r - c.angular_rs[:, None]) ** 2)
    g = angular_exp * fc  # (S, U, W)
    unit = (vec / r.transpose(1, 2)).transpose(1, 2)  # (S, 3, W)
    mono = monomials(unit, c.max_degree, dim=1)  # (S, M, W)
    moments = torch.bmm(g, mono.transpose(1, 2))  # (S, U, M)
    diag = (g.index_select(1, c.pair_a) * g.index_select(1, c.pair_b)).sum(-1)
    saved = (r, fc, unit, radial_exp, angular_exp, g, mono) if keep else ()
    return (radial, moments, diag), saved


class _SlotSums(torch.autograd.Function):
    @staticmethod
    def forward(ctx, vec: torch.Tensor, c: SlotConstants):
        (radial, moments, diag), saved = _sums(vec, c, keep=True)
        ctx.save_for_backward(*saved)
        ctx.constants = c
        return radial, moments, diag

    @staticmethod
    def backward(ctx, d_radial, d_moments, d_diag):
        r, fc, unit, radial_exp, angular_exp, g, mono = ctx.saved_tensors
        c: SlotConstants = ctx.constants
        fc_slope = _cutoff_slope(r, c.cutoff)
        # ∂/∂r of Σ_q w_q exp(−η_q (r − r_q)²) f_c(r) = f_c' A − 2 f_c (r B − C) with
        # A, B, C = Σ_q w_q {1, η_q, η_q r_q} exp(…): three weighted sums, no (S, R, W) temporary
        d_r = _radial_slope(d_radial[:, None, :] * _moment_weights(c.radial_eta, c.radial_rs),
                            radial_exp, r, fc, fc_slope)
        # ∂/∂û: Σ_u g_u Σ_m dM_um ∂mono_m/∂û with ∂mono_m/∂x = a_m mono_{m − x̂}: regroup dM by
        # the lower monomial (a gather on the small per-slot dM), then one matmul against the
        # monomials gives both ∂/∂g and the three ∂/∂û sums over u
        n_slots, n_u, n_mono = d_moments.shape
        upper = (d_moments.transpose(1, 2).index_select(1, c.slope_index)
                 * c.slope_weight[:, None])  # (S, 3M, U): a_m dM_um at m = k·axis
        lowered = upper.unflatten(1, (3, n_mono)).transpose(2, 3).reshape(n_slots, 3 * n_u,
                                                                             n_mono)
        d_unit = (torch.bmm(lowered, mono).unflatten(1, (3, n_u)) * g[:, None]).sum(2)
        d_g = torch.bmm(d_moments, mono)  # (S, U, W)
        d_g = d_g.index_add(1, c.pair_a, d_diag[..., None] * g.index_select(1, c.pair_b))
        d_g = d_g.index_add(1, c.pair_b, d_diag[..., None] * g.index_select(1, c.pair_a))
        weights = _moment_weights(c.angular_eta, c.angular_rs)  # (3, U)
        d_r = d_r + _radial_slope(weights, d_g * angular_exp, r, fc, fc_slope)
        radial_part = (d_unit * unit).sum(1, keepdim=True)
        d_vec = d_r * unit + (d_unit - radial_part * unit) / r
        return d_vec.transpose(1, 2), None


def _moment_weights(eta: torch.Tensor, rs: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.ones_like(eta), eta, eta * rs])  # (3, channels)


def _radial_slope(weights: torch.Tensor, exp: torch.Tensor, r: torch.Tensor, fc: torch.Tensor,
                  fc_slope: torch.Tensor) -> torch.Tensor:
    """Σ_q w_q ∂/∂r[exp(−η_q (r − r_q)²) f_c(r)] per pair, from `weights` (…, 3, Q) holding
    w_q·{1, η_q, η_q r_q} and `exp` (S, Q, W)."""
    a, b, c = torch.matmul(weights, exp).unbind(1)  # each (S, W)
    return (fc_slope[:, 0] * a - 2.0 * fc[:, 0] * (r[:, 0] * b - c))[:, None]


def slot_sums(vec: torch.Tensor, c: SlotConstants
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(radial (S, R), moments (S, U, M), diag (S, P)) of a dense pair block (S, W, 3)."""
    if vec.requires_grad and torch.is_grad_enabled() and only_first_derivatives():
        return _SlotSums.apply(vec, c)
    return _sums(vec, c)[0]
