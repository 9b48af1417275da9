"""Model kinds by name: the one place the model file, trainer, ensemble and CLI look a kind up.

Built-in kinds are listed as "module:Class" and imported on first use, so loading a BP model
never imports e3nn. Other packages add kinds with `register_kind`.
"""

from __future__ import annotations

import importlib

import torch

_BUILTIN = {
    "bpnn": "nnpcalc.models.bpnn:BPNN",
    "e3nn": "nnpcalc.models.e3nn_mp:E3nnModel",
    "ensemble": "nnpcalc.models.ensemble:Ensemble",
    "stillinger_weber": "nnpcalc.teachers.stillinger_weber:StillingerWeber",
}
_LOADED: dict[str, type[torch.nn.Module]] = {}


def register_kind(cls: type[torch.nn.Module]) -> type[torch.nn.Module]:
    """Add (or replace) a kind; usable as a class decorator. The class needs `kind`,
    `species`, `cutoff`, `forward`, `config` and `from_config` (models/contract.py)."""
    missing = [a for a in ("kind", "config", "from_config", "forward") if not hasattr(cls, a)]
    if missing:
        raise TypeError(f"{cls.__name__} does not meet the model contract: lacks {missing}")
    _LOADED[cls.kind] = cls
    return cls


def known_kinds() -> list[str]:
    return sorted({*_BUILTIN, *_LOADED})


def model_class(kind: str) -> type[torch.nn.Module]:
    """The class registered for `kind`; an unknown kind is an error that lists the known ones."""
    if kind not in _LOADED:
        if kind not in _BUILTIN:
            raise ValueError(f"unknown model kind {kind!r}; known kinds: {known_kinds()}")
        module, name = _BUILTIN[kind].split(":")
        register_kind(getattr(importlib.import_module(module), name))
    return _LOADED[kind]


def trainable_kinds() -> list[str]:
    """Kinds with a training `Settings` block."""
    return [k for k in known_kinds() if getattr(_try_class(k), "Settings", None) is not None]


def _try_class(kind: str):
    try:
        return model_class(kind)
    except ImportError:
        return None
