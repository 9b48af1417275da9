"""Totals, forces and stress from per-atom energies — derived in this one place for every model.

Forces are −∂E/∂R and the stress is (1/V) ∂E/∂ε from a homogeneous strain ε applied to
positions and cell (the "strain trick"), both by autograd, so they are exact derivatives of the
energy the model reports.

Per-atom stresses (ASE's `stresses`) come from the same backward pass: a model sees positions
only through the pair vectors r_ij, so ∂E/∂ε = Σ_pairs r_ij ⊗ ∂E/∂r_ij, and each pair's term is
split half to i and half to j. Convention (as ASE's Lennard-Jones): σ_i = sym(½ Σ_{pairs∋i}
r ⊗ ∂E/∂r) / V, in eV/Å³ with ASE's sign, so Σ_i σ_i equals the cell stress. Per-atom stresses
are a partition like per-atom energies: for a pair potential this one equals LAMMPS's `compute
stress/atom`; for three-body terms LAMMPS gives each atom of a triplet a third instead.
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
    stresses: bool = False,
) -> dict[str, torch.Tensor]:
    """Energies per structure and per atom, and (optionally) forces and stress.

    Returns keys energy (B,), energies (N,), and when asked forces (N, 3), stress (B, 3, 3),
    stresses (N, 3, 3) (both zero for structures without a periodic cell); ensembles add
    energies_std (N,) and energy_std (B,). `create_graph` keeps the graph for losses.
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
    raw = model(batch.species, batch.edge_i, batch.edge_j, vectors, batch.batch)
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
    inputs = [t for t, wanted in ((positions, forces), (strain, stress), (vectors, stresses))
              if wanted]
    if inputs:
        grads = torch.autograd.grad(
            energy.sum(), inputs, create_graph=create_graph, allow_unused=True
        )
        grads = [torch.zeros_like(x) if g is None else g
                 for x, g in zip(inputs, grads, strict=True)]
        if forces:
            out["forces"] = -grads[0]
        volume = torch.linalg.det(batch.cell).abs()
        safe = torch.where(batch.periodic, volume, torch.ones_like(volume))
        if stress:
            virial = grads[1 if forces else 0]
            sigma = 0.5 * (virial + virial.transpose(1, 2)) / safe[:, None, None]
            out["stress"] = sigma * batch.periodic[:, None, None]
        if stresses:
            pair = 0.5 * vectors[:, :, None] * grads[-1][:, None, :]
            atom = pair.new_zeros(len(batch.species), 3, 3)
            atom = atom.index_add(0, batch.edge_i, pair).index_add(0, batch.edge_j, pair)
            scale = (batch.periodic / safe)[batch.batch]
            out["stresses"] = 0.5 * (atom + atom.transpose(1, 2)) * scale[:, None, None]
    return out


def voigt(stress: torch.Tensor) -> torch.Tensor:
    """(…, 3, 3) → (…, 6) in ASE order xx yy zz yz xz xy."""
    idx = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
    return torch.stack([stress[..., a, b] for a, b in idx], dim=-1)
