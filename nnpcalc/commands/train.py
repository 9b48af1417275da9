"""`nnpcalc train CONFIG [--data ...] [--out DIR] [--epochs N] [--seed S] [--resume] [--nproc N]`.

`torchrun --nproc_per_node N -m nnpcalc train CONFIG` joins torchrun's process group instead.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a model from labelled structures",
                              description="Train a Behler-Parrinello NNP. Options on the command "
                              "line override the YAML config.")
    p.add_argument("config", nargs="?", help="YAML config (keys: see nnpcalc.train.TrainConfig)")
    p.add_argument("--data", nargs="+", help="labelled structure files or globs")
    p.add_argument("--validation", nargs="+")
    p.add_argument("--out", help="output directory")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--replicas", type=int, help="train K models and save an ensemble")
    p.add_argument("--dtype", choices=["float32", "float64"])
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--nproc", type=int, default=1,
                   help="data-parallel processes on this machine (torch.distributed; same "
                        "result as one process); under torchrun the group is joined instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nnpcalc.train import distributed, fit, load_config

    overrides = {k: getattr(args, k) for k in ("data", "validation", "out", "epochs", "seed",
                                                "replicas", "dtype")}
    cfg = load_config(args.config, overrides)
    if args.nproc > 1:
        distributed.launch(args.nproc, fit, cfg, args.resume, not args.quiet)
    else:
        distributed.init_from_environment()
        fit(cfg, resume=args.resume, progress=not args.quiet)
        if not distributed.is_main():
            return 0
    summary = json.loads(open(f"{cfg.out}/summary.json").read())
    print(json.dumps({k: summary[k] for k in ("validation", "wall_time_s")
                      if k in summary} | {"mapping": summary.get("mapping")}, indent=1))
    print(f"model written to {cfg.out}/model.pt")
    return 0
