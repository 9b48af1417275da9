"""Scale-out on this machine: labelling on 1 vs 2 Dask workers, a training epoch on 1 vs 2 DDP
processes — ratios measured in the same run.

    python benchmarks/scale_out.py                    # both, GPAW labelling (needs GPAW)
    python benchmarks/scale_out.py --calculator teacher --structures 200

Labelling: `--structures` small Si cells (2-atom cells, strained and rattled) labelled from
scratch through `nnpcalc.labeling.label(..., scheduler="local:N")` for N = 1 and 2 (one thread
per worker), with light GPAW settings so that a run takes minutes. Training: the shipped data
and the shipped BP model's first stage (`data/train_si_stage1.yaml`, from session 31 with the
e3nn model's cells beside the split; global batch `--batch-size`, 8 and 32 by default) for
`--epochs` epochs in 1 and 2 gloo processes (one thread each); the epoch time is the median,
over epochs after the first, of the optimisation steps alone (`steps_s` in the log; validation
and the monitor run on rank 0 between epochs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
GPAW_LIGHT = {"pw_cutoff_eV": 250, "kpoint_density": 2.0, "smearing_eV": 0.1, "xc": "PBE"}


def small_cells(n: int):
    from ase.build import bulk

    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        atoms = bulk("Si", "diamond", 5.43 * rng.uniform(0.97, 1.03))
        atoms.rattle(0.05, seed=k)
        out.append(atoms)
    return out


def time_labelling(calculator: str, n: int, workers: int, tmp: Path) -> float:
    from nnpcalc.labeling import label

    settings = GPAW_LIGHT if calculator == "gpaw" else {}
    start = time.perf_counter()
    counts = label(small_cells(n), calculator, settings, tmp / f"labels_{workers}.extxyz",
                   progress=False, scheduler=f"local:{workers}")
    assert counts["labelled"] == n, counts
    return time.perf_counter() - start


def time_training(nproc: int, epochs: int, batch_size: int, tmp: Path) -> float:
    from nnpcalc.train import fit, load_config
    from nnpcalc.train.distributed import launch

    out = tmp / f"train_{nproc}"
    cfg = load_config(ROOT / "data" / "train_si_stage1.yaml",
                      {"out": str(out), "epochs": epochs, "batch_size": batch_size})
    cfg.data = [str(ROOT / "data" / "si_pbe.extxyz")]
    cfg.train_only = [str(ROOT / path) for path in cfg.train_only]
    if nproc == 1:
        fit(cfg, progress=False)
    else:
        launch(nproc, fit, cfg, False, False)
    times = [row["steps_s"] for row in json.loads((out / "log.json").read_text())[1:]]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calculator", default="gpaw", help="gpaw, teacher, emt, ...")
    parser.add_argument("--structures", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--skip", choices=["labelling", "training"])
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.skip != "labelling":
            one = time_labelling(args.calculator, args.structures, 1, tmp)
            two = time_labelling(args.calculator, args.structures, 2, tmp)
            results["labelling"] = {"calculator": args.calculator,
                                    "structures": args.structures, "one_worker_s": one,
                                    "two_workers_s": two, "speedup": one / two}
            print(json.dumps(results["labelling"]), flush=True)
        for batch in ([] if args.skip == "training" else args.batch_size):
            one = time_training(1, args.epochs, batch, tmp)
            two = time_training(2, args.epochs, batch, tmp)
            results[f"training_epoch_batch_{batch}"] = {"one_process_s": one,
                                                        "two_processes_s": two,
                                                        "speedup": one / two}
            print(json.dumps(results[f"training_epoch_batch_{batch}"]), flush=True)
    print(yaml.safe_dump(results, sort_keys=False), file=sys.stderr)


if __name__ == "__main__":
    main()
