"""Checkpoints written atomically, so a killed run can always resume from its last epoch."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch


def save_atomically(obj: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Checkpoints hold only tensors and plain containers: weights_only loading suffices."""
    return torch.load(path, map_location="cpu", weights_only=True)
