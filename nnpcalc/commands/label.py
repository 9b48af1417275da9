"""`nnpcalc label STRUCTURES --out FILE`: label structures with GPAW or an ASE calculator."""

from __future__ import annotations

import argparse
import json
import sys

import ase.io
import yaml

from nnpcalc.labeling import label


def register(subparsers) -> None:
    p = subparsers.add_parser("label", help="label structures with GPAW or an ASE calculator",
                              description=__doc__.splitlines()[0])
    p.add_argument("structures", nargs="+", help="files ase.io can read")
    p.add_argument("--calculator", default="gpaw",
                   help="gpaw (default), emt, lj, teacher, a model file, or module:factory")
    p.add_argument("--scheduler", help="run on Dask: local:N, tcp://host:port, "
                                       "slurm:CONFIG.yaml or pbs:CONFIG.yaml")
    p.add_argument("--retries", type=int, default=2, help="retries of a failing structure")
    p.add_argument("--settings", help="YAML with pw_cutoff_eV, kpoint_density, smearing_eV, xc")
    p.add_argument("--out", required=True, help="output extxyz (appended; resumable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = yaml.safe_load(open(args.settings)) if args.settings else {}
    structures = [a for path in args.structures for a in ase.io.read(path, ":")]
    counts = label(structures, args.calculator, settings, args.out,
                   scheduler=args.scheduler, retries=args.retries)
    print(json.dumps(counts), file=sys.stderr)
    return 0 if counts["failed"] == 0 else 1
