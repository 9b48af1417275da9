"""Label structures with a reference calculator — resumable, with provenance per structure.

Finished structures are appended one at a time (write + fsync) to the output extxyz and carry a
hash of their geometry and settings, so a rerun skips them and a kill loses at most the
structure being computed. Failures go to ``<out>.failures.jsonl`` and do not stop the run.
GPAW runs under Debian's /usr/bin/python3 in a subprocess (nnpcalc/gpaw_worker.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

GPAW_PYTHON = "/usr/bin/python3"
WORKER = Path(__file__).with_name("gpaw_worker.py")
GPAW_REQUIRED = {"pw_cutoff_eV", "kpoint_density", "smearing_eV"}
# A label's hash as written: the extxyz reader would turn an all-digit one into a number
HASH_IN_TEXT = re.compile(r"\blabel_hash=([0-9a-f]+)\b")


def gpaw_available() -> bool:
    """True when Debian's python can import GPAW (the labelling subprocess needs it)."""
    try:
        return subprocess.run([GPAW_PYTHON, "-c", "import gpaw"], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def structure_hash(atoms: Atoms, settings: dict) -> str:
    """Stable id of (geometry, settings): positions rounded to 1e-6 Å."""
    h = hashlib.sha1()
    h.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    h.update(np.round(atoms.positions, 6).tobytes())
    h.update(np.round(np.asarray(atoms.cell[:]), 6).tobytes())
    h.update(np.asarray(atoms.pbc, dtype=np.int8).tobytes())
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:16]


def done_hashes(out_path: Path) -> set[str]:
    """Hashes already labelled, read from the text: the extxyz reader would turn an all-digit
    hash into an int (or float) that never equals the string again, so it would be relabelled."""
    if not out_path.exists():
        return set()
    return set(HASH_IN_TEXT.findall(out_path.read_text()))


def labels_by_hash(out_path: Path) -> dict[str, Atoms]:
    """Every structure labelled into `out_path`, by its hash (read from the text, as in
    done_hashes): workers finish out of order, so a caller finds its structures by hash."""
    out_path = Path(out_path)
    if not out_path.exists():
        return {}
    frames = ase.io.read(out_path, ":")
    hashes = HASH_IN_TEXT.findall(out_path.read_text())
    if len(hashes) != len(frames):
        raise ValueError(f"{out_path}: {len(frames)} structures but {len(hashes)} label_hash "
                         "entries; every labelled structure carries one")
    return dict(zip(hashes, frames, strict=True))


def labelled_in_order(structures: Sequence[Atoms], settings: dict | Callable[[Atoms], dict],
                      out_path: Path) -> list[Atoms]:
    """The labels of `structures` (labelled with `settings` into `out_path`) in their order;
    names the first structure without a label (failed, or never labelled). `settings` may be
    a function of the structure, for a file labelled with settings per structure (e.g. a
    denser k-mesh for metals), which is then read once."""
    settings_of = settings if callable(settings) else lambda _: settings
    found = labels_by_hash(out_path)
    out = []
    for index, atoms in enumerate(structures):
        key = structure_hash(atoms, settings_of(atoms))
        if key not in found:
            raise LookupError(f"structure {index} ({atoms.info.get('config_type', '')}, "
                              f"{len(atoms)} atoms, hash {key}) has no label in {out_path}: "
                              f"see {Path(out_path).name}.failures.jsonl")
        out.append(found[key])
    return out


def write_labels(structures: Sequence[Atoms], path: Path) -> None:
    """Replace `path` with `structures` atomically: a kill mid-write leaves the old file."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    ase.io.write(tmp, list(structures), format="extxyz")
    os.replace(tmp, path)


def append_label(atoms: Atoms, out_path: Path) -> None:
    with open(out_path, "a") as handle:
        ase.io.write(handle, atoms, format="extxyz")
        handle.flush()
        os.fsync(handle.fileno())


# Keys of a previous label, dropped from the input's info when it is labelled again.
STALE_KEYS = ("label_hash", "wall_time_s", "magmom", "energy", "free_energy", "stress")

# The flags gpaw_worker.py reads from atoms.info; nothing else is passed on.
WORKER_FLAGS = ("gamma_only", "want_stress", "spin_polarized", "hund", "force_pbc")


def worker_input(atoms: Atoms) -> Atoms:
    """Geometry and worker flags only: stale results in `info` or on a calculator (a relaxed
    or trajectory frame) would be written as labels and break the extxyz writer."""
    return Atoms(atoms.numbers, atoms.positions, cell=atoms.cell, pbc=atoms.pbc,
                 info={k: atoms.info[k] for k in WORKER_FLAGS if k in atoms.info})


def run_gpaw(atoms: Atoms, settings: dict, timeout_s: float = 7200,
             relax: dict | None = None, txt: str | Path | None = None) -> dict:
    """One GPAW calculation in a subprocess; returns energy, forces, stress, provenance.
    With `relax` = {"fmax", "steps", "trajectory"} the worker relaxes the positions in one
    process (resumable from the trajectory) and also returns positions, converged, steps.
    `txt` keeps GPAW's own log (SCF iterations) where long runs can be watched."""
    with tempfile.TemporaryDirectory(prefix="nnpcalc_gpaw_") as tmp:
        structure, result = Path(tmp) / "in.extxyz", Path(tmp) / "out.json"
        ase.io.write(structure, worker_input(atoms), format="extxyz")
        job = {"structure": str(structure), "settings": settings, "result": str(result),
               "txt": str(Path(txt).resolve() if txt else Path(tmp) / "gpaw.txt")}
        if relax:
            job["relax"] = {**relax, "trajectory": str(Path(relax["trajectory"]).resolve())}
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}
        proc = subprocess.run([GPAW_PYTHON, str(WORKER), str(Path(tmp) / "job.json")],
                              capture_output=True, text=True, timeout=timeout_s, env=env)
        if proc.returncode != 0 or not result.exists():
            tail = (proc.stderr or proc.stdout)[-800:]
            raise RuntimeError(f"GPAW failed (exit {proc.returncode}): {tail}")
        return json.loads(result.read_text())


def run_ase(atoms: Atoms, calc) -> dict:
    """Any in-process ASE calculator."""
    work = atoms.copy()
    work.calc = calc
    out = {"energy": float(work.get_potential_energy()), "forces": work.get_forces().tolist()}
    if work.pbc.all():
        out["stress"] = work.get_stress().tolist()
    out["provenance"] = {"code": type(calc).__name__,
                         "code_version": getattr(calc, "__version__", "unknown")}
    return out


def _calculator(spec):
    """An ASE calculator from a spec ("emt", "lj", "teacher", a model file, module:factory),
    built once per process (a Dask worker keeps it between tasks); objects pass through."""
    if not isinstance(spec, str):
        return spec
    if spec not in _CALCULATORS:
        from nnpcalc.resolve import calculator_from

        _CALCULATORS[spec] = calculator_from(spec)
    return _CALCULATORS[spec]


_CALCULATORS: dict[str, object] = {}


def compute_label(atoms: Atoms, calculator, settings: dict) -> dict:
    """One structure's label (energy, forces, stress, provenance, wall time) — the unit of
    work that runs in this process or on a Dask worker."""
    start = time.time()
    if calculator == "gpaw":
        res = run_gpaw(atoms, settings)
    else:
        res = run_ase(atoms, _calculator(calculator))
    res["wall_time_s"] = round(time.time() - start, 2)
    return res


def _labelled(atoms: Atoms, res: dict, key: str, settings: dict) -> Atoms:
    # A relabelled structure (read back from a labelled file) must not keep the old run's
    # provenance: setdefault below would leave e.g. the old k-point density in place.
    info = {k: v for k, v in atoms.info.items()
            if not k.startswith("dft_") and k not in STALE_KEYS}
    labelled = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell,
                     pbc=atoms.pbc, info=info)
    kwargs = {"energy": res["energy"], "forces": np.array(res["forces"])}
    if "stress" in res and atoms.pbc.all():
        kwargs["stress"] = np.array(res["stress"])
    labelled.calc = SinglePointCalculator(labelled, **kwargs)
    labelled.info["label_hash"] = key
    labelled.info["wall_time_s"] = res["wall_time_s"]
    for name, value in res.get("provenance", {}).items():
        labelled.info[f"dft_{name}"] = value
    for name, value in settings.items():
        labelled.info.setdefault(f"dft_{name}", value)
    if "magmom" in res:
        labelled.info["magmom"] = res["magmom"]
    return labelled


def label(structures: Sequence[Atoms], calculator, settings: dict | None, out_path,
          progress: bool = True, scheduler: str | None = None, retries: int = 2) -> dict:
    """Label what is not yet in `out_path`. `calculator` is "gpaw", an ASE calculator or a
    spec ("emt", "lj", "teacher", a model file, module:factory). With `scheduler`
    (nnpcalc.campaign: local:N, tcp://…, slurm:CONFIG) the structures are computed on Dask
    workers — the calculator must then be a spec — and this process alone writes, as results
    arrive; failures (after `retries`) go to the failures file with their error."""
    settings = dict(settings or {})
    if calculator == "gpaw":
        missing = sorted(GPAW_REQUIRED - settings.keys())
        if missing:
            raise ValueError(f"GPAW settings lack {missing}")
    elif isinstance(calculator, str):  # a typo must not turn every structure into a "failure"
        try:
            _calculator(calculator)
        except (OSError, ValueError) as exc:
            raise ValueError(f"calculator {calculator!r}: use gpaw, emt, lj, teacher, a model "
                             f"file or module:factory ({exc})") from exc
    elif scheduler is not None:
        raise ValueError("with a scheduler, name the calculator (gpaw, emt, lj, teacher, a "
                         "model file or module:factory): workers build their own")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    failures_path = out_path.with_suffix(out_path.suffix + ".failures.jsonl")
    done = done_hashes(out_path)
    todo = []
    for index, atoms in enumerate(structures):
        key = structure_hash(atoms, settings)
        if key not in done:
            todo.append((index, atoms, key))
            done.add(key)  # a duplicate in the input is labelled once
    counts = {"done_before": len(structures) - len(todo), "labelled": 0, "failed": 0}

    def record(index: int, atoms: Atoms, key: str, res) -> None:
        if isinstance(res, Exception):  # one bad structure must not lose the rest of the run
            counts["failed"] += 1
            with open(failures_path, "a") as handle:
                handle.write(json.dumps({"index": index, "hash": key,
                                         "error": f"{type(res).__name__}: {res}"[-800:],
                                         "config_type": atoms.info.get("config_type")}) + "\n")
            return
        append_label(_labelled(atoms, res, key, settings), out_path)
        counts["labelled"] += 1
        if progress and scheduler is None:
            print(f"[{time.strftime('%H:%M:%S')}] {index + 1}/{len(structures)} "
                  f"{atoms.info.get('config_type', '')} ({len(atoms)} atoms) "
                  f"{res['wall_time_s']:.1f} s", flush=True)

    if scheduler is None:
        for index, atoms, key in todo:
            try:
                res = compute_label(atoms, calculator, settings)
            except Exception as exc:
                res = exc
            record(index, atoms, key, res)
        return counts
    from nnpcalc.campaign import map_as_completed

    tasks = [(atoms, calculator, settings) for _, atoms, _ in todo]
    for k, res in map_as_completed(compute_label, tasks, scheduler, retries, "labelling",
                                   progress):
        record(*todo[k], res)
    return counts
