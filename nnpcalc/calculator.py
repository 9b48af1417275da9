"""ASE calculator for nnpcalc models — thin: batching and conversion, no physics inside."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from nnpcalc.batch import build_batch, chunks_by_atoms, collate, structure_graph
from nnpcalc.models.model_file import load_model
from nnpcalc.models.potential import evaluate, voigt
from nnpcalc.neighbors import VerletList
from nnpcalc.pretrained import MODELS, model_path, sha256

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class NNPCalculator(Calculator):
    """Energy, per-atom energies, forces and stress from an nnpcalc model.

    `model` is a shipped model's name ("si-pbe", see `nnpcalc models`), a path to a model
    file or a model object. `dtype` "float32" (default) or
    "float64"; `device` "cpu", "cuda" or None (CUDA when present). `max_atoms` bounds one batched
    forward pass in `predict`; `min_distance` (Å) rejects overlapping atoms. `skin` (Å) keeps
    the neighbour list of single-structure calls (MD, relaxations) between steps until an atom
    has moved skin/2; results are the same as without it (0 rebuilds every call).
    `NNPCalculator(**calc.todict())` rebuilds a calculator, refusing a model file whose SHA-256
    differs from the recorded one (`model_kind` is informational).
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress",
                              "stresses"]
    name = "nnpcalc"

    def __init__(
        self,
        model: str | os.PathLike | torch.nn.Module,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        max_atoms: int = 1024,
        min_distance: float = 0.5,
        skin: float = 0.5,
        model_sha256: str | None = None,
        model_kind: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.model_source, self.model_sha256 = None, None
        if isinstance(model, (str, os.PathLike)):
            path = Path(model)
            if not path.exists() and str(model) in MODELS:
                path = model_path(str(model))
            elif not path.exists():
                raise FileNotFoundError(f"model file {path} does not exist (and it is not a "
                                        f"shipped model's name: {', '.join(MODELS)})")
            self.model_source, self.model_sha256 = str(model), sha256(path)
            if model_sha256 is not None and model_sha256 != self.model_sha256:
                raise ValueError(f"model file {path} has SHA-256 {self.model_sha256[:16]}…, not "
                                 f"the {model_sha256[:16]}… recorded (a different model)")
            model = load_model(path)
        if isinstance(dtype, str):
            if dtype not in DTYPES:
                raise ValueError(f"dtype must be one of {list(DTYPES)}, got {dtype!r}")
            dtype = DTYPES[dtype]
        self.dtype = dtype or torch.float32
        self.device = resolve_device(device)
        # A copy, so converting dtype/device never changes the caller's model in place.
        self.model = copy.deepcopy(model).to(device=self.device, dtype=self.dtype).eval()
        self.max_atoms = int(max_atoms)
        self.min_distance = float(min_distance)
        self.neighbors = VerletList(self.cutoff, skin)
        if getattr(model, "kind", "") == "ensemble":
            self.implemented_properties = [*self.implemented_properties, "energies_std"]

    def todict(self, skip_default: bool = True) -> dict:
        """What rebuilds this calculator (ASE writes it into trajectories and databases): the
        model's name or path and the SHA-256 of its file, dtype, device and batching."""
        return {"model": self.model_source, "model_sha256": self.model_sha256,
                "model_kind": self.model.kind, "dtype": str(self.dtype).replace("torch.", ""),
                "device": str(self.device), "max_atoms": self.max_atoms,
                "min_distance": self.min_distance, "skin": self.neighbors.skin}

    @property
    def cutoff(self) -> float:
        return float(self.model.cutoff)

    @property
    def species(self) -> list[str]:
        return list(self.model.species)

    def _batch(self, structures: Sequence[Atoms], first: int = 0):
        return build_batch(structures, self.species, self.cutoff, self.dtype, self.device,
                           self.min_distance, first_label=first)

    def predict(self, structures: Sequence[Atoms], forces: bool = True,
                stress: bool = True, stresses: bool = False) -> list[dict]:
        """One batched evaluation per chunk of `max_atoms`; one result dict per structure.

        Keys: energy, free_energy (eV), energies (N,), forces (N, 3) eV/Å, stress (6,) eV/Å³
        and (when asked) stresses (N, 6) for structures with a periodic cell (per-atom
        stresses sum to the stress; convention in models/potential.py); energies_std /
        energy_std for ensembles.
        """
        if isinstance(structures, Atoms):
            raise TypeError("predict takes a list of Atoms; use the calculator for one structure")
        results: list[dict] = []
        for chunk in chunks_by_atoms(structures, self.max_atoms):
            batch = self._batch([structures[k] for k in chunk], first=chunk.start)
            out = evaluate(self.model, batch, forces=forces, stress=stress, stresses=stresses)
            results.extend(self._split(out, batch))
        return results

    def descriptors(self, structures: Sequence[Atoms]) -> list[np.ndarray]:
        """Raw per-atom features (n_atoms, n_features) of each structure."""
        if not hasattr(self.model, "features"):
            raise NotImplementedError(f"{type(self.model).__name__} has no descriptor")
        result: list[np.ndarray] = []
        for chunk in chunks_by_atoms(structures, self.max_atoms):
            batch = self._batch([structures[k] for k in chunk], first=chunk.start)
            with torch.no_grad():
                vectors = batch.edge_vectors(batch.positions, batch.cell)
                g = self.model.features(batch.species, batch.edge_i, batch.edge_j, vectors)
            g = g.cpu().double().numpy()
            bounds = np.cumsum([0, *batch.n_atoms.tolist()])
            result.extend(g[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        return result

    def _split(self, out: dict[str, torch.Tensor], batch) -> list[dict]:
        """One result dict per structure of the batch (subclasses add properties here)."""
        bounds = np.cumsum([0, *batch.n_atoms.tolist()])
        arrays = {k: v.detach().cpu().double().numpy() for k, v in out.items()}
        for key in ("stress", "stresses"):
            if key in out:
                arrays[key] = voigt(out[key]).detach().cpu().double().numpy()
        per_atom = {"energies", "forces", "energies_std", "stresses"}
        results = []
        for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            res = {}
            for key, value in arrays.items():
                if key == "stresses" and not bool(batch.periodic[k]):
                    continue
                if key in per_atom:
                    res[key] = value[a:b].copy()
                elif key == "stress":
                    if bool(batch.periodic[k]):
                        res[key] = value[k].copy()
                else:
                    res[key] = float(value[k])
            res["free_energy"] = res["energy"]
            results.append(res)
        return results

    def check_state(self, atoms: Atoms, tol: float = 1e-15) -> list[str]:
        """ASE's comparison (cell, pbc and every per-atom array within `tol`) in a few array
        operations: `np.allclose` per property costs ~0.3 ms per call, 5 % of an MD step of
        64 atoms. Anything unusual (no previous atoms, different arrays) goes to ASE's."""
        old = self.atoms
        if old is None or old.arrays.keys() != atoms.arrays.keys():
            return super().check_state(atoms, tol)
        pairs = {"cell": (old.cell.array, atoms.cell.array), "pbc": (old.pbc, atoms.pbc),
                 **{k: (v, atoms.arrays[k]) for k, v in old.arrays.items()}}
        ignored = set(self.ignored_changes)
        return [name for name, (a, b) in pairs.items() if name not in ignored
                and (a.shape != b.shape or not np.all(np.abs(np.subtract(a, b, dtype=float))
                                                      <= tol))]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        periodic = bool(self.atoms.pbc.any())
        graph = structure_graph(self.atoms, self.species, self.cutoff, self.min_distance, "0",
                                self.neighbors)
        batch = collate([graph], self.dtype, self.device)
        out = evaluate(self.model, batch, forces=True, stress=periodic,
                       stresses=periodic and "stresses" in properties)
        self.results = self._split(out, batch)[0]
