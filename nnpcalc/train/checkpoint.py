"""Checkpoints written atomically, so a killed run can always resume from its last epoch."""

from __future__ import annotations

import os

import torch

from nnpcalc.models.model_file import save_atomically

__all__ = ["load_checkpoint", "save_atomically"]


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Checkpoints hold only tensors and plain containers: weights_only loading suffices."""
    return torch.load(path, map_location="cpu", weights_only=True)
