"""Totals, forces and stress from per-atom energies — derived in this one place for every model.

Forces are −∂E/∂R and the stress is (1/V) ∂E/∂ε from a homogeneous strain ε applied to
positions and cell (the "strain trick"), both by autograd, so they are exact derivatives of the
energy the model reports.
"""

from __future__ import annotations

import torch

from nnpcalc.batch import AtomsBatch


def evaluate(
    model: torch.nn.Module,
    batch: AtomsBatch,
    forces: bool = True,
    stress: bool = True,
    create_graph: bool = False,
) -> dict[str, torch.Tensor]:
    """Energies per structure and per atom, and (optionally) forces and stress.

    Returns keys energy (B,), energies (N,), and when asked forces (N, 3), stress (B, 3, 3)
    (zero for structures without a periodic cell); ensembles add energies_std (N,) and
    energy_std (B,). `create_graph` keeps the graph for losses on forces/stress.
    """
    positions = batch.positions.detach().requires_grad_(forces)
    cell = batch.cell
    strain = None
    if stress:
        strain = torch.zeros_like(cell, requires_grad=True)
        positions_s = positions + torch.einsum("na,nab->nb", positions, strain[batch.batch])
        cell = cell + cell @ strain
    else:
        positions_s = positions
    vectors = batch.edge_vectors(positions_s, cell)
    raw = model(batch.species, batch.edge_i, batch.edge_j, vectors)
    out: dict[str, torch.Tensor] = {}
    n_structures = batch.n_structures
    if raw.dim() == 2:
        energies = raw.mean(0)
        out["energies_std"] = raw.std(0, unbiased=False)
        member_totals = raw.new_zeros(raw.shape[0], n_structures).index_add_(
            1, batch.batch, raw
        )
        out["energy_std"] = member_totals.std(0, unbiased=False)
    else:
        energies = raw
    energy = energies.new_zeros(n_structures).index_add_(0, batch.batch, energies)
    out["energies"] = energies
    out["energy"] = energy
    inputs = [t for t, wanted in ((positions, forces), (strain, stress)) if wanted]
    if inputs:
        grads = torch.autograd.grad(
            energy.sum(), inputs, create_graph=create_graph, allow_unused=True
        )
        grads = [torch.zeros_like(x) if g is None else g
                 for x, g in zip(inputs, grads, strict=True)]
        if forces:
            out["forces"] = -grads[0]
        if stress:
            volume = torch.linalg.det(batch.cell).abs()
            safe = torch.where(batch.periodic, volume, torch.ones_like(volume))
            virial = grads[-1]
            sigma = 0.5 * (virial + virial.transpose(1, 2)) / safe[:, None, None]
            out["stress"] = sigma * batch.periodic[:, None, None]
    return out


def voigt(stress: torch.Tensor) -> torch.Tensor:
    """(…, 3, 3) → (…, 6) in ASE order xx yy zz yz xz xy."""
    idx = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
    return torch.stack([stress[..., a, b] for a, b in idx], dim=-1)
