"""Some labelled structures again on a denser Γ-centred mesh, against their stored labels.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/label_mesh_check.py 232 153 171 [--density 5]

The k-mesh table (data/kmesh_families.json) checks one representative per family; this
checks chosen structures of data/si_pbe.extxyz (by index), e.g. the ones a model misses most,
to tell label noise from model error. Same settings as scripts/kmesh_families.py; labels go
through nnpcalc.labeling.label into runs/label_mesh/, so a rerun after a kill resumes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
from kmesh_families import clean, gamma_settings

from nnpcalc.labeling import label

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("indices", nargs="+", type=int)
    parser.add_argument("--density", type=float, default=5.0, help="k-points per Å⁻¹")
    args = parser.parse_args()
    data = ase.io.read(ROOT / "data" / "si_pbe.extxyz", ":")
    out = ROOT / "runs" / "label_mesh"
    for index in args.indices:
        atoms = data[index]
        path = out / f"{index}_density{args.density:g}.extxyz"
        label([clean(atoms)], "gpaw", gamma_settings(args.density), path, progress=False)
        dense = ase.io.read(path)
        diff = (atoms.get_potential_energy() - dense.get_potential_energy()) / len(atoms)
        print(f"{index} {atoms.info['config_type']}: label − density {args.density:g} "
              f"{1000 * diff:+.2f} meV/atom", flush=True)


if __name__ == "__main__":
    main()
