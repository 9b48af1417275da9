"""Totals, forces and stress from per-atom energies — derived in this one place for every model.

A model sees positions only through the pair vectors r_e = r_j − r_i + shift (the contract), so
one backward pass to the vectors, g_e = ∂E/∂r_e, gives every derivative exactly:

    forces     F_a = Σ_{e: i=a} g_e − Σ_{e: j=a} g_e                      (−∂E/∂R)
    virial     W = Σ_e r_e ⊗ g_e = ∂E/∂ε for a homogeneous strain ε        stress = sym(W) / V
    per atom   σ_a = sym(½ Σ_{e ∋ a} r_e ⊗ g_e) / V                        ASE `stresses`

The per-atom split (each pair's term half to each end, as ASE's Lennard-Jones calculator does)
sums to the cell stress. Per-atom stresses are a partition like per-atom energies: for a pair
potential this one equals LAMMPS's `compute stress/atom`; for three-body terms LAMMPS gives each
atom of a triplet a third instead.

A *local* model (`model.local`, e.g. Behler–Parrinello: E_i depends on atom i's own pairs
only) is evaluated in chunks of centre atoms, each with its own backward pass, when no graph is
kept: the result is the same, but each chunk's intermediates stay in cache, so the cost per
atom stays flat from hundreds to tens of thousands of atoms, and so does the memory.
"""

from __future__ import annotations

import torch

from nnpcalc.autodiff import first_derivatives_only
from nnpcalc.batch import AtomsBatch, grouped_order

# Centre atoms per chunk of a local model: at ~45 pairs per atom a chunk's dense pair block and
# its saved intermediates fit in a CPU's last-level cache (benchmarks/README.md).
LOCAL_CHUNK_ATOMS = 512


def _local_chunks(model: torch.nn.Module, batch: AtomsBatch, vectors: torch.Tensor,
                  chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-atom energies (detached) and ∂E/∂vectors of a local model, chunk by chunk."""
    order, centres = grouped_order(batch.edge_i)
    n_atoms = batch.species.shape[0]
    bounds = torch.searchsorted(centres, torch.arange(0, n_atoms + chunk, chunk,
                                                      device=centres.device)).tolist()
    neighbour_species = batch.species.index_select(0, batch.edge_j.index_select(0, order))
    grad = torch.zeros_like(vectors)
    parts = []
    for k, start in enumerate(range(0, n_atoms, chunk)):
        pairs = order[bounds[k]:bounds[k + 1]]
        v = vectors.detach().index_select(0, pairs).requires_grad_(True)
        raw = model.local_energies(batch.species[start:start + chunk],
                                   centres[bounds[k]:bounds[k + 1]] - start,
                                   neighbour_species[bounds[k]:bounds[k + 1]], v)
        energies = raw.mean(0) if raw.dim() == 2 else raw
        (g,) = torch.autograd.grad(energies.sum(), [v], allow_unused=True)
        if g is not None:
            grad.index_copy_(0, pairs, g)
        parts.append(raw.detach())
    return torch.cat(parts, dim=-1), grad


def evaluate(
    model: torch.nn.Module,
    batch: AtomsBatch,
    forces: bool = True,
    stress: bool = True,
    create_graph: bool = False,
    stresses: bool = False,
    local_chunk: int = LOCAL_CHUNK_ATOMS,
) -> dict[str, torch.Tensor]:
    """Energies per structure and per atom, and (optionally) forces and stress.

    Returns keys energy (B,), energies (N,), and when asked forces (N, 3), stress (B, 3, 3),
    stresses (N, 3, 3) (both zero for structures without a periodic cell); ensembles add
    energies_std (N,) and energy_std (B,). `create_graph` keeps the graph for losses; without
    it a local model runs in chunks of `local_chunk` centre atoms (same results) and models
    may use kernels with hand-written backward passes (`autodiff`).
    """
    with first_derivatives_only(not create_graph):
        return _evaluate(model, batch, forces, stress, create_graph, stresses, local_chunk)


def _evaluate(model, batch, forces, stress, create_graph, stresses, local_chunk):
    derivatives = forces or stress or stresses
    vectors = batch.edge_vectors(batch.positions, batch.cell).detach().requires_grad_(derivatives)
    g = None
    if (derivatives and not create_graph and getattr(model, "local", False)
            and batch.species.shape[0] > local_chunk):
        raw, g = _local_chunks(model, batch, vectors, local_chunk)
    else:
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
    if not derivatives:
        return out
    if g is None:
        (g,) = torch.autograd.grad(energy.sum(), [vectors], create_graph=create_graph,
                                   allow_unused=True)
    if g is None:  # an energy that depends on no pair (isolated atoms only)
        g = torch.zeros_like(vectors)
    n_atoms = len(batch.species)
    if forces:
        out["forces"] = (g.new_zeros(n_atoms, 3).index_add(0, batch.edge_i, g)
                         .index_add(0, batch.edge_j, -g))
    if stress or stresses:
        volume = batch.volume
        scale = batch.periodic / torch.where(batch.periodic, volume, torch.ones_like(volume))
        pair = vectors[:, :, None] * g[:, None, :]  # (E, 3, 3): r_e ⊗ ∂E/∂r_e
    if stress:
        virial = pair.new_zeros(n_structures, 3, 3).index_add(
            0, batch.batch.index_select(0, batch.edge_i), pair)
        out["stress"] = 0.5 * (virial + virial.transpose(1, 2)) * scale[:, None, None]
    if stresses:
        atom = pair.new_zeros(n_atoms, 3, 3).index_add(0, batch.edge_i, 0.5 * pair)
        atom = atom.index_add(0, batch.edge_j, 0.5 * pair)
        out["stresses"] = 0.5 * (atom + atom.transpose(1, 2)) * scale[batch.batch][:, None, None]
    return out


def voigt(stress: torch.Tensor) -> torch.Tensor:
    """(…, 3, 3) → (…, 6) in ASE order xx yy zz yz xz xy."""
    idx = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
    return torch.stack([stress[..., a, b] for a, b in idx], dim=-1)
