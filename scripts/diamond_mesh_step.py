"""The k-mesh step between the diamond-like supercells and the 2-atom cells, per perfect cell.

    OMP_NUM_THREADS=1 nohup .venv/bin/python scripts/diamond_mesh_step.py > runs/step.log &

The 2-atom diamond labels are converged (data/README.md); an 8-atom cell on the shipped
shifted density-3 mesh folds it differently and sits ~1.3 meV/atom above the converged value.
The error belongs to the lattice, not to the rattle (docs/accuracy.md, session 10: −1.33 on the
perfect cubic cell, −1.31 on a cell rattled by 0.03 Å), so each rattled label can be moved to
the converged mesh by E(perfect, density 8 Γ) − E(perfect, shipped) of its own *perfect* cell.
This script computes that step for one perfect cell per distinct lattice of the diamond-like
supercell families, cheapest (most symmetric) first, and writes data/diamond_mesh_step.json
after each cell. Labels go through nnpcalc.labeling.label (hashed): rerun after a kill.
"""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import numpy as np
import spglib
import yaml
from ase import Atoms
from ase.build import bulk
from scipy.optimize import linear_sum_assignment

from nnpcalc.labeling import label

ROOT = Path(__file__).resolve().parents[1]
OUT_JSON = ROOT / "data" / "diamond_mesh_step.json"
SCRATCH = ROOT / "runs" / "diamond_mesh_step"
FAMILIES = ("crystal_diamond_rattled", "crystal_diamond_sheared_rattled",
            "crystal_diamond_strained_rattled", "hot_crystal")
SHIPPED = yaml.safe_load((ROOT / "data" / "gpaw_settings.yaml").read_text())
CONVERGED = {**SHIPPED, "kpoint_density": 8.0, "kpoint_gamma": True}


def perfect_cell(atoms: Atoms) -> Atoms:
    """The diamond crystal in `atoms`' cell: its cell is a (strained) r1×r2×r3 repeat of the
    cubic 8-atom cell, so the perfect sites have fixed fractional coordinates."""
    n_repeats = len(atoms) // 8
    lengths = atoms.cell.lengths()
    repeats = max(((r1, r2, r3) for r1 in range(1, 5) for r2 in range(1, 5)
                   for r3 in range(1, 5) if r1 * r2 * r3 == n_repeats),
                  key=lambda r: -np.ptp(lengths / np.array(r)))
    ideal = bulk("Si", "diamond", a=1.0, cubic=True).repeat(repeats)
    perfect = ideal.get_scaled_positions()
    sites, frac = perfect.copy(), atoms.get_scaled_positions()
    offset = frac[0] - sites  # MD cells drift: put the lattice under the first atom, match,
    offset -= np.round(offset)  # then under the mean of the matched atoms, and match again
    sites = sites + offset[np.argmin(np.linalg.norm(offset @ atoms.cell.array, axis=1))]
    for _ in range(2):
        delta = frac[:, None, :] - sites[None, :, :]
        delta -= np.round(delta)
        distance = np.linalg.norm(delta @ atoms.cell.array, axis=2)
        rows, columns = linear_sum_assignment(distance)
        sites = sites + delta[rows, columns].mean(axis=0)
    if distance[rows, columns].max() > 1.0:
        raise ValueError(f"{atoms.info.get('config_type')}: an atom is > 1 Å from every "
                         "diamond site")
    # at the lattice's own origin, not under the atoms: GPAW uses only symmorphic operations,
    # and a shifted crystal would lose most of them (and take several times as long)
    return Atoms("Si" * len(atoms), scaled_positions=perfect, cell=atoms.cell, pbc=True)


def n_symmetry_ops(atoms: Atoms) -> int:
    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    return len(spglib.get_symmetry(cell, symprec=1e-4)["rotations"])


def main() -> None:
    data = ase.io.read(ROOT / "data" / "si_pbe.extxyz", ":")
    cells: dict[tuple, dict] = {}
    for index, atoms in enumerate(data):
        if atoms.info.get("config_type") not in FAMILIES:
            continue
        key = (len(atoms), *np.round(atoms.cell.array.ravel(), 4))
        entry = cells.setdefault(key, {"members": [], "atoms": perfect_cell(atoms),
                                       "family": atoms.info["config_type"]})
        entry["members"].append(index)
    # the 8-atom cells first (a 32-atom cell on density 8 takes > 15 min and 4 GB), one of every
    # family before the second of any, the most symmetric (cheapest) first
    rank: dict[tuple, int] = {}
    for entry in cells.values():
        kind = (entry["family"], len(entry["atoms"]))
        entry["rank"] = rank[kind] = rank.get(kind, -1) + 1
    order = sorted(cells.values(), key=lambda e: (len(e["atoms"]) > 8, e["rank"],
                                                  -n_symmetry_ops(e["atoms"])))
    result = json.loads(OUT_JSON.read_text()) if OUT_JSON.exists() else {"cells": []}
    done = {tuple(c["members"]) for c in result["cells"]}
    for entry in order:
        if tuple(entry["members"]) in done:
            continue
        energies = {}
        for name, settings in (("shipped", SHIPPED), ("converged", CONVERGED)):
            path = SCRATCH / f"{name}.extxyz"
            label([entry["atoms"]], "gpaw", settings, path, progress=False)
            labelled = ase.io.read(path, ":")
            energies[name] = next(a.get_potential_energy() for a in labelled
                                  if np.allclose(a.cell.array, entry["atoms"].cell.array))
        n = len(entry["atoms"])
        result["cells"].append({
            "family": entry["family"], "members": entry["members"], "n_atoms": n,
            "volume_per_atom": entry["atoms"].get_volume() / n,
            "symmetry_ops": n_symmetry_ops(entry["atoms"]),
            "step_meV_per_atom": 1000 * (energies["converged"] - energies["shipped"]) / n})
        tmp = OUT_JSON.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(OUT_JSON)
        print(result["cells"][-1], flush=True)


if __name__ == "__main__":
    main()
