"""Relabel the data's dimers and trimers spin-polarised, in place in si_pbe.extxyz.

    OMP_NUM_THREADS=1 nohup .venv/bin/python scripts/relabel_clusters_spin.py > runs/spin.log &
    python scripts/relabel_clusters_spin.py --table     # the table of data/README.md

Why: the isolated atom is labelled spin-polarised (Hund, 2 μB: -0.842 eV below GPAW's
non-spin-polarised reference) and every model is anchored to it, but the clusters were labelled
without spin polarisation, so their curve tends to 0 eV/atom, not -0.842, as the atoms separate.
Measured here (GPAW, same settings): the spin-polarised dimer lies 0.19-0.28 eV/atom below
the non-spin-polarised one at 1.95-3.5 Å (triplet, 2 μB, up to 3.3 Å; 4 μB, two Hund atoms,
at 3.5 Å). No model can fit both the atom and those labels near its cutoff; the 3.5 Å dimer
was 20-70 meV/atom off in the e3nn stages and the 2.9 Å test dimer +50.

A spin-polarised cluster started without moments stays non-magnetic, and a start can end in a
local minimum or slosh between moments: each cluster is labelled from two starts (1 and 2 μB
per atom, the latter the Hund atom's) and the lower energy kept; a start that does not
converge in 200 SCF iterations is recorded as a failure and the other start kept. Structures
stay in place (same order, so the same split); resumable through nnpcalc.labeling.label.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ase.io
import yaml
from ase import Atoms

from nnpcalc.labeling import label, labels_by_hash, structure_hash, worker_input, write_labels

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
DATA_FILE = DATA / "si_pbe.extxyz"
FILES = (DATA_FILE, DATA / "si_pbe_dimers.extxyz")  # the second made by make_si_dimers.py
SCRATCH = ROOT / "runs" / "clusters_spin"
SHIPPED = yaml.safe_load((DATA / "gpaw_settings.yaml").read_text())
STARTS = (1.0, 2.0)  # μB per atom
WORKERS = "local:2"


def is_cluster(atoms: Atoms) -> bool:
    return not atoms.pbc.any() and len(atoms) > 1


def spin_input(atoms: Atoms) -> Atoms:
    """Geometry, the data's flags, spin-polarised."""
    out = worker_input(atoms)
    out.info.update(spin_polarized=True, hund=False, config_type=atoms.info["config_type"])
    if "distance" in atoms.info:
        out.info["distance"] = atoms.info["distance"]
    return out


def start_settings(start: float) -> dict:
    return {**SHIPPED, "initial_magmom_per_atom": start, "scf_maxiter": 200}


def lowest_of_starts(structures: list[Atoms]) -> list[Atoms]:
    """Each structure labelled spin-polarised from every start; the lowest energy, in order."""
    work = [spin_input(a) for a in structures]
    found = {}
    for start in STARTS:
        path = SCRATCH / f"start_{start:g}.extxyz"
        # retries=0: a start that does not converge would not converge again
        label(work, "gpaw", start_settings(start), path, scheduler=WORKERS, retries=0)
        found[start] = labels_by_hash(path)
    out = []
    for index, atoms in enumerate(work):
        candidates = [found[s][k] for s in STARTS
                      if (k := structure_hash(atoms, start_settings(s))) in found[s]]
        if not candidates:
            sys.exit(f"cluster {index} ({atoms.info['config_type']}, {len(atoms)} atoms): no "
                     f"start converged; see {SCRATCH}/*.failures.jsonl")
        out.append(min(candidates, key=lambda a: a.get_potential_energy()))
    return out


def main() -> None:
    if sys.argv[1:] == ["--table"]:
        table()
        return
    data = ase.io.read(DATA_FILE, ":")
    where = [i for i, a in enumerate(data) if is_cluster(a)]
    for i, atoms in zip(where, lowest_of_starts([data[i] for i in where]), strict=True):
        data[i] = atoms
    write_labels(data, DATA_FILE)
    print(f"{len(where)} clusters relabelled spin-polarised in {DATA_FILE}", flush=True)


def moment(atoms: Atoms) -> float:
    """The label's magnetic moment (the extxyz reader moves it into the calculator)."""
    return float(atoms.info.get("magmom", atoms.calc.results.get("magmom")))


def table() -> None:
    """The markdown table of data/README.md: both starts of every cluster."""
    by_start = {s: labels_by_hash(SCRATCH / f"start_{s:g}.extxyz") for s in STARTS}
    print("| cluster | geometry | E/N, start 1 μB (eV/atom) | start 2 μB | kept: moment (μB) |")
    print("|---|---|---|---|---|")
    for path in FILES:
        for atoms in ase.io.read(path, ":"):
            if not is_cluster(atoms):
                continue
            cells = []
            for s in STARTS:
                hit = by_start[s].get(structure_hash(spin_input(atoms), start_settings(s)))
                cells.append(f"{hit.get_potential_energy() / len(hit):.4f} "
                             f"({abs(moment(hit)):.1f} μB)" if hit else "did not converge")
            d = sorted(atoms.get_all_distances()[0][1:])
            print(f"| {atoms.info['config_type']} | {', '.join(f'{x:.2f}' for x in d)} Å | "
                  f"{cells[0]} | {cells[1]} | {abs(moment(atoms)):.1f} |")


if __name__ == "__main__":
    main()
