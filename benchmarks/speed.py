"""Speed: µs/atom/step of nnpcalc models through ASE, as ratios to LAMMPS SW in the same run.

    python benchmarks/speed.py                  # full table, written into benchmarks/README.md
    python benchmarks/speed.py --quick          # 64 and 512 atoms only
    python benchmarks/speed.py --profile        # where one step's time goes (64 to 32768 atoms)

A step moves every atom a little (so nothing can be cached) and asks the calculator for energy,
forces and stress, as an MD or relaxation step does. Every measurement runs in a fresh
subprocess (threads pinned, peak memory from its own resident-set high-water mark); each figure
is the median of `--repeats` timed runs after a warm-up. LAMMPS SW (pair_style sw, `run` with
fix nve, neighbour list with its default skin) is measured in the same run: on a shared
machine, read the ratios, not the absolute values.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "data" / "si_model.pt"
SIZES = (64, 512, 4096, 32768)


def diamond(n_atoms: int):
    from ase.build import bulk

    reps = round((n_atoms / 8) ** (1 / 3))
    atoms = bulk("Si", "diamond", 5.43, cubic=True).repeat(reps)
    assert len(atoms) == n_atoms, f"{n_atoms} is not 8·n³"
    return atoms


def steps_for(n_atoms: int) -> int:
    return max(3, min(50, 200_000 // (n_atoms * 4)))


def time_steps(calc, n_atoms: int, repeats: int, steps: int | None = None) -> dict:
    """Median µs/atom of an E+F+S step with `calc` (any ASE calculator) after a warm-up."""
    import numpy as np

    atoms = diamond(n_atoms)
    atoms.calc = calc
    rng = np.random.default_rng(0)
    steps = steps or steps_for(n_atoms)

    def run() -> float:
        start = time.perf_counter()
        for _ in range(steps):
            atoms.positions += rng.normal(scale=1e-3, size=atoms.positions.shape)
            atoms.get_forces()
            atoms.get_stress()
        return (time.perf_counter() - start) / steps / n_atoms * 1e6

    run()  # warm-up
    times = [run() for _ in range(repeats)]
    return {"us_per_atom_step": statistics.median(times)}


def time_nnpcalc(model: str, n_atoms: int, dtype: str, repeats: int) -> dict:
    from nnpcalc.resolve import calculator_from

    return time_steps(calculator_from(model, dtype=dtype), n_atoms, repeats)


def time_sevenn(n_atoms: int, repeats: int) -> dict:
    """SevenNet-0 (its own float32 ASE calculator, CPU), run by the interpreter of a scratch
    venv that has `sevenn`; ~100x BP per step, so three steps per timed run."""
    from sevenn.calculator import SevenNetCalculator

    return time_steps(SevenNetCalculator("7net-0", device="cpu"), n_atoms, repeats, steps=3)


def time_lammps(n_atoms: int, repeats: int) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from lammps_reference import _LAMMPS, _setup

    if _LAMMPS is None:
        return {"us_per_atom_step": None}
    atoms = diamond(n_atoms)
    lmp, _ = _setup(atoms)
    steps = 50 * steps_for(n_atoms)
    lmp.commands_list(["velocity all create 300 1 dist gaussian", "fix 1 all nve",
                       "thermo 0", f"run {steps}"])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        lmp.command(f"run {steps}")
        times.append((time.perf_counter() - start) / steps / n_atoms * 1e6)
    lmp.close()
    return {"us_per_atom_step": statistics.median(times)}


def time_predict(model: str, n_cells: int, cell_atoms: int, repeats: int) -> dict:
    """`predict` on many small rattled cells vs a loop of single calculator calls."""
    from nnpcalc.resolve import calculator_from
    from nnpcalc.sampling import rattled

    calc = calculator_from(model, dtype="float32")
    cells = [rattled(diamond(cell_atoms), 0.05, seed=k) for k in range(n_cells)]

    def loop():
        for atoms in cells:
            atoms = atoms.copy()
            atoms.calc = calc
            atoms.get_forces()
            atoms.get_stress()

    def batched():
        calc.predict(cells)

    out = {}
    for name, fn in (("loop_s", loop), ("predict_s", batched)):
        fn()
        out[name] = statistics.median(
            [_elapsed(fn) for _ in range(repeats)])
    out["speedup"] = out["loop_s"] / out["predict_s"]
    return out


def _elapsed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one(args) -> None:
    """Child process: one measurement, printed as JSON with the peak resident memory."""
    import torch

    torch.set_num_threads(args.threads)
    if args.what == "lammps":
        out = time_lammps(args.atoms, args.repeats)
    elif args.what == "sevenn":
        out = time_sevenn(args.atoms, args.repeats)
    elif args.what == "predict":
        out = time_predict(args.model, args.cells, args.atoms, args.repeats)
    else:
        out = time_nnpcalc(args.model, args.atoms, args.dtype, args.repeats)
    out["peak_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(*argv: str, python: str = sys.executable) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    threads = argv[argv.index("--threads") + 1] if "--threads" in argv else "1"
    env["OMP_NUM_THREADS"] = threads
    proc = subprocess.run([python, __file__, "--one", *argv], capture_output=True,
                          text=True, env=env, check=False)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


class Stages:
    """Wall time per named stage, accumulated over steps (`with stages("name"): ...`)."""

    def __init__(self):
        self.times: dict[str, list[float]] = {}
        self._name, self._start = "", 0.0

    def __call__(self, name: str) -> Stages:
        self._name = name
        return self

    def __enter__(self):
        self._start = time.perf_counter()

    def __exit__(self, *exc):
        self.times.setdefault(self._name, []).append(time.perf_counter() - self._start)


def profile(model: str, n_atoms: int, steps: int = 5) -> dict[str, float]:
    """µs/atom per stage of one E+F+S step, timed stage by stage (1 thread; the first of
    `steps + 1` steps is a warm-up)."""
    import numpy as np
    import torch

    from nnpcalc.autodiff import first_derivatives_only
    from nnpcalc.batch import collate, structure_graph
    from nnpcalc.models.potential import evaluate
    from nnpcalc.neighbors import neighbor_list
    from nnpcalc.resolve import calculator_from

    torch.set_num_threads(1)
    calc = calculator_from(model, dtype="float32")
    model = calc.model
    atoms = diamond(n_atoms)
    atoms.calc = calc
    rng = np.random.default_rng(0)
    clock = Stages()
    for _ in range(steps + 1):
        atoms.positions += rng.normal(scale=1e-3, size=atoms.positions.shape)
        with clock("neighbour list (vesin)"):
            neighbor_list(atoms, calc.cutoff)
        with clock("checks + graph (incl. neighbour list)"):
            graph = structure_graph(atoms, calc.species, calc.cutoff)
        with clock("collate to tensors"):
            batch = collate([graph], calc.dtype)
        with clock("pair vectors"):
            vectors = batch.edge_vectors(batch.positions, batch.cell).requires_grad_(True)
        args = (batch.species, batch.edge_i, batch.edge_j, vectors)
        with first_derivatives_only():  # as evaluate() runs it (hand-written backward)
            if hasattr(model, "features"):
                with clock("descriptor forward"):
                    g = model.features(*args)
                with clock("network forward"):
                    energies = model.energies_from_features(batch.species, g)
            else:
                with clock("model forward"):
                    energies = model(*args, batch.batch)
            with clock("backward (one gradient to the pair vectors)"):
                torch.autograd.grad(energies.sum(), [vectors])
        with clock("evaluate() alone (centre chunks of 512 above 512 atoms)"):
            evaluate(model, batch)
        with clock("whole ASE step (E+F+S)"):
            atoms.get_forces()
            atoms.get_stress()
    return {k: 1e6 * statistics.median(v[1:]) / n_atoms for k, v in clock.times.items()}


def random_e3nn(path: Path) -> str:
    """An e3nn model with random weights (speed does not depend on them) in the form of the
    shipped si-pbe-e3nn model (accuracy row dft270_e3nn_l4_1layer_long): one layer, l_max 4,
    16 channels, 5 Å, product."""
    import torch

    from nnpcalc.models.e3nn_mp import E3nnModel
    from nnpcalc.models.model_file import save_model

    torch.manual_seed(0)
    model = E3nnModel(["Si"], cutoff=5.0, l_max=4, channels=16, n_layers=1, product=True)
    model.reference_energy.fill_(-0.84)
    model.mean_neighbours.fill_(12.0)
    save_model(model, path)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(MODEL))
    parser.add_argument("--e3nn", help="an e3nn model file to time beside the BP model, or "
                                       "'random' (1 layer, l_max 4, 16 channels, 5 Å)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", help="comma-separated atom counts (default: all)")
    parser.add_argument("--sevenn-python", help="an interpreter with `sevenn` installed (a "
                                                "scratch venv): SevenNet-0 at 64 and 512 atoms")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--table", action="store_true",
                        help="only rewrite the README table from --out")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "speed_results.json"))
    parser.add_argument("--one", nargs="?", const="nnpcalc", dest="what",
                        help=argparse.SUPPRESS)
    parser.add_argument("--atoms", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--cells", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.what:
        one(args)
        return
    if args.table:
        saved = json.loads(Path(args.out).read_text())
        write_table(saved["steps"], saved["predict"], ROOT / "benchmarks" / "README.md")
        return
    if args.profile:
        for n in (64, 4096, 32768):
            print(f"{n} atoms:", json.dumps({k: round(v, 1) for k, v in
                                             profile(args.model, n).items()}, indent=1))
        return
    sizes = SIZES[:2] if args.quick else SIZES
    if args.sizes:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    rows = []
    if args.e3nn == "random":
        args.e3nn = random_e3nn(Path(args.out).with_name("e3nn_random.pt"))
    models = [("BP", args.model)] + ([("e3nn", args.e3nn)] if args.e3nn else [])
    for n in sizes:
        lammps = measure("lammps", "--atoms", str(n), "--repeats", str(args.repeats))
        reference = lammps.get("us_per_atom_step")
        for label, model in models:
            for dtype in ("float32", "float64"):
                for threads in (1, 2):
                    if label == "e3nn" and (dtype, threads) != ("float32", 1):
                        continue
                    res = measure("nnpcalc", "--model", model, "--atoms", str(n), "--dtype",
                                  dtype, "--threads", str(threads), "--repeats",
                                  str(args.repeats))
                    rows.append(_row(label, n, dtype, threads, reference, res))
        if args.sevenn_python and n <= 512:
            res = measure("sevenn", "--atoms", str(n), "--repeats", str(args.repeats),
                          python=args.sevenn_python)
            rows.append(_row("SevenNet-0", n, "float32", 1, reference, res))
    predict = [{"cells": c, "cell_atoms": a, **measure("predict", "--model", args.model,
                                                       "--cells", str(c), "--atoms", str(a),
                                                       "--repeats", str(args.repeats))}
               for c, a in ((1000, 8), (100, 64))]
    for row in predict:
        print(json.dumps(row), flush=True)
    Path(args.out).write_text(json.dumps({"steps": rows, "predict": predict}, indent=1))
    write_table(rows, predict, ROOT / "benchmarks" / "README.md")


def _row(model: str, n_atoms: int, dtype: str, threads: int, lammps_us: float | None,
         measured: dict) -> dict:
    row = {"model": model, "atoms": n_atoms, "dtype": dtype, "threads": threads,
           "lammps_sw_us": lammps_us, **measured}
    if lammps_us and "us_per_atom_step" in measured:
        row["x_lammps"] = measured["us_per_atom_step"] / lammps_us
    print(json.dumps(row), flush=True)
    return row


def _groups(rows: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["threads"] == 1:
            out.setdefault((r["model"], r["dtype"]), []).append(r)
    return out


def write_table(rows: list[dict], predict: list[dict], readme: Path) -> None:
    """The results as Markdown between the speed markers of benchmarks/README.md."""
    def cell(value, fmt):
        return "–" if value is None else format(value, fmt)

    lines = ["| model | atoms | dtype | threads | µs/atom/step | × LAMMPS SW | peak RSS (MB) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['atoms']} | {r['dtype']} | {r['threads']} | "
                     f"{cell(r.get('us_per_atom_step'), '.1f')} | "
                     f"{cell(r.get('x_lammps'), '.0f')} | {cell(r.get('peak_rss_MB'), '.0f')} |")
    # memory per atom: the slope of peak RSS between the two largest sizes (no baseline)
    slopes = []
    for (model, dtype), group in _groups(rows).items():
        if len(group) >= 2 and all("peak_rss_MB" in r for r in group[-2:]):
            a, b = group[-2], group[-1]
            slope = (b["peak_rss_MB"] - a["peak_rss_MB"]) / (b["atoms"] - a["atoms"]) * 1024
            slopes.append(f"{model} {dtype} {slope:.0f} kB")
    if slopes:  # one size measured: no slope
        lines += ["", "Memory per atom (peak RSS slope between the two largest sizes, 1 "
                  "thread): " + ", ".join(slopes) + "."]
    lines += ["", "LAMMPS SW (same run, µs/atom/step): " + ", ".join(
        f"{n} atoms {r['lammps_sw_us']:.2f}" for n, r in
        {r["atoms"]: r for r in rows if r.get("lammps_sw_us")}.items()), "",
        "| `predict` on | loop of single calls (s) | one `predict` (s) | speed-up |",
        "|---|---|---|---|"]
    lines += [f"| {p['cells']} rattled {p['cell_atoms']}-atom cells | {p['loop_s']:.2f} | "
              f"{p['predict_s']:.2f} | {p['speedup']:.1f}× |" for p in predict if "loop_s" in p]
    text = readme.read_text() if readme.exists() else ""
    start, end = "<!-- speed:start -->", "<!-- speed:end -->"
    block = f"{start}\n" + "\n".join(lines) + f"\n{end}"
    if start in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    readme.write_text(text)


if __name__ == "__main__":
    main()
