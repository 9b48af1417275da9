"""More cells of the families both held-out splits miss most: data/si_pbe_tail.extxyz.

    OMP_NUM_THREADS=1 nohup .venv/bin/python scripts/make_si_tail_cells.py > runs/tail.log 2>&1 &

Why: the shipped e3nn model's largest energy errors on the validation *and* the test cells of
data/si_pbe.extxyz's fixed split are the most strongly rattled strained diamond cells (rattle
0.19-0.24 Å, rms forces ~6 eV/Å: +21, -11 meV/atom) and the (100) and (111) slabs (-6 to -10),
families with few training cells at those extremes. These cells are new draws of the same
generators (scripts/make_si_dataset.py, tiers 2 and 5) with seeds no cell of the data uses: the
strained cells at the top of tier 5's rattle range (no pair closer than 1.7 Å; the family's
closest is 1.73), the slabs at tier 5's lattice and rattle ranges. They train beside the
split; the split's own cells stay where they are.

Labels: each family's own settings (`settings_groups`: the slabs on their Γ-centred density-5
mesh, the diamond cells on the shipped shifted mesh, then moved by their perfect cell's k-mesh
step exactly as their family in si_pbe.extxyz, `diamond_mesh_step.apply`). Resumable through
nnpcalc.labeling.label: rerun after a kill.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from ase import Atoms
from ase.neighborlist import neighbor_list
from diamond_mesh_step import apply  # scripts/: the k-mesh step of the diamond supercells
from make_si_dataset import A0, settings_groups  # scripts/: the generators' lattice, meshes

from nnpcalc import sampling as s
from nnpcalc.labeling import label, labelled_in_order, write_labels

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "si_pbe_tail.extxyz"
SCRATCH = ROOT / "runs" / "tail.extxyz"
SETTINGS = yaml.safe_load((ROOT / "data" / "gpaw_settings.yaml").read_text())
N_STRAINED, N_SLABS = 10, 4  # draws per family; ~30 s and ~120 s of GPAW each on one core
# Å: the closest pair of the family's cells in si_pbe.extxyz is 1.73. Two of the ten strained
# draws put a pair at 1.51-1.52 Å (+2.3 and +2.6 eV/atom above diamond, rms forces 13-15 eV/Å,
# where the family's cells reach +1.5 and 6.4): beyond the family, not more of it
CLOSEST_PAIR = 1.7


def closest_pair(atoms: Atoms) -> float:
    return float(neighbor_list("d", atoms, 3.0).min())


def cells() -> list[Atoms]:
    rng = np.random.default_rng(24)
    out = []
    for k in range(N_STRAINED):  # tier 5's draw, its rattle range's upper half
        cell = s.diamond_supercell("Si", A0 * rng.uniform(0.96, 1.04), 1)
        cell = s.strained(cell, rng.uniform(-0.03, 0.03, 6))
        cell = s.rattled(cell, stdev=rng.uniform(0.15, 0.25), seed=2400 + k)
        if closest_pair(cell) >= CLOSEST_PAIR:
            out.append(cell)
    for miller in ("100", "111"):
        for k in range(N_SLABS):
            slab = s.surface(miller, "Si", A0 * rng.uniform(0.98, 1.02), layers=6, vacuum=5.0)
            out.append(s.rattled(slab, stdev=rng.uniform(0.04, 0.16), seed=2450 + k))
    return out


def label_as_their_families(structures: list[Atoms], scratch: Path, out: Path) -> None:
    """Label `structures` (two workers, resumable in `scratch`), each on its family's settings
    in si_pbe.extxyz, write them to `out` and move the diamond supercells among them by their
    k-mesh step, as their families' labels were moved."""
    groups = settings_groups(structures, SETTINGS)
    for settings, group in groups:
        label(group, "gpaw", settings, scratch, scheduler="local:2")
    done = [atoms for settings, group in groups
            for atoms in labelled_in_order(group, settings, scratch)]
    write_labels(done, out)
    apply(out)
    print(f"{len(done)} cells -> {out}", flush=True)


def main() -> None:
    label_as_their_families(cells(), SCRATCH, OUT)


if __name__ == "__main__":
    main()
