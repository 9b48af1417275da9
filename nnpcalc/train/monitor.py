"""Invariant-point monitor: the model's atomic energy where the partition is fixed, each epoch.

At an invariant point (isolated atom; crystal whose atoms are all symmetry-equivalent) any
legitimate partition gives E_i = reference. A crystal inside the loss only repeats the training
error there (by symmetry the model's E_i is its own E/N), so the monitor keeps sources apart:
"train" (in the loss), and the held-out "validation", "probe" and "isolated" points, whose RMSE
is the mapping error used for reports and, optionally, early stopping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from ase import Atoms

from nnpcalc.analysis.invariant import classify
from nnpcalc.batch import collate, structure_graph
from nnpcalc.models.potential import evaluate
from nnpcalc.train.data import Labelled

HELD_OUT = ("validation", "probe", "isolated")


@dataclass
class MonitorPoint:
    name: str
    source: str  # train | validation | probe | isolated
    reference_eV: float  # fixed atomic energy at this point
    n_atoms: int


def _single_element(atoms: Atoms) -> bool:
    return len(set(atoms.numbers)) == 1


class InvariantMonitor:
    """Finds invariant points once, then measures a model's atomic energies there cheaply."""

    def __init__(self, species: Sequence[str], cutoff: float,
                 sources: dict[str, Sequence[Labelled]],
                 isolated_atom_energies: dict[str, float] | None, symprec: float = 1e-3,
                 dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"):
        self.points: list[MonitorPoint] = []
        graphs = []
        for source, items in sources.items():
            for item in items:
                atoms = item.atoms
                if not _single_element(atoms):
                    continue  # per-species shifts are not pinned by one crystal's total
                info = classify(atoms, cutoff, symprec=symprec)
                if not info.is_invariant:
                    continue
                self.points.append(MonitorPoint(
                    item.source, source, item.energy / len(atoms), len(atoms)))
                graphs.append(structure_graph(atoms, species, cutoff, 0.1, item.source))
        for symbol, e0 in (isolated_atom_energies or {}).items():
            if symbol in species:
                atom = Atoms(symbol, positions=[[0.0, 0.0, 0.0]])
                self.points.append(MonitorPoint(f"isolated {symbol}", "isolated", e0, 1))
                graphs.append(structure_graph(atom, species, cutoff))
        self.batch = collate(graphs, dtype, device) if graphs else None

    def __len__(self) -> int:
        return len(self.points)

    def atomic_energies(self, model: torch.nn.Module) -> np.ndarray:
        """Mean model atomic energy (eV) at each point (equal to its E/N by symmetry)."""
        if self.batch is None:
            return np.zeros(0)
        with torch.no_grad():
            out = evaluate(model, self.batch, forces=False, stress=False)
        counts = self.batch.n_atoms.cpu().numpy()
        return out["energy"].cpu().double().numpy() / counts

    def measure(self, model: torch.nn.Module) -> dict[str, float]:
        """RMS deviation (meV/atom) per source and over all held-out points."""
        errors = 1000.0 * (self.atomic_energies(model)
                           - np.array([p.reference_eV for p in self.points]))
        sources = np.array([p.source for p in self.points])
        result: dict[str, float] = {}
        for source in ("train", *HELD_OUT):
            sel = sources == source
            result[f"mapping_{source}_rmse_meV"] = (
                float(np.sqrt(np.mean(errors[sel] ** 2))) if sel.any() else float("nan"))
        held = np.isin(sources, HELD_OUT)
        result["mapping_error_meV"] = (
            float(np.sqrt(np.mean(errors[held] ** 2))) if held.any() else float("nan"))
        return result
