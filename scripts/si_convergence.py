"""Convergence of GPAW settings for Si: plane-wave cutoff and k-point density.

    python scripts/si_convergence.py        # writes data/convergence.json and prints a table

Energy per atom and forces of a rattled 2-atom diamond cell (semiconductor; rattling removes
the symmetry, so forces are non-zero) and energy of beta-Sn (metal, smeared) against the
tightest setting of each scan.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase.build import bulk

from nnpcalc.labeling import run_gpaw
from nnpcalc.sampling import crystal

BASE = {"pw_cutoff_eV": 350, "kpoint_density": 3.0, "smearing_eV": 0.05, "xc": "PBE"}
SCANS = {"pw_cutoff_eV": [250, 300, 350, 400, 550], "kpoint_density": [2.0, 2.5, 3.0, 4.0, 5.0]}


def main() -> None:
    rattled = bulk("Si", "diamond", a=5.47)
    rattled.rattle(0.1, seed=0)
    metal = crystal("beta-sn")
    rows = []
    for key, values in SCANS.items():
        results = {}
        for value in values:
            settings = {**BASE, key: value}
            r1, r2 = run_gpaw(rattled, settings), run_gpaw(metal, settings)
            results[value] = (r1["energy"] / 2, np.array(r1["forces"]), r2["energy"] / 2)
            print(key, value, results[value][0], results[value][2], flush=True)
        ref = results[values[-1]]
        for value in values:
            e, f, em = results[value]
            rows.append({"parameter": key, "value": value,
                         "diamond_dE_meV_per_atom": 1000 * (e - ref[0]),
                         "diamond_max_dF_eV_per_A": float(np.abs(f - ref[1]).max()),
                         "beta_sn_dE_meV_per_atom": 1000 * (em - ref[2])})
    out = Path(__file__).resolve().parents[1] / "data" / "convergence.json"
    out.write_text(json.dumps({"base_settings": BASE, "rows": rows}, indent=1))
    print(f"{'parameter':16s} {'value':>6s} {'dE diamond':>11s} {'dF max':>8s} {'dE beta-Sn':>11s}")
    for r in rows:
        print(f"{r['parameter']:16s} {r['value']:6g} {r['diamond_dE_meV_per_atom']:11.2f} "
              f"{r['diamond_max_dF_eV_per_A']:8.4f} {r['beta_sn_dE_meV_per_atom']:11.2f}")


if __name__ == "__main__":
    main()
