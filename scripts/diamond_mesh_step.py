"""The k-mesh step between the diamond-like supercells and the 2-atom cells, per perfect cell.

    OMP_NUM_THREADS=1 nohup .venv/bin/python scripts/diamond_mesh_step.py measure > runs/step.log &
    .venv/bin/python scripts/diamond_mesh_step.py apply   # move the labels in si_pbe.extxyz
    .venv/bin/python scripts/diamond_mesh_step.py apply --file data/si_pbe_active.extxyz
    .venv/bin/python scripts/diamond_mesh_step.py table   # the table of data/README.md

The 2-atom diamond labels are converged (data/README.md); an 8-atom cell on the shipped
shifted density-3 mesh folds it differently and sits ~1.3 meV/atom above the converged value.
The error belongs to the lattice, not to the rattle (docs/accuracy.md, session 10: −1.33 on the
perfect cubic cell, −1.31 on a cell rattled by 0.03 Å), so each rattled label can be moved to
the converged mesh by E(perfect, density 8 Γ) − E(perfect, shipped) of its own *perfect* cell.
This script computes that step for one perfect cell per distinct lattice of the diamond-like
supercell families, cheapest (most symmetric) first, and writes data/diamond_mesh_step.json
after each cell. Labels go through nnpcalc.labeling.label (hashed): rerun after a kill.

`apply` moves every label of a diamond-lattice supercell on the shipped mesh (the families
above, the vacancy cells and the 64-atom cell) by its cell's step: the measured one, else a
parabola in volume per lattice site fitted to the measured cells (the step is a property of the
lattice: the cells measured lie within FIT_TOLERANCE_MEV of that curve, checked here). Each
moved label records the shift in `dft_kmesh_step_eV_per_atom`, so applying twice moves nothing;
the representatives' rows of data/kmesh_families.json move with their labels.
"""

from __future__ import annotations

import argparse
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
SHIPPED_DATA = ROOT / "data" / "si_pbe.extxyz"
SCRATCH = ROOT / "runs" / "diamond_mesh_step"
SHIFTED_FAMILIES = ("crystal_diamond_rattled", "crystal_diamond_sheared_rattled",
                    "crystal_diamond_strained_rattled", "hot_crystal", "vacancy_rattled",
                    "vacancy_relaxed_pbe", "crystal_diamond_64", "vacancy_nnp_relaxed")
FIT_TOLERANCE_MEV = 0.05
A_PBE = 5.4755  # Å, to count the cubic repeats of a cell
STEP_KEY = "dft_kmesh_step_eV_per_atom"
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


def cell_key(atoms: Atoms) -> tuple:
    return (len(atoms), *np.round(atoms.cell.array.ravel(), 4))


def measure(wanted: list[int] | None) -> None:
    data = ase.io.read(ROOT / "data" / "si_pbe.extxyz", ":")
    cells: dict[tuple, dict] = {}
    for index, atoms in enumerate(data):
        if atoms.info.get("config_type") not in FAMILIES:
            continue
        entry = cells.setdefault(cell_key(atoms), {"members": [], "atoms": perfect_cell(atoms),
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
        if tuple(entry["members"]) in done or (
                wanted and not set(wanted) & set(entry["members"])):
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


def site_volume(atoms: Atoms) -> float:
    """Volume per diamond lattice site: the vacancy cells have one site more than atoms."""
    repeats = np.round(atoms.cell.lengths() / A_PBE).astype(int)
    return atoms.get_volume() / (8 * int(np.prod(repeats)))


def step_curve(result: dict, data: list[Atoms]) -> np.ndarray:
    """Step (meV/atom) as a parabola in V/site − 20 Å³ through the measured cells (np.polyval
    order); each of them must lie within FIT_TOLERANCE_MEV of it, or the lattice alone does not
    set the step. (Its magnitude is smallest near 19.3 Å³ and grows both ways: a straight line
    misses the measured cells by up to 0.1 meV/atom.)"""
    volumes = np.array([site_volume(data[c["members"][0]]) for c in result["cells"]])
    steps = np.array([c["step_meV_per_atom"] for c in result["cells"]])
    curve = np.polyfit(volumes - 20.0, steps, 2)
    worst = np.abs(np.polyval(curve, volumes - 20.0) - steps).max()
    if worst > FIT_TOLERANCE_MEV:
        raise ValueError(f"{OUT_JSON.name}: a measured cell is {worst:.3f} meV/atom off the "
                         f"parabola in volume (tolerance {FIT_TOLERANCE_MEV})")
    return curve


def move_table_rows(shifts: dict[int, float]) -> None:
    """The moved representatives' rows of the k-mesh table (the same arithmetic as
    `kmesh_families.py check`, which needs GPAW to rerun); a row already moved is marked, so
    a run killed between the table's and the labels' replacement moves the labels, not the
    rows, again."""
    kmesh_path = ROOT / "data" / "kmesh_families.json"
    table = json.loads(kmesh_path.read_text())
    for entry in table["families"].values():
        shift = shifts.get(entry["representative_index"])
        if shift is None or "mesh_step_applied_meV_per_atom" in entry:
            continue
        entry["E_label_eV_per_atom"] += shift
        entry["E_stored_eV_per_atom"] += shift
        entry["dE_stored_meV_per_atom"] = 1000 * (
            entry["E_stored_eV_per_atom"]
            - entry["E_density_eV_per_atom"][str(entry["checked_density"])])
        entry["mesh_step_applied_meV_per_atom"] = 1000 * shift
    tmp_table = kmesh_path.with_suffix(".json.tmp")
    tmp_table.write_text(json.dumps(table, indent=1) + "\n")
    tmp_table.replace(kmesh_path)


def move_label(atoms: Atoms, shift: float, source: str) -> None:
    """Move a shipped-mesh label to the converged mesh by `shift` eV/atom (energies only: the
    step is measured on energies), recording the shift and where it came from."""
    results = atoms.calc.results
    for name in ("energy", "free_energy"):
        if name in results:
            results[name] = results[name] + shift * len(atoms)
    atoms.info[STEP_KEY] = shift
    atoms.info["dft_kmesh_step_source"] = source


def apply(path: Path = SHIPPED_DATA) -> None:
    """Move the supercell labels of `path` by their cells' steps, in place and atomically."""
    data = ase.io.read(path, ":")
    result = json.loads(OUT_JSON.read_text())
    shipped = data if path == SHIPPED_DATA else ase.io.read(SHIPPED_DATA, ":")
    measured = {cell_key(shipped[c["members"][0]]): c["step_meV_per_atom"]
                for c in result["cells"]}
    curve = step_curve(result, shipped)
    shifts: dict[int, float] = {}
    for index, atoms in enumerate(data):
        if (atoms.info["config_type"] not in SHIFTED_FAMILIES or STEP_KEY in atoms.info
                or atoms.info["dft_kpoints"] != "density 3.0 /Angstrom^-1, even Monkhorst-Pack"):
            continue
        key = cell_key(atoms)
        fitted = key not in measured
        step = np.polyval(curve, site_volume(atoms) - 20.0) if fitted else measured[key]
        shift = float(step) / 1000
        move_label(atoms, shift, "parabola in volume per site through the measured cells"
                   if fitted else "measured on its perfect cell")
        shifts[index] = shift
    tmp_data = path.with_suffix(".extxyz.tmp")
    ase.io.write(tmp_data, data, format="extxyz")
    if path == SHIPPED_DATA:  # the k-mesh table's representatives are the shipped data's
        move_table_rows(shifts)
    tmp_data.replace(path)
    print(f"parabola {np.round(curve, 4)} in V/site - 20 Å³; moved {len(shifts)} "
          f"labels by {1000 * min(shifts.values(), default=0):+.3f} ... "
          f"{1000 * max(shifts.values(), default=0):+.3f} meV/atom")


def table() -> None:
    """The markdown table of data/README.md: the measured cells by volume, and the parabola."""
    data = ase.io.read(ROOT / "data" / "si_pbe.extxyz", ":")
    result = json.loads(OUT_JSON.read_text())
    curve = step_curve(result, data)
    print("| family | members | V/atom (Å³) | symmetry operations | step (meV/atom) | "
          "parabola − step |")
    print("|---|---|---|---|---|---|")
    for cell in sorted(result["cells"], key=lambda c: c["volume_per_atom"]):
        fitted = np.polyval(curve, site_volume(data[cell["members"][0]]) - 20.0)
        print(f"| {cell['family']} | {', '.join(map(str, cell['members']))} | "
              f"{cell['volume_per_atom']:.2f} | {cell['symmetry_ops']} | "
              f"{cell['step_meV_per_atom']:.3f} | {fitted - cell['step_meV_per_atom']:+.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["measure", "apply", "table"])
    parser.add_argument("--members", type=int, nargs="*",
                        help="measure: only the cells of these structure indices (default: all)")
    parser.add_argument("--file", type=Path, default=SHIPPED_DATA,
                        help="apply: the labels to move (default: the shipped data; another "
                             "file's cells take the steps measured on the shipped data's)")
    args = parser.parse_args()
    if args.stage == "measure":
        measure(args.members)
    elif args.stage == "table":
        table()
    else:
        apply(args.file.resolve())


if __name__ == "__main__":
    main()
