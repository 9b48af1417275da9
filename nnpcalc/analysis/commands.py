"""CLI for analyses: `nnpcalc phonons`, `nnpcalc defects`, `nnpcalc report`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nnpcalc.analysis.report import add_parser as add_report_parser


def register(subparsers) -> None:
    p = subparsers.add_parser("phonons", help="phonon bands, DOS and Γ frequencies of Si")
    p.add_argument("model")
    p.add_argument("--a0", type=float, help="lattice parameter (default: from the EOS)")
    p.add_argument("--supercell", type=int, default=3)
    p.add_argument("--out", default="phonons")
    p.set_defaults(func=run_phonons)
    d = subparsers.add_parser("defects", help="vacancy and interstitial formation energies")
    d.add_argument("model")
    d.add_argument("--kinds", nargs="+", default=["vacancy", "tetrahedral", "hexagonal",
                                                  "split110"])
    d.add_argument("--sizes", nargs="+", type=int, default=[2])
    d.add_argument("--out", default="defects")
    d.set_defaults(func=run_defects)
    add_report_parser(subparsers)


def _lattice(calc, a0):
    from ase.build import bulk

    from nnpcalc.analysis.eos import equation_of_state

    return a0 or equation_of_state(calc, bulk("Si", "diamond", 5.45, cubic=True))["a0_angstrom"]


def run_phonons(args: argparse.Namespace) -> int:
    from ase.build import bulk

    from nnpcalc.analysis.phonons import phonons, plot_bands
    from nnpcalc.calculator import NNPCalculator

    calc = NNPCalculator(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = args.supercell
    _, res = phonons(calc, bulk("Si", "diamond", _lattice(calc, args.a0)), (n, n, n))
    plot_bands({"model": res}, out / "bands.png")
    (out / "phonons.json").write_text(json.dumps(res))
    print(json.dumps({k: res[k] for k in ("gamma_frequencies_THz", "n_imaginary_band_points")}))
    return 0


def run_defects(args: argparse.Namespace) -> int:
    from nnpcalc.analysis.defects import size_convergence
    from nnpcalc.calculator import NNPCalculator

    calc = NNPCalculator(args.model)
    a0 = _lattice(calc, None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {k: size_convergence(calc, k, a0, args.sizes) for k in args.kinds}
    (out / "defects.json").write_text(json.dumps(results, indent=1))
    for kind, series in results.items():
        print(kind, [(r["n_atoms"], round(r["formation_energy_eV"], 3)) for r in series])
    return 0
