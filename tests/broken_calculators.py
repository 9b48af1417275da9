"""Calculators that break physics on purpose: the conformance checks must catch them."""

from __future__ import annotations

import numpy as np
import torch
from ase.calculators.calculator import Calculator, all_changes

from nnpcalc.autodiff import only_first_derivatives


class Broken(Calculator):
    """Energy tied to absolute positions (breaks rotation and translation), forces with the
    wrong sign, zero stress, and a pair count that jumps at the cutoff."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]
    cutoff = 3.0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        r = self.atoms.positions
        d = np.linalg.norm(r[:, None] - r[None], axis=-1)
        pairs = (np.triu(d, 1) > 0) & (np.triu(d, 1) < self.cutoff)
        energy = 1e-2 * (r[:, 0] ** 2).sum() + 0.1 * pairs.sum()
        forces = np.zeros_like(r)
        forces[:, 0] = +2e-2 * r[:, 0]
        self.results = {"energy": energy, "free_energy": energy, "forces": forces,
                        "stress": np.zeros(6)}


def factory() -> Broken:
    return Broken()


class _DoubledGradient(torch.autograd.Function):
    """Identity whose hand-written backward is wrong by a factor of two."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return 2.0 * grad


class PairModel(torch.nn.Module):
    """E_i = Σ_j exp(−r_ij) inside 3 Å (no smooth cutoff: only the derivative checks here)."""

    kind = "pair_for_tests"
    species = ["Si"]
    cutoff = 3.0

    def pair_energies(self, edge_i, vectors, n_atoms):
        e = torch.exp(-torch.linalg.norm(vectors, dim=1))
        return e.new_zeros(n_atoms).index_add(0, edge_i, e)

    def forward(self, species, edge_i, edge_j, vectors, batch=None):
        return self.pair_energies(edge_i, vectors, species.shape[0])


class WrongFastDerivatives(PairModel):
    """Its fast (first-derivatives-only) path doubles the gradient."""

    def forward(self, species, edge_i, edge_j, vectors, batch=None):
        if only_first_derivatives():
            vectors = _DoubledGradient.apply(vectors)
        return self.pair_energies(edge_i, vectors, species.shape[0])


class FalselyLocal(PairModel):
    """Declares itself local, but its energies depend on how many atoms are evaluated."""

    local = True

    def local_energies(self, species, edge_i, neighbour_species, vectors):
        return self.pair_energies(edge_i, vectors, species.shape[0]) * species.shape[0] / 100

    def forward(self, species, edge_i, edge_j, vectors, batch=None):
        return self.local_energies(species, edge_i, species[edge_j], vectors)
