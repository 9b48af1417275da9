"""Checkpoints written atomically, so a killed run can always resume from its last epoch."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from nnpcalc.models.model_file import load_model, save_atomically

__all__ = ["last_epoch_model", "load_checkpoint", "save_atomically"]


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Checkpoints hold only tensors and plain containers: weights_only loading suffices."""
    return torch.load(path, map_location="cpu", weights_only=True)


def last_epoch_model(run_dir: str | os.PathLike) -> torch.nn.Module:
    """A run's last epoch (its weight average when it keeps one) in the architecture of its
    best_model.pt: what the run reached when early stopping kept an earlier epoch."""
    run_dir = Path(run_dir)
    model = load_model(run_dir / "best_model.pt")
    state = load_checkpoint(run_dir / "last.ckpt")
    model.load_state_dict(state.get("averaged", state["model"]))
    return model.eval()
