"""Cells labelled by the shipped e3nn model, for training a BP model beside the DFT data.

    .venv/bin/python scripts/make_si_distil_cells.py   # ~30 s; writes data/si_e3nn_distil.extxyz

Why: every BP recipe of sessions 6-29 either fits the 270 PBE cells loosely or fits them and
extrapolates (vacancy collapses, held-out invariant points about 20-200 meV/atom); the e3nn model
meets all of issue 10's targets on the same data. A teacher can label as many cells as a student
needs, near the data where the teacher is trusted, so the student sees the neighbourhood of
each training cell and not only the cell (knowledge distillation).

The cells: new draws around the *training* split of data/si_pbe.extxyz (the split that
data/train_si_e3nn.yaml's fractions and seed draw, nnpcalc.train.data.split_indices) and the
periodic cells that config trains beside it — each strained by up to 1.5 % per component and
rattled by 0.03-0.06 Å — plus 8-atom diamond cells under small random strains (the elastic and
optical response). No validation, test or probe cell is a seed. Labels: energy, forces and
stress of data/si_model_e3nn.pt (`info["teacher"]` names it); group names are the seed's
prefixed with "distil_". The scratch file is the teacher's (its sha256 in the name): after a
reshipped e3nn model a rerun labels every cell again.
"""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import yaml
from ase import Atoms
from make_si_dataset import A0  # scripts/: the lattice the data's generators build cells with

from nnpcalc import sampling as s
from nnpcalc.labeling import label, labelled_in_order, write_labels
from nnpcalc.pretrained import sha256
from nnpcalc.train.data import split_indices

ROOT = Path(__file__).resolve().parents[1]
TEACHER = ROOT / "data" / "si_model_e3nn.pt"
RECIPE = ROOT / "data" / "train_si_e3nn.yaml"  # the teacher's split and the cells beside it
OUT = ROOT / "data" / "si_e3nn_distil.extxyz"
COPIES = 2  # draws per seed cell: 4662 atoms in all, ~2x the training set's atoms
N_DIAMOND = 40  # 8-atom diamond cells under random strain
MAX_STRAIN = 0.015  # per Voigt component (engineering shear)
RATTLE = (0.03, 0.06)  # Å, the range of the rattle's standard deviation


def seeds() -> list[Atoms]:
    """The periodic training cells of the teacher's recipe: its training split and the cells
    beside it (the clusters among them are not periodic: left out)."""
    recipe = yaml.safe_load(RECIPE.read_text())
    (data_file,) = recipe["data"]
    data = ase.io.read(ROOT / data_file, ":")
    train, _, _ = split_indices(len(data), recipe["val_fraction"], recipe["test_fraction"],
                                recipe["seed"])
    beside = [a for path in recipe["train_only"] for a in ase.io.read(ROOT / path, ":")]
    return [a for a in [data[i] for i in train] + beside if a.pbc.all()]


def cells() -> list[Atoms]:
    rng = np.random.default_rng(30)
    out = []
    for k, seed in enumerate(seeds()):
        group = "distil_" + str(seed.info.get("config_type", "unknown"))
        for copy in range(COPIES):
            cell = Atoms(seed.symbols, seed.positions, cell=seed.cell, pbc=True)
            cell = s.strained(cell, rng.uniform(-MAX_STRAIN, MAX_STRAIN, 6))
            cell = s.rattled(cell, stdev=rng.uniform(*RATTLE), seed=30000 + COPIES * k + copy)
            cell.info["config_type"] = group
            out.append(cell)
    for k in range(N_DIAMOND):
        cell = s.strained(s.diamond_supercell("Si", A0, 1), rng.uniform(-0.02, 0.02, 6))
        cell = s.rattled(cell, stdev=rng.uniform(0.01, 0.05), seed=31000 + k)
        cell.info["config_type"] = "distil_crystal_diamond_strained_rattled"
        out.append(cell)
    return out


def main() -> None:
    structures = cells()
    scratch = ROOT / "runs" / f"distil_{sha256(TEACHER)[:12]}.extxyz"
    label(structures, str(TEACHER), {}, scratch)
    done = labelled_in_order(structures, {}, scratch)
    for atoms in done:
        atoms.info["teacher"] = TEACHER.name
    write_labels(done, OUT)
    print(f"{len(done)} cells, {sum(len(a) for a in done)} atoms -> {OUT}", flush=True)


if __name__ == "__main__":
    main()
