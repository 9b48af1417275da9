"""Shared fixtures: small random-weight models with realistic feature normalisation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from structures_factory import rattled_diamond, rattled_sic  # noqa: E402

from nnpcalc.calculator import NNPCalculator  # noqa: E402
from nnpcalc.models import BPNN  # noqa: E402


def normalised_model(species: list[str], structures, seed: int = 0, **kwargs) -> BPNN:
    """A BPNN with random weights, features standardised on `structures`, E0 set per element."""
    torch.manual_seed(seed)
    model = BPNN(species, **kwargs).double()
    feats = NNPCalculator(model, dtype="float64").descriptors(structures)
    g = torch.as_tensor(__import__("numpy").concatenate(feats))
    numbers = torch.as_tensor(
        [species.index(s) for a in structures for s in a.get_chemical_symbols()]
    )
    mean = torch.stack([g[numbers == k].mean(0) for k in range(len(species))])
    std = torch.stack([g[numbers == k].std(0) for k in range(len(species))])
    model.set_normalization(mean, std)
    model.set_reference_energies({s: -1.5 - k for k, s in enumerate(species)}, scale=0.7)
    return model


@pytest.fixture(scope="session")
def si_model() -> BPNN:
    return normalised_model(["Si"], [rattled_diamond(seed=s) for s in range(3)])


@pytest.fixture(scope="session")
def sic_model() -> BPNN:
    return normalised_model(["Si", "C"], [rattled_sic(seed=s) for s in range(3)])
