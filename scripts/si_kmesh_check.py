"""Does the shipped k-point recipe respect the crystal's symmetry? Γ-centred vs shifted meshes.

    OMP_NUM_THREADS=1 python scripts/si_kmesh_check.py      # writes data/kmesh_check.json (~3 min)

Even Monkhorst-Pack meshes are shifted off Γ; in an fcc-lattice cell (the 2-atom diamond cell)
the shift is not invariant under the cubic point group, so small-displacement forces become
direction dependent. The Γ optical mode (atoms displaced by ±u, harmonic: ω² = -F·d/(u M)) is
a sharp probe: with a symmetric mesh it cannot depend on the displacement direction d.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml
from ase.build import bulk
from ase.units import _amu, _e

from nnpcalc.labeling import run_gpaw

DATA = Path(__file__).resolve().parents[1] / "data"
U = 0.01  # Å, per atom
DIRECTIONS = {"100": np.array([1.0, 0.0, 0.0]), "011": np.array([0.0, 1.0, 1.0]) / np.sqrt(2)}


def optical_thz(settings: dict, a0: float, direction: np.ndarray) -> float:
    cell = bulk("Si", "diamond", a0)
    cell.positions[0] += U * direction
    cell.positions[1] -= U * direction
    force = np.asarray(run_gpaw(cell, settings)["forces"])[0] @ direction
    mass = cell.get_masses()[0]
    return float(np.sqrt(-force / U * _e * 1e20 / (mass * _amu)) / (2 * np.pi * 1e12))


def main() -> None:
    base = yaml.safe_load((DATA / "gpaw_settings.yaml").read_text())
    a0 = json.loads((DATA / "si_pbe_baselines.json").read_text())["a0_angstrom"]
    meshes = {"shipped (MP, density 3.0)": base,
              "Γ-centred, density 3.0": {**base, "kpoint_gamma": True},
              "MP, density 5.0": {**base, "kpoint_density": 5.0},
              "Γ-centred, density 5.0": {**base, "kpoint_density": 5.0, "kpoint_gamma": True}}
    rattled = bulk("Si", "diamond", a=5.47)
    rattled.rattle(0.1, seed=0)  # the convergence scan's cell
    ref = run_gpaw(rattled, meshes["Γ-centred, density 5.0"])
    rows = []
    for name, settings in meshes.items():
        res = run_gpaw(rattled, settings)
        row = {"mesh": name,
               **{f"gamma_optical_{k}_THz": optical_thz(settings, a0, d)
                  for k, d in DIRECTIONS.items()},
               "rattled_dE_meV_per_atom": 1000 * (res["energy"] - ref["energy"]) / 2,
               "rattled_max_dF_eV_per_A": float(np.abs(np.subtract(res["forces"],
                                                                   ref["forces"])).max())}
        rows.append(row)
        print(json.dumps(row), flush=True)
    (DATA / "kmesh_check.json").write_text(json.dumps(
        {"a0_angstrom": a0, "displacement_A": U, "reference": "Γ-centred, density 5.0",
         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
