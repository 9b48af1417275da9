"""Does the k-mesh step of an 8-atom diamond cell depend on the rattle? (docs/accuracy.md, s. 10)

    OMP_NUM_THREADS=1 .venv/bin/python scripts/diamond_mesh_rattle_check.py   # ~11 min

The least-rattled cubic 8-atom member of crystal_diamond_rattled and its perfect crystal, each on
the shipped mesh and on a Γ-centred density-8 mesh (GPAW): prints the four energies, the step
on each cell, and rattled − perfect on each mesh. Writes runs/diamond_mesh_rattle_check.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import numpy as np
from diamond_mesh_step import CONVERGED, SHIPPED, perfect_cell

from nnpcalc.labeling import run_gpaw

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    data = ase.io.read(ROOT / "data" / "si_pbe.extxyz", ":")
    index = min((a.info["rattle_stdev"], i) for i, a in enumerate(data)
                if a.info["config_type"] == "crystal_diamond_rattled" and len(a) == 8
                and np.allclose(a.cell.array, np.diag(a.cell.lengths()), atol=1e-6))[1]
    rattled = data[index]
    perfect = perfect_cell(rattled)
    e = {(cell, mesh): run_gpaw(atoms, settings)["energy"] / 8
         for cell, atoms in (("perfect", perfect), ("rattled", rattled))
         for mesh, settings in (("shipped", SHIPPED), ("converged", CONVERGED))}
    out = {"index": index, **{f"{c}_{m}_eV_per_atom": v for (c, m), v in e.items()}}
    (ROOT / "runs").mkdir(exist_ok=True)
    (ROOT / "runs" / "diamond_mesh_rattle_check.json").write_text(json.dumps(out, indent=1))
    for cell in ("perfect", "rattled"):
        print(f"{cell}: step {1000 * (e[cell, 'converged'] - e[cell, 'shipped']):+.2f} meV/atom")
    for mesh in ("shipped", "converged"):
        print(f"{mesh} mesh: rattled - perfect "
              f"{1000 * (e['rattled', mesh] - e['perfect', mesh]):.2f} meV/atom")


if __name__ == "__main__":
    main()
