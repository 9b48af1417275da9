"""Stillinger–Weber silicon in PyTorch, with two legitimate per-atom partitions.

E = Σ_{i<j} φ2(r_ij) + Σ_i Σ_{j<k} φ3(r_ij, r_ik, θ_jik)
φ2(r) = A ε [B (σ/r)^p − (σ/r)^q] exp(σ / (r − aσ))
φ3    = λ ε (cos θ_jik − cos θ0)² exp(γσ / (r_ij − aσ)) exp(γσ / (r_ik − aσ))

Partitions of the same total (both legitimate, which is the point):
- "vertex": ½ φ2 to each atom of a pair, φ3(j,i,k) to its vertex atom i — a function of atom
  i's own environment within aσ;
- "lammps": φ3 split ⅓ to each of i, j, k (LAMMPS `compute pe/atom`), so an atom's share
  depends on atoms up to 2aσ away.
The module is a model in nnpcalc's sense (pair vectors → per-atom energies), so forces and
stress come from the same `potential.evaluate` as every NNP.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch


@dataclass(frozen=True)
class SWParameters:
    """Stillinger & Weber, Phys. Rev. B 31, 5262 (1985), as in LAMMPS's Si.sw."""

    epsilon: float = 2.1683
    sigma: float = 2.0951
    a: float = 1.80
    lambda_: float = 21.0
    gamma: float = 1.20
    costheta0: float = -1.0 / 3.0
    A: float = 7.049556277
    B: float = 0.6022245584
    p: float = 4.0
    q: float = 0.0

    @property
    def cutoff(self) -> float:
        return self.a * self.sigma


def triplets(edge_i: torch.Tensor, n_atoms: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All unordered pairs (e1, e2) of edges sharing a centre atom, without Python loops."""
    order = torch.argsort(edge_i, stable=True)
    centre = edge_i[order]
    counts = torch.bincount(centre, minlength=n_atoms)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(centre.numel(), device=centre.device) - starts[centre]
    partners = counts[centre] - rank - 1  # edges after this one at the same centre
    first = torch.repeat_interleave(torch.arange(centre.numel(), device=centre.device),
                                    partners)
    offsets = torch.arange(first.numel(), device=centre.device) - torch.repeat_interleave(
        torch.cumsum(partners, 0) - partners, partners)
    second = first + 1 + offsets
    return order[first], order[second]


class StillingerWeber(torch.nn.Module):
    """Per-atom SW energies in the chosen partition ("vertex" or "lammps")."""

    kind = "stillinger_weber"
    Settings = None  # a fixed reference potential: saved and loaded like any model, not trained

    def __init__(self, params: SWParameters | None = None, partition: str = "vertex"):
        super().__init__()
        if partition not in ("vertex", "lammps"):
            raise ValueError(f"partition must be 'vertex' or 'lammps', got {partition!r}")
        self.params = params or SWParameters()
        self.partition = partition
        self.species = ["Si"]

    @property
    def cutoff(self) -> float:
        return self.params.cutoff

    def config(self) -> dict:
        return {"params": asdict(self.params), "partition": self.partition}

    def isolated_energies(self) -> dict[str, float]:
        return {"Si": 0.0}

    @classmethod
    def from_config(cls, config: dict) -> StillingerWeber:
        return cls(SWParameters(**config["params"]), config["partition"])

    def forward(self, species, edge_i, edge_j, vectors, batch=None) -> torch.Tensor:
        p = self.params
        n_atoms = species.shape[0]
        rc = p.cutoff
        r = torch.linalg.norm(vectors, dim=1)
        inside = r < rc
        safe = torch.where(inside, r, torch.full_like(r, 0.5 * rc))
        decay = torch.where(inside, torch.exp(p.sigma / (safe - rc)), torch.zeros_like(r))
        s_r = p.sigma / safe
        phi2 = p.A * p.epsilon * (p.B * s_r**p.p - s_r**p.q) * decay
        energies = r.new_zeros(n_atoms).index_add_(0, edge_i, 0.5 * phi2)  # each pair twice
        e1, e2 = triplets(edge_i, n_atoms)
        g = torch.where(inside, torch.exp(p.gamma * p.sigma / (safe - rc)), torch.zeros_like(r))
        cos = (vectors[e1] * vectors[e2]).sum(-1) / (safe[e1] * safe[e2])
        phi3 = p.lambda_ * p.epsilon * (cos - p.costheta0) ** 2 * g[e1] * g[e2]
        if self.partition == "vertex":
            return energies.index_add(0, edge_i[e1], phi3)
        third = phi3 / 3.0
        energies = energies.index_add(0, edge_i[e1], third)
        energies = energies.index_add(0, edge_j[e1], third)
        return energies.index_add(0, edge_j[e2], third)
