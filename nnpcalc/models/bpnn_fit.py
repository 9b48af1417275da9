"""Statistics a BP model fits from its training graphs: feature moments, whitening, linear start.

The functions take the BPNN itself (its `acsf`, `features`, `linear_inputs`); they are kept
apart from models/bpnn.py, which imports them, so the model file stays about the model.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from nnpcalc.batch import StructureGraph, collate
from nnpcalc.models.contract import TrainingData, atom_features


def safe_std(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Standard deviations with constant features' (tiny std) set to 1."""
    return torch.where(std > 1e-6 * (1 + mean.abs()), std, torch.ones_like(std))


def whitening_matrices(x: torch.Tensor, species: torch.Tensor, n_species: int,
                       floor: float = 1e-3) -> torch.Tensor:
    """PCA whitening of standardised features per species: x @ W has unit covariance.
    Eigenvalues are floored at `floor` × their mean, so that nearly dependent feature
    combinations are not blown up into noise."""
    n_f = x.shape[1]
    out = torch.eye(n_f, dtype=x.dtype).repeat(n_species, 1, 1)
    for k in range(n_species):
        xk = x[species == k]
        if len(xk) < 2:
            continue
        xk = xk - xk.mean(0)
        values, vectors = torch.linalg.eigh(xk.T @ xk / (len(xk) - 1))
        values = values.clamp_min(floor * values.mean())
        out[k] = vectors / values.sqrt()
    return out


def raw_features(model: torch.nn.Module, graphs: Sequence[StructureGraph]
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw descriptors (float64) of every atom of `graphs`, with each atom's species index."""
    return atom_features(copy.deepcopy(model).double().features, graphs)


def feature_statistics(model: torch.nn.Module, data: TrainingData
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-species mean and std of the raw features, and PCA-whitening matrices when the model
    whitens (None otherwise)."""
    g, spec = raw_features(model, data.graphs)
    n_s = len(model.species)
    mean = torch.stack([g[spec == k].mean(0) if (spec == k).any() else torch.zeros(g.shape[1])
                        for k in range(n_s)])
    std = torch.stack([g[spec == k].std(0) if (spec == k).sum() > 1 else torch.ones(g.shape[1])
                       for k in range(n_s)])
    whiten = None
    if model.whitening:
        x = (g - mean[spec]) / safe_std(mean, std)[spec]
        whiten = whitening_matrices(x, spec, n_s)
    return mean, std, whiten


def linear_fit(model: torch.nn.Module, data: TrainingData, ridge: float = 1e-8
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (n_species, n_features) and intercepts (n_species,) of the linear term that best
    fits the training energies and forces (weighted as in the loss) — the model's start.

    The linear part alone is a linear-in-descriptor potential (like linear SNAP): E/N rows use
    Σ_i x_i / N per species block, with x the model's linear inputs (and a species count for
    the intercept when not anchored), force rows −∂/∂R of Σ_i x_i, all times the scale. The
    model's normalisation must already be set.
    """
    template = copy.deepcopy(model).double()
    graphs, scale = data.graphs, data.energy_scale
    n_s = len(template.species)
    n_f = template.acsf.n_features
    cols = n_f + (0 if template.anchor_isolated else 1)
    e_rows, f_rows, f_targets = [], [], []
    for start in range(0, len(graphs), 16):
        idx = list(range(start, min(start + 16, len(graphs))))
        batch = collate([graphs[k] for k in idx], torch.float64)
        positions = batch.positions.detach().requires_grad_(True)
        g = template.features(batch.species, batch.edge_i, batch.edge_j,
                              batch.edge_vectors(positions, batch.cell))
        x = template.linear_inputs(batch.species, g)
        block = torch.cat([x, torch.ones(len(x), cols - n_f, dtype=x.dtype)], dim=1)
        onehot = torch.nn.functional.one_hot(batch.species, n_s).double()
        per_atom = onehot[:, :, None] * block[:, None, :]  # (N, S, cols)
        sums = per_atom.new_zeros(len(idx), n_s, cols).index_add_(0, batch.batch, per_atom)
        e_rows.append((sums / batch.n_atoms.double()[:, None, None]).reshape(len(idx), -1)
                      .detach())
        has_forces = [data.forces[k] is not None for k in idx]
        if data.force_weight > 0 and any(has_forces):
            flat = per_atom.sum(0).reshape(-1)
            jac = torch.stack([torch.autograd.grad(flat[c], positions, retain_graph=True)[0]
                               for c in range(flat.shape[0])], dim=-1)  # (N, 3, S·cols)
            mask = torch.cat([torch.full((len(graphs[k].species),), h)
                              for k, h in zip(idx, has_forces, strict=True)])
            f_rows.append(-jac[mask].reshape(-1, jac.shape[-1]))
            f_targets.append(torch.as_tensor(np.concatenate(
                [data.forces[k] for k, h in zip(idx, has_forces, strict=True) if h]
            )).reshape(-1))
    n_e = sum(len(r) for r in e_rows)
    design = [torch.cat(e_rows) * scale / np.sqrt(n_e)]
    target = [torch.as_tensor(data.residual, dtype=torch.float64) / np.sqrt(n_e)]
    if f_rows:
        rows = torch.cat(f_rows)
        weight = np.sqrt(data.force_weight / len(rows)) / max(data.energy_weight, 1e-12) ** 0.5
        design.append(rows * scale * weight)
        target.append(torch.cat(f_targets) * weight)
    a, b = torch.cat(design), torch.cat(target)
    norm = a.pow(2).sum(0).sqrt().clamp_min(1e-12)
    a = a / norm
    coef = torch.linalg.solve(a.T @ a + ridge * torch.eye(a.shape[1], dtype=torch.float64),
                              a.T @ b) / norm
    coef = coef.reshape(n_s, cols)
    intercept = (torch.zeros(n_s, dtype=torch.float64) if template.anchor_isolated
                 else coef[:, n_f])
    return coef[:, :n_f], intercept
