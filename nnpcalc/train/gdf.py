"""Gaussian-density-function weights: atoms in sparsely sampled feature regions weigh more.

In the spirit of the "uniform training" scheme (Jeong et al., J. Phys. Chem. C 2018): the density
ρ(G_i) = mean_j exp(-|Ĝ_i − Ĝ_j|² / 2σ²) over (a sample of) training atoms in standardised
feature space, weight ∝ 1/ρ, normalised to mean 1 and capped, so rare environments such as
defects and surfaces are not drowned out by bulk-like atoms in the force loss.
"""

from __future__ import annotations

import torch


def gdf_weights(features: torch.Tensor, sigma: float, max_weight: float,
                max_reference: int = 4000, seed: int = 0) -> torch.Tensor:
    """Per-atom weights (n_atoms,) from standardised features (n_atoms, n_features)."""
    n = features.shape[0]
    generator = torch.Generator().manual_seed(seed)
    reference = features[torch.randperm(n, generator=generator)[:max_reference]]
    density = torch.zeros(n, dtype=features.dtype)
    for start in range(0, n, 2048):
        block = features[start:start + 2048]
        d2 = torch.cdist(block, reference).pow(2)
        density[start:start + 2048] = torch.exp(-d2 / (2 * sigma**2)).mean(1)
    weights = 1.0 / density.clamp_min(1e-12)
    weights = weights / weights.mean()
    weights = weights.clamp(max=max_weight)
    return weights / weights.mean()
