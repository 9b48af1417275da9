"""Copy an accuracy row's model into the package as a shipped model file.

    .venv/bin/python scripts/ship_row.py runs/accuracy/<row> si_model_e3nn.pt

The row trained on frozen copies in its run directory; a user of the shipped file has the
shipped data instead. A frozen file that is byte for byte a shipped data file (sha256) is
renamed in the model's recorded split sources to that file, so `nnpcalc demo` finds the
training structures of `train_only`; the split file itself keeps its frozen name (the demo maps
it onto the shipped data by index). Weights and every other field are copied unchanged.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nnpcalc.models.model_file import read_payload, save_atomically
from nnpcalc.pretrained import DATA_DIR, sha256


def shipped_names(run_dir: Path) -> dict[str, str]:
    """Frozen file in the run directory -> `data/<name>` of the shipped file with its bytes."""
    shipped = {sha256(path): f"data/{path.name}" for path in DATA_DIR.glob("*.extxyz")}
    return {str(path): shipped[sha256(path)] for path in run_dir.glob("train_only_*.extxyz")
            if sha256(path) in shipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("name", help="file name in nnpcalc/data/, e.g. si_model_e3nn.pt")
    args = parser.parse_args()
    payload = read_payload(args.run_dir / "model.pt")
    renamed = shipped_names(args.run_dir)
    sources = payload["metadata"]["summary"]["split_sources"]
    for split, items in sources.items():
        for k, source in enumerate(items):
            path, _, index = source.rpartition(":")
            if path in renamed:
                items[k] = f"{renamed[path]}:{index}"
        print(split, sorted({s.rpartition(":")[0] for s in items}))
    save_atomically(payload, DATA_DIR / args.name)


if __name__ == "__main__":
    main()
