"""Print a Markdown summary of data/si_pbe.extxyz: counts per config type and compute time."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import ase.io

DATA = Path(__file__).resolve().parents[1] / "data"


def main() -> None:
    rows: dict[str, list] = defaultdict(lambda: [0, 0, 0.0])
    for atoms in ase.io.read(DATA / "si_pbe.extxyz", ":"):
        row = rows[atoms.info["config_type"]]
        row[0] += 1
        row[1] = max(row[1], len(atoms))
        row[2] += float(atoms.info.get("wall_time_s", 0.0))
    print("| config type | structures | max atoms | GPAW wall time (s) |")
    print("|---|---|---|---|")
    for name, (n, atoms, seconds) in sorted(rows.items()):
        print(f"| {name} | {n} | {atoms} | {seconds:.0f} |")
    total = sum(r[0] for r in rows.values()), sum(r[2] for r in rows.values())
    print(f"| **total** | {total[0]} | | {total[1]:.0f} ({total[1] / 3600:.2f} h, one core) |")


if __name__ == "__main__":
    main()
