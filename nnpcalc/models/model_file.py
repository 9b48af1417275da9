"""Self-describing model files: weights plus everything needed to rebuild and trust them.

A file is a `torch.save` of plain containers only (tensors, numbers, strings, lists, dicts), so it
loads with ``weights_only=True`` and never unpickles code. It carries a format name and version;
files from a newer nnpcalc, foreign files and truncated files are refused with a clear message.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from nnpcalc.models.contract import model_dtype
from nnpcalc.models.registry import model_class
from nnpcalc.version import __version__

FORMAT_NAME = "nnpcalc-model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """The file is not a usable nnpcalc model; the message says why."""


def _rebuild(kind: str, config: dict, state: dict) -> torch.nn.Module:
    model = model_class(kind).from_config(config)
    # Match the stored precision before copying weights in, so float64 files stay exact.
    floating = [t for t in state.values() if torch.is_tensor(t) and t.is_floating_point()]
    if floating:
        model.to(dtype=floating[0].dtype)
    model.load_state_dict(state, strict=True)
    return model


def model_to_payload(model: torch.nn.Module, metadata: dict | None = None) -> dict:
    """Plain containers only: kind, config() and state dict (per member for an ensemble)."""
    model_class(model.kind)  # a kind that is not registered could not be loaded again
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": model.kind,
        "nnpcalc_version": __version__,
        "species": list(model.species),
        "cutoff_angstrom": float(model.cutoff),
        "units": {"energy": "eV", "length": "Angstrom"},
        "dtype": str(model_dtype(model)).replace("torch.", ""),
        "metadata": metadata or {},
        "config": model.config(),
        "state_dict": model.state_dict(),
    }


def save_atomically(obj: dict, path: str | os.PathLike) -> Path:
    """torch.save to a temporary file, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; models are for sharing
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_model(model: torch.nn.Module, path: str | os.PathLike, metadata: dict | None = None):
    """Write a self-describing model file, atomically."""
    return save_atomically(model_to_payload(model, metadata), path)


def read_payload(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for damaged zip/pickle data
        raise ModelFileError(
            f"{path} is not a readable nnpcalc model (corrupt, truncated or not a torch file): "
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is a torch file but not an nnpcalc model")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has model format version {version}, newer than this nnpcalc "
            f"({__version__}) reads (<= {FORMAT_VERSION}); upgrade nnpcalc"
        )
    return payload


def model_from_payload(payload: dict, source: str = "model") -> torch.nn.Module:
    kind = payload.get("kind")
    try:
        model_class(kind)
    except ValueError as exc:
        raise ModelFileError(f"{source}: {exc}") from None
    try:
        if "members" in payload:  # format 1 ensembles stored members side by side
            members = [_rebuild(m.get("kind", "bpnn"), m["config"], m["state_dict"])
                       for m in payload["members"]]
            return model_class("ensemble")(members)
        return _rebuild(kind, payload["config"], payload["state_dict"])
    except (KeyError, RuntimeError, TypeError) as exc:
        # the usual cause: a kind whose layers changed between releases (say so, with both)
        written = payload.get("nnpcalc_version", "an unknown version")
        raise ModelFileError(
            f"{source} (a {kind} model written by nnpcalc {written}) does not fit this "
            f"nnpcalc's ({__version__}) {kind} model, or is incomplete: {exc}") from exc


def load_model(path: str | os.PathLike) -> torch.nn.Module:
    """Rebuild a model from a file written by `save_model` (refusing anything else)."""
    model = model_from_payload(read_payload(path), str(path))
    model.eval()
    return model
