"""`nnpcalc report MODEL`: model vs DFT (Markdown + HTML + PNG)."""

from __future__ import annotations

import argparse

from nnpcalc.analysis.report import read_baselines, write_report


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="model vs DFT report (Markdown + HTML + PNG)")
    p.add_argument("model")
    p.add_argument("--dft", help="baselines JSON (data/si_pbe_baselines.json)")
    p.add_argument("--data", nargs="*", help="labelled test structures")
    p.add_argument("--training", nargs="*", help="training structures (for the audit)")
    p.add_argument("--out", default="report")
    p.add_argument("--quick", action="store_true", help="smaller supercells")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import ase.io

    from nnpcalc.calculator import NNPCalculator

    def read(paths):
        return [a for p in paths or [] for a in ase.io.read(p, ":")]

    dft = read_baselines(args.dft) if args.dft else None
    isolated = ({"Si": dft["isolated_atom_energy_eV"]}
                if dft and "isolated_atom_energy_eV" in dft else None)
    path = write_report(NNPCalculator(args.model), args.out, dft, read(args.data),
                        read(args.training), isolated_atom_energies=isolated, quick=args.quick)
    print(f"report written to {path} (and report.html beside it)")
    return 0
