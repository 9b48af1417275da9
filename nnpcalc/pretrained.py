"""Shipped models and data by name: `NNPCalculator("si-pbe")` after a plain `pip install`.

The files live in the package (`nnpcalc/data/`, the repository's `data/` points there), found
through importlib.resources, so they travel inside the wheel and there is only one copy.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import torch

DATA_DIR = Path(str(resources.files("nnpcalc") / "data"))

# name: model file, its training config and data, and what it is
MODELS = {
    "si-pbe": {"file": "si_model.pt", "config": "train_si.yaml", "data": "si_pbe.extxyz",
               "baselines": "si_pbe_baselines.json", "probes": "si_probes.extxyz",
               "description": "silicon, GPAW PBE (PW 350 eV, converged k-meshes per family)"},
    "si-pbe-e3nn": {"file": "si_model_e3nn.pt", "config": "train_si_e3nn.yaml",
                    "data": "si_pbe.extxyz", "baselines": "si_pbe_baselines.json",
                    "probes": "si_probes.extxyz",
                    "description": "silicon, GPAW PBE, e3nn (1 layer, l_max 4, 5 Å, and a "
                                   "reach layer at l_max 2 from the 29th; 30 "
                                   "stages: energy weighted up in the second, the full power "
                                   "spectrum and a weight average in the third, the strained "
                                   "cells' stress and labelled vacancy collapses in the "
                                   "fourth, 300 more epochs of it in the fifth, rattled BC8 "
                                   "cells in the sixth, the spin-polarised clusters weighted "
                                   "10x in the seventh and 1x in the eighth and ninth, the "
                                   "frozen Γ phonons 100x from the tenth, three times the "
                                   "rate from the thirteenth, the 4H and 6H polytypes in the "
                                   "fifteenth on, new cells of the families the held-out "
                                   "splits missed most from the 21st, the fcc cells 10x "
                                   "and perfect metal cells beyond the probes from the "
                                   "24th, the hot crystals 5x from the 25th, the vacancy "
                                   "cells relabelled on 4x4x4 in the 27th, one reach layer "
                                   "grown in the 29th): elastic constants within 3 %, Γ "
                                   "within 0.02 THz and the vacancy within 0.15 eV of PBE"},
}


def data_file(name: str) -> Path:
    """A shipped data file by file name (e.g. "si_pbe.extxyz"), with a clear error if absent."""
    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from this installation of nnpcalc")
    return path


def model_path(name: str) -> Path:
    """The file of a shipped model; an unknown name is an error that lists the known ones."""
    if name not in MODELS:
        raise KeyError(f"no shipped model named {name!r}; known: {', '.join(MODELS)}")
    return data_file(MODELS[name]["file"])


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _short_settings(config: dict) -> dict:
    """The model's constructor settings that fit on a line (a descriptor table does not)."""
    return {k: v for k, v in config.items()
            if k not in ("species", "cutoff") and len(str(v)) <= 40}


def describe(name: str) -> dict:
    """What a shipped model is: files, architecture and its test errors as recorded at training."""
    entry = MODELS[name]
    path = model_path(name)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    summary = payload.get("metadata", {}).get("summary", {})
    config = payload.get("config") or payload.get("members", [{}])[0].get("config", {})
    return {
        "name": name, "description": entry["description"], "file": str(path),
        "sha256": sha256(path), "kind": payload["kind"], "species": payload["species"],
        "cutoff_angstrom": payload["cutoff_angstrom"],
        "settings": _short_settings(config), "data": entry["data"], "config": entry["config"],
        "n_train": summary.get("n_train"), "test": summary.get("test", {}),
    }


def describe_all() -> str:
    return json.dumps([describe(name) for name in MODELS], indent=1)
