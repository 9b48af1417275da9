"""`nnpcalc models`: the shipped models, their files, settings and recorded test errors."""

from __future__ import annotations

import argparse

from nnpcalc.pretrained import MODELS, describe


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="list the shipped models (usable by name)",
                              description=__doc__.splitlines()[0])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for name in MODELS:
        d = describe(name)
        test = d["test"]
        print(f"{name}: {d['description']}")
        settings = ", ".join(f"{k} {v}" for k, v in d["settings"].items())
        print(f"  kind {d['kind']}, species {d['species']}, cutoff {d['cutoff_angstrom']} Å; "
              f"{settings}")
        print(f"  trained on {d['n_train']} structures of {d['data']} ({d['config']})")
        if "energy_rmse_meV_per_atom" in test:
            print(f"  test: E/N RMSE {test.get('energy_rmse_meV_per_atom', float('nan')):.1f} "
                  f"meV/atom, forces RMSE {test.get('forces_rmse_eV_per_A', float('nan')):.3f} "
                  f"eV/Å")
        print(f"  file {d['file']} (sha256 {d['sha256'][:16]}…)")
        print(f'  use: NNPCalculator("{name}")')
    return 0
