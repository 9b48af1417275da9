"""`nnpcalc check MODEL|teacher|module:factory`: the conformance checks, as a pass/fail table."""

from __future__ import annotations

import argparse
import json

import ase.io

from nnpcalc.resolve import calculator_from
from nnpcalc.testing import CHECKS, format_table, run_checks


def register(subparsers) -> None:
    p = subparsers.add_parser("check", help="physics conformance checks of any calculator",
                              description=__doc__.splitlines()[0])
    p.add_argument("calculator", help="model file, 'teacher', or module:factory returning an "
                                      "ASE calculator")
    p.add_argument("--only", nargs="+", choices=list(CHECKS), help="run only these checks")
    p.add_argument("--structure", help="a structure file (ase.io) to check on, instead of a "
                                       "rattled, strained 8-atom diamond cell")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    atoms = ase.io.read(args.structure) if args.structure else None
    results = run_checks(calculator_from(args.calculator, dtype="float64"), atoms, args.only)
    print(format_table(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([{**vars(r), "status": r.status} for r in results], handle, indent=1)
    failed = [r.name for r in results if r.status == "FAIL"]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed or not applicable"
          + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0
