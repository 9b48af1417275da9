"""Batched `predict` versus one ASE call per structure, measured in the same run.

    python benchmarks/predict_batched.py [--n 100] [--repeat 2] [--dtype float32]

Prints wall times and their ratio for energy + forces + stress of rattled 64-atom Si cells, and
checks that both paths give the same numbers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from ase.build import bulk

from nnpcalc.calculator import NNPCalculator
from nnpcalc.models import BPNN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2, help="64 atoms for 2 (2x2x2 cubic)")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()
    torch.manual_seed(0)
    calc = NNPCalculator(BPNN(["Si"]), dtype=args.dtype)
    cells = []
    for seed in range(args.n):
        atoms = bulk("Si", "diamond", 5.43, cubic=True).repeat(args.repeat)
        atoms.rattle(0.05, seed=seed)
        cells.append(atoms)
    calc.predict(cells[:2])  # warm-up

    start = time.perf_counter()
    batched = calc.predict(cells)
    t_batched = time.perf_counter() - start

    start = time.perf_counter()
    single = []
    for atoms in cells:
        atoms.calc = calc
        single.append((atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()))
    t_single = time.perf_counter() - start

    de = max(abs(b["energy"] - s[0]) for b, s in zip(batched, single, strict=True))
    df = max(np.abs(b["forces"] - s[1]).max() for b, s in zip(batched, single, strict=True))
    n_atoms = sum(len(a) for a in cells)
    print(f"{args.n} cells x {len(cells[0])} atoms, {args.dtype}, "
          f"{torch.get_num_threads()} torch threads")
    print(f"predict (batched): {t_batched:.3f} s  ({1e6 * t_batched / n_atoms:.1f} us/atom)")
    print(f"single ASE calls:  {t_single:.3f} s  ({1e6 * t_single / n_atoms:.1f} us/atom)")
    print(f"speed-up: {t_single / t_batched:.2f}x; max |dE| {de:.2e} eV, max |dF| {df:.2e} eV/A")


if __name__ == "__main__":
    main()
