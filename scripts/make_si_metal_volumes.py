"""Rattled metallic cells beyond the training volumes: data/si_pbe_metal_volumes.extxyz.

    OMP_NUM_THREADS=1 nohup .venv/bin/python scripts/make_si_metal_volumes.py > runs/m.log 2>&1 &
    python scripts/make_si_metal_volumes.py --table     # the table of data/README.md

Writes si_pbe_metal_volumes.extxyz (the rattled cells) and si_pbe_metal_perfect.extxyz (their
perfect primitive cells on the probes' mesh, the reference of each move).

Why: after the polytypes, the worst held-out probes of the shipped e3nn model are the metallic
phases at 0.80 and 1.24 of their volumes (fcc +14.8 and sh +11.9 meV/atom at 1.24, β-Sn +7.7
and sc −7.2 at 0.80), where si_pbe.extxyz holds no cell of theirs (0.85-1.18): every atom
there is an extrapolation. Rattled cells teach the totals of those densities without giving
any atom's energy (their atoms are not equivalent, checked here), so the perfect probes stay
held out and still test the mapping. Volumes beyond the probes' (0.76 and 1.28), never theirs;
the compressed side is where Si's high-pressure phases live (β-Sn from ~11 GPa, sh ~16, fcc
~80).

Labels on the density-5 Γ mesh of the rattled fcc and sh families, moved to the probes' mesh
(density 12 for the 1-atom metals, 8 for β-Sn: make_si_probes.py) by the k-mesh step of the
perfect cell at the same volume (as make_si_bc8.py): the perfect supercell on density 5 against
the perfect primitive cell on the probes' mesh. Resumable: rerun after a kill.

Measured (docs/accuracy.md session 23): trained beside the split, the cells fit but the probes
next to them swung past PBE the other way; no shipped config uses the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ase.io
from ase import Atoms
from diamond_mesh_step import STEP_KEY  # scripts/: the k-mesh step's key
from make_si_bc8 import CONVERGED, PERFECT_KEY, SHIPPED, labelled, write_moved
from make_si_probes import DENSITY_METAL, METALS

from nnpcalc import sampling as s
from nnpcalc.analysis.invariant import classify
from nnpcalc.labeling import write_labels

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "si_pbe_metal_volumes.extxyz"
# the perfect primitive cells at the same volumes: invariant points, for a row that extends the
# data's E(V) of those phases past the probes (docs/accuracy.md session 23)
PERFECT_OUT = ROOT / "data" / "si_pbe_metal_perfect.extxyz"
SCRATCH = ROOT / "runs" / "metal_volumes"
RATTLED_MESH = {**SHIPPED, "kpoint_density": 5.0, "kpoint_gamma": True}
# (phase, volume factor of s.DEFAULT_VOLUME): the probes sit at 0.80 and 1.24
CELLS = (("fcc", 1.28), ("sh", 1.28), ("fcc", 0.76), ("sh", 0.76), ("beta-sn", 0.76),
         ("sc", 0.76))
STDEV = 0.10  # Å, as the rattled metallic cells of si_pbe.extxyz (0.15) and BC8's (0.05-0.15)


def primitive(phase: str, factor: float) -> Atoms:
    return s.crystal(phase, volume_per_atom=s.DEFAULT_VOLUME[phase] * factor)


def supercell(phase: str, factor: float) -> Atoms:
    """The 8-atom (1-atom phases) or 4-atom (β-Sn) cell of si_pbe.extxyz's rattled families."""
    cell = primitive(phase, factor)
    out = cell.repeat((2, 2, 2) if len(cell) == 1 else (2, 1, 1))
    out.info.update(cell.info)
    return out


def probe_mesh(phase: str) -> dict:
    return {**CONVERGED, "kpoint_density": DENSITY_METAL} if phase in METALS else CONVERGED


def rattled_cells() -> list[Atoms]:
    out = []
    for k, (phase, factor) in enumerate(CELLS):
        atoms = s.rattled(supercell(phase, factor), stdev=STDEV, seed=1100 + k)
        if classify(atoms, cutoff=6.0).is_invariant:
            sys.exit(f"{phase} at {factor}: an invariant point, it would give its atoms' energies")
        out.append(atoms)
    return out


def perfect_cells() -> tuple[list[Atoms], list[Atoms]]:
    """The perfect cell of each of CELLS, labelled: the supercell on the rattled cells' mesh
    and the primitive cell on the probes' mesh."""
    rough = labelled([supercell(*c) for c in CELLS], RATTLED_MESH, SCRATCH / "perfect_d5.extxyz")
    fine = [labelled([primitive(phase, factor)], probe_mesh(phase),
                     SCRATCH / "perfect_probe_mesh.extxyz")[0] for phase, factor in CELLS]
    return rough, fine


def main() -> None:
    if sys.argv[1:] == ["--table"]:
        table()
        return
    rough, fine = perfect_cells()
    perfect = [(r.get_potential_energy() / len(r), f.get_potential_energy() / len(f))
               for r, f in zip(rough, fine, strict=True)]
    cells = labelled(rattled_cells(), RATTLED_MESH, SCRATCH / "rattled_d5.extxyz")
    write_moved(cells, perfect, OUT)
    write_labels(fine, PERFECT_OUT)
    named = zip(CELLS, perfect, strict=True)
    print(f"{len(cells)} cells -> {OUT}; k-mesh steps "
          + ", ".join(f"{p} {f}: {1000 * (c - r):+.2f}" for (p, f), (r, c) in named)
          + " meV/atom", flush=True)


def table() -> None:
    """The markdown table of data/README.md, from the labelled file."""
    print("| phase | V (Å³/atom) (× its default) | atoms | E/N − perfect cell (meV/atom) | "
          "k-mesh step (meV/atom) | max force (eV/Å) | GPAW s |")
    print("|---|---|---|---|---|---|---|")
    for (phase, factor), atoms in zip(CELLS, ase.io.read(OUT, ":"), strict=True):
        above = 1000 * (atoms.get_potential_energy() / len(atoms) - atoms.info[PERFECT_KEY])
        print(f"| {phase} | {atoms.get_volume() / len(atoms):.2f} ({factor:.2f}) | {len(atoms)} | "
              f"{above:+.1f} | {1000 * atoms.info[STEP_KEY]:+.2f} | "
              f"{abs(atoms.get_forces()).max():.2f} | {float(atoms.info['wall_time_s']):.0f} |")


if __name__ == "__main__":
    main()
