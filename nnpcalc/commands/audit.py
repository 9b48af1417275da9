"""`nnpcalc audit MODEL --data ...`: the atomic-energy mapping audit, written as a report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nnpcalc.analysis.audit import __doc__ as AUDIT_DOC
from nnpcalc.analysis.audit import audit, default_probes


def add_probe_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--probes", nargs="*", default=[],
                   help="labelled probe structures (default: the shipped data/si_probes.extxyz "
                        "when it exists and the model covers its elements)")
    p.add_argument("--no-default-probes", action="store_true",
                   help="do not add the shipped probe file when --probes is not given")


def chosen_probes(args: argparse.Namespace, calc, training: list, data_files: list[str]
                  ) -> tuple[list, Path | None, str]:
    """--probes, else the shipped probe file when it fits the model and data (unless
    --no-default-probes): the probes, their default file, and a note on the choice."""
    import ase.io

    if args.probes:
        return ([a for path in args.probes for a in ase.io.read(path, ":")], None,
                "given with --probes")
    if args.no_default_probes:
        return [], None, "none (--no-default-probes)"
    return default_probes(calc, training, data_files)


def register(subparsers) -> None:
    p = subparsers.add_parser("audit", help="audit the atomic-energy mapping of a model",
                              description=AUDIT_DOC.splitlines()[0])
    p.add_argument("model", help="nnpcalc model file")
    p.add_argument("--data", nargs="+", required=True, help="training data (labelled)")
    p.add_argument("--validation", nargs="*", default=[], help="held-out labelled data")
    add_probe_arguments(p)
    p.add_argument("--isolated-energy", nargs="*", default=[], metavar="SYMBOL=EV",
                   help="isolated-atom energies, e.g. Si=0.0")
    p.add_argument("--out", default="audit", help="output directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import ase.io

    from nnpcalc.analysis.audit_report import write_audit_report
    from nnpcalc.calculator import NNPCalculator

    def read(paths):
        return [a for path in paths for a in ase.io.read(path, ":")]

    isolated = {k: float(v) for k, v in (item.split("=") for item in args.isolated_energy)}
    calc = NNPCalculator(args.model)
    training = read(args.data)
    probes, probe_source, probe_note = chosen_probes(args, calc, training, args.data)
    result = audit(calc, training, probes, read(args.validation), isolated or None)
    path = write_audit_report(result, args.out)
    print(json.dumps({"verdict": result.verdict, "explanation": result.explanation,
                      "held_out_mapping_rmse_meV": result.held_out_mapping_rmse_meV,
                      "energy_rmse_meV_per_atom": result.energy_rmse_meV_per_atom,
                      "fit_energy_rmse_meV_per_atom": result.fit_energy_rmse_meV_per_atom,
                      "default_probes": str(probe_source) if probe_source else None,
                      "probes": probe_note,
                      "excluded_probes": result.excluded_probes,
                      "pinned": result.pinned},
                     indent=1))
    print(f"report: {path}")
    return 0
