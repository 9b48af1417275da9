"""`nnpcalc properties MODEL [MODEL ...]`: a0, B, Cij, Γ optical and the vacancy of each model,
one model per task — on Dask workers with `--scheduler`, with the same numbers as in series."""

from __future__ import annotations

import argparse
import json

from nnpcalc.analysis.properties import properties_of


def register(subparsers) -> None:
    p = subparsers.add_parser("properties", help="diamond-crystal properties of several models",
                              description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help="model files, shipped names, 'teacher', "
                                             "module:factory")
    p.add_argument("--vacancy-size", type=int, default=2, help="n for an n³ conventional cell")
    p.add_argument("--scheduler", help="local:N, tcp://host:port, slurm:CONFIG.yaml")
    p.add_argument("--out", default="properties.json")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tasks = [(spec, args.vacancy_size) for spec in args.models]
    if args.scheduler:
        from nnpcalc.campaign import map_as_completed

        results = dict(map_as_completed(properties_of, tasks, args.scheduler, desc="models"))
    else:
        results = {k: properties_of(*task) for k, task in enumerate(tasks)}
    table = {args.models[k]: results[k] for k in range(len(tasks))}
    failed = {name: f"{type(r).__name__}: {r}" for name, r in table.items()
              if isinstance(r, Exception)}
    table = {name: r for name, r in table.items() if name not in failed}
    with open(args.out, "w") as handle:
        json.dump({"properties": table, "failed": failed}, handle, indent=1)
    for name, props in table.items():
        print(name, json.dumps({k: round(v, 4) for k, v in props.items()}))
    for name, error in failed.items():
        print(f"{name}: failed: {error}")
    return 1 if failed else 0
