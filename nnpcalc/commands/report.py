"""`nnpcalc report MODEL`: model vs DFT (Markdown + HTML + PNG)."""

from __future__ import annotations

import argparse

from nnpcalc.analysis.report import read_baselines, write_report
from nnpcalc.commands.audit import add_probe_arguments, chosen_probes


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="model vs DFT report (Markdown + HTML + PNG)")
    p.add_argument("model")
    p.add_argument("--dft", help="baselines JSON (data/si_pbe_baselines.json)")
    p.add_argument("--data", nargs="*", help="labelled test structures")
    p.add_argument("--training", nargs="*", help="training structures (for the audit)")
    add_probe_arguments(p)
    p.add_argument("--out", default="report")
    p.add_argument("--quick", action="store_true", help="smaller supercells")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import ase.io

    from nnpcalc.calculator import NNPCalculator

    def read(paths):
        return [a for p in paths or [] for a in ase.io.read(p, ":")]

    if args.probes and not args.training:
        # the audit sets each probe against the training atoms nearest to it in feature space
        raise ValueError("--probes needs --training: the audit compares the probes with the "
                         "training structures")
    dft = read_baselines(args.dft) if args.dft else None
    isolated = ({"Si": dft["isolated_atom_energy_eV"]}
                if dft and "isolated_atom_energy_eV" in dft else None)
    calc, training = NNPCalculator(args.model), read(args.training)
    probes = chosen_probes(args, calc, training, args.training or [])[0] if training else []
    path = write_report(calc, args.out, dft, read(args.data), training, probes=probes,
                        isolated_atom_energies=isolated, quick=args.quick)
    print(f"report written to {path} (and report.html beside it)")
    return 0
