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

# name: model file, its training config and data, and what it is: a user picks by the
# description (`nnpcalc models`); how each was trained is in its config and docs/accuracy.md
MODELS = {
    "si-pbe-e3nn": {"file": "si_model_e3nn.pt", "config": "train_si_e3nn.yaml",
                    "data": "si_pbe.extxyz", "baselines": "si_pbe_baselines.json",
                    "probes": "si_probes.extxyz",
                    "description": "silicon, GPAW PBE, e3nn (one layer at l_max 4, 5 Å, and "
                                   "one reach layer at l_max 2; 32 training stages): the "
                                   "demo's choice, all 12 targets - test energies 1.1 "
                                   "meV/atom MAE, forces MAE 0.042 eV/Å, elastic constants "
                                   "within 2 %, Γ within 0.01 THz, the vacancy within 0.06 "
                                   "eV of PBE, audit 'physical'"},
    "si-pbe": {"file": "si_model.pt", "config": "train_si.yaml", "data": "si_pbe.extxyz",
               "baselines": "si_pbe_baselines.json", "probes": "si_probes.extxyz",
               "description": "silicon, GPAW PBE, Behler-Parrinello (137 ACSF, 6 Å, 128-128; "
                              "three stages, the e3nn model's cells as a teacher): "
                              "8-16x faster than si-pbe-e3nn; 11 of 12 targets - periodic "
                              "test cells 3.7 meV/atom MAE, forces MAE 0.076 eV/Å, C11 and C12 "
                              "within 5 %, Γ within 0.13 THz, the vacancy within 0.11 eV of "
                              "PBE, audit 'physical' - but C44 13 % low"},
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
