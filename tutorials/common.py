"""Shared start of the property tutorials: arguments, the calculator, its own a0."""

from __future__ import annotations

import argparse
from pathlib import Path

from ase.build import bulk

from nnpcalc.analysis.eos import equation_of_state
from nnpcalc.resolve import calculator_from

DATA = Path(__file__).resolve().parents[1] / "data"


def setup(doc: str, default_out: str):
    """Parse --model/--out/--quick; return (args, out_dir, calculator, model's a0 in Å)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--model", default=str(DATA / "si_model.pt"),
                        help="model file, or 'teacher' for Stillinger-Weber")
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--quick", action="store_true", help="small supercells (CI)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    calc = calculator_from(args.model)
    # Properties at the model's own equilibrium, not at the DFT lattice parameter.
    a0 = equation_of_state(calc, bulk("Si", "diamond", 5.47, cubic=True))["a0_angstrom"]
    return args, out, calc, a0
