"""Labelled structures in: read files, find labels wherever users keep them, split by seed."""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from ase.stress import full_3x3_to_voigt_6_stress

from nnpcalc.train.config import LabelKeys


class LabelError(ValueError):
    """A structure lacks a label the loss needs; the message names file and index."""


@dataclass
class Labelled:
    atoms: Atoms
    energy: float
    forces: np.ndarray | None
    stress: np.ndarray | None  # Voigt, eV/Å^3, ASE sign
    weight: float
    source: str  # "file.extxyz:17"
    stress_weight: float = 1.0  # multiplies `weight` in the stress term alone


def expand_paths(patterns: Sequence[str]) -> list[str]:
    paths: list[str] = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if any(c in pattern for c in "*?[") else [pattern]
        if not found:
            raise FileNotFoundError(f"no data file matches {pattern!r}")
        paths.extend(found)
    return paths


def _calc_result(atoms: Atoms, name: str):
    calc = atoms.calc
    if calc is None:
        return None
    return getattr(calc, "results", {}).get(name)


def _find(atoms: Atoms, name: str, key: str):
    value = _calc_result(atoms, name)
    if value is None:
        value = atoms.info.get(key, atoms.arrays.get(key))
    return value


def extract(atoms: Atoms, keys: LabelKeys, source: str, need_forces: bool,
            need_stress: bool) -> Labelled:
    """Labels from atoms.calc results, else info/arrays under the configured keys."""
    energy = _find(atoms, "energy", keys.energy)
    if energy is None:
        raise LabelError(
            f"{source}: no energy label (looked in atoms.calc and info['{keys.energy}'])")
    forces = _find(atoms, "forces", keys.forces)
    if forces is None and need_forces:
        raise LabelError(f"{source}: no forces label (looked in atoms.calc and "
                         f"arrays['{keys.forces}']) but the loss uses forces")
    stress = _find(atoms, "stress", keys.stress)
    if stress is not None:
        stress = np.asarray(stress, dtype=float)
        stress = full_3x3_to_voigt_6_stress(stress) if stress.size == 9 else stress.reshape(6)
    if stress is None and need_stress and atoms.pbc.all():
        raise LabelError(f"{source}: no stress label (looked in atoms.calc and "
                         f"info['{keys.stress}']) but the loss uses stress")
    clean = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc,
                  info={k: v for k, v in atoms.info.items() if k not in (keys.energy,
                                                                        keys.stress)})
    return Labelled(
        atoms=clean,
        energy=float(energy),
        forces=None if forces is None else np.asarray(forces, dtype=float).reshape(-1, 3),
        stress=stress,
        weight=float(atoms.info.get(keys.weight, 1.0)),
        source=source,
    )


def read_labelled(patterns: Sequence[str], keys: LabelKeys, need_forces: bool = False,
                  need_stress: bool = False, skip_missing: bool = False) -> list[Labelled]:
    """Every structure of every file; label-less ones raise, or are skipped when asked."""
    out: list[Labelled] = []
    for path in expand_paths(patterns):
        for index, atoms in enumerate(ase.io.read(path, ":")):
            try:
                out.append(extract(atoms, keys, f"{path}:{index}", need_forces, need_stress))
            except LabelError:
                if not skip_missing:
                    raise
    if not out:
        raise LabelError(f"no labelled structures in {list(patterns)}")
    return out


def read_sources(sources: Sequence[str], directory: str | os.PathLike | None = None,
                 known: dict[str, list[Atoms]] | None = None) -> list[Atoms]:
    """The structures a model file's `split_sources` names ("file:index"), each file read once.
    `known` gives the structures of some files as recorded (a copy the model was trained on);
    with `directory` any other file is looked up there by its name (a shipped model's sources
    are paths on the machine it was trained on)."""
    files: dict[str, list[Atoms]] = dict(known or {})
    out = []
    for source in sources:
        path, _, index = source.rpartition(":")
        if directory is not None and path not in files:
            path = str(Path(directory) / Path(path).name)
        if path not in files:
            files[path] = ase.io.read(path, ":")
        try:
            out.append(files[path][int(index)])
        except (IndexError, ValueError):
            raise LabelError(f"split source {source!r}: {path} has no structure "
                             f"{index!r}") from None
    return out


def split_indices(n: int, val_fraction: float, test_fraction: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic train/validation/test split by seed."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    n_val = int(round(val_fraction * n))
    if n - n_val - n_test < 1:
        raise ValueError(f"{n} structures are too few for the requested split")
    return np.sort(order[n_test + n_val:]), np.sort(order[n_test:n_test + n_val]), np.sort(
        order[:n_test])


def fit_reference_energies(data: Sequence[Labelled], species: Sequence[str]) -> dict[str, float]:
    """Least-squares per-element energies from totals vs composition (when no E0 is given)."""
    counts = np.array([[np.sum(d.atoms.symbols == s) for s in species] for d in data], float)
    totals = np.array([d.energy for d in data])
    solution, *_ = np.linalg.lstsq(counts, totals, rcond=None)
    return {s: float(e) for s, e in zip(species, solution, strict=True)}


def group_weight(item: Labelled, key: str, weights: dict[str, float]) -> float:
    """Weight of the first pattern (fnmatch, in the given order) matching info[key]; 1 if none."""
    value = str(item.atoms.info.get(key, ""))
    for pattern, weight in weights.items():
        if fnmatch.fnmatchcase(value, pattern):
            return float(weight)
    return 1.0
