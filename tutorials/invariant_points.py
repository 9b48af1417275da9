"""Tutorial: physical vs ad hoc atomic-energy mapping, measured against a teacher.

    python tutorials/invariant_points.py            # full run (~15 min on 2 cores)
    python tutorials/invariant_points.py --quick    # seconds, for CI

A Stillinger–Weber teacher labels the data and hides its exact atomic energies ("vertex"
partition, local within 3.77 Å). We train NNPs on totals and forces only and measure
(a) how close their atomic energies come to the vertex partition on held-out vacancy, surface
    and amorphous cells, and their invariant-point error, as the model cutoff grows;
(b) a liquid-only training set: totals fit, mapping wrong — flagged by the audit from
    invariant points alone;
(c) a better training set and checkpoint selection by the monitored mapping error.
Results (JSON, Markdown, PNG) go to --out; trained models are kept and not retrained on rerun.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import ase.io
import numpy as np

from nnpcalc.analysis.audit import audit
from nnpcalc.analysis.invariant import probe_families
from nnpcalc.calculator import NNPCalculator
from nnpcalc.plotting import grouped_bars
from nnpcalc.teachers.dataset import (
    crystals,
    defects,
    label_with_teacher,
    rattled_diamond,
    snapshots,
)
from nnpcalc.train import fit

TEACHER_CUTOFF = 3.7712


def datasets(out: Path, quick: bool) -> dict[str, Path]:
    """Teacher-labelled sets, written once to extxyz."""
    files = {name: out / f"{name}.extxyz" for name in
             ("diverse", "liquid", "liquid_val", "partial", "heldout", "probes",
              "monitor_probes")}
    if all(p.exists() for p in files.values()):
        return files
    k = (lambda m: 1) if quick else (lambda m: m)  # noqa: E731
    size = (1, 1, 1) if quick else (2, 2, 2)  # 8- instead of 64-atom MD cells for CI

    def md(kind, n, seed):
        return snapshots(kind, k(n), seed=seed, size=size)

    def cells(n, seed, kinds=None):
        out = defects(n=k(n), seed=seed, surface_layers=8)  # 32-atom slabs, as measured
        return [a for a in out if kinds is None or a.info["config_type"] in kinds]

    surfaces_and_vacancy = ("vacancy", "surface_100", "surface_111")
    sets = {
        "diverse": crystals(volume_factors=(0.92, 0.96, 1.0, 1.04, 1.08), n_strained=k(2))
        + rattled_diamond(k(12)) + md("liquid", 8, 1) + md("amorphous", 6, 2)
        + md("hot_crystal", 6, 3) + cells(2, 4),
        "liquid": md("liquid", 24, 11),
        "liquid_val": md("liquid", 4, 12),
        "partial": md("liquid", 8, 21) + md("hot_crystal", 8, 22)
        + cells(3, 23, surfaces_and_vacancy),
        "heldout": cells(2, 31, surfaces_and_vacancy) + md("amorphous", 3, 32),
        # held-out invariant points at volumes between the training ones
        "probes": probe_families("Si", volume_factors=(0.94, 0.98, 1.02, 1.06)),
        "monitor_probes": probe_families("Si", volume_factors=(0.95, 1.05),
                                         include_isolated=False, dimer_distances=(2.2,)),
    }
    for name, structures in sets.items():
        ase.io.write(files[name], label_with_teacher(structures))
    return files


def train(files, out: Path, name: str, train: str, cutoff: float, epochs: int,
          validation: str | None = None, early_stopping: str = "val_loss",
          monitor_probes: bool = False, extra_train: list[str] | None = None) -> dict:
    """Train one model (skipped when its model file exists); returns its config."""
    config = {
        "data": [str(files[train])] + [str(files[x]) for x in extra_train or []],
        "validation": [str(files[validation])] if validation else [],
        "val_fraction": 0.15, "seed": 0, "epochs": epochs, "batch_size": 8, "lr": 1e-4,
        "scheduler": "cosine", "patience": epochs, "loss": {"energy": 1.0, "forces": 0.1},
        "isolated_atom_energies": {"Si": 0.0}, "early_stopping": early_stopping,
        "monitor": {"enabled": True,
                    "probes": [str(files["monitor_probes"])] if monitor_probes else []},
        # the recipe benchmarks/accuracy.py found best on teacher data (docs/accuracy.md)
        "model": {"cutoff": cutoff, "hidden": [30, 30], "descriptor": "shells_cross",
                  "linear_term": True}, "out": str(out / name),
    }
    if not (out / name / "model.pt").exists():
        fit(config, progress=False)
    return config


def assess(files, out: Path, name: str, config: dict) -> dict:
    """Audit a trained model as a user would (training data, its validation data, probes),
    then compare its atomic energies with the teacher's hidden ones on held-out cells."""
    calc = NNPCalculator(out / name / "model.pt", dtype="float64")
    training = [a for path in config["data"] for a in ase.io.read(path, ":")]
    validation = [a for path in config["validation"] for a in ase.io.read(path, ":")]
    result = audit(calc, training, probes=ase.io.read(files["probes"], ":"),
                   validation=validation, isolated_atom_energies={"Si": 0.0})
    heldout = ase.io.read(files["heldout"], ":")
    predictions = calc.predict(heldout)
    by_type: dict[str, list] = {}
    totals = []
    for atoms, res in zip(heldout, predictions, strict=True):
        diff = 1000 * (res["energies"] - atoms.arrays["energies_vertex"])
        by_type.setdefault(atoms.info["config_type"], []).append(diff)
        totals.append(1000 * (res["energy"] - atoms.get_potential_energy()) / len(atoms))
    rms = lambda x: float(np.sqrt(np.mean(np.square(np.concatenate(x)))))  # noqa: E731
    summary = json.loads((out / name / "summary.json").read_text())
    crystal_probes = [p.error_meV for p in result.points
                      if p.source == "probe" and p.kind == "single_orbit_crystal"]
    return {
        "cutoff_A": config["model"]["cutoff"], "early_stopping": config["early_stopping"],
        "training_energy_rmse_meV_per_atom": result.energy_rmse_meV_per_atom.get("training"),
        "validation_energy_rmse_meV_per_atom":
            summary["validation"].get("energy_rmse_meV_per_atom"),
        "validation_forces_rmse_eV_per_A": summary["validation"].get("forces_rmse_eV_per_A"),
        "heldout_total_energy_rmse_meV_per_atom": float(np.sqrt(np.mean(np.square(totals)))),
        "heldout_atomic_vs_vertex_rmse_meV": rms([d for v in by_type.values() for d in v]),
        "heldout_atomic_vs_vertex_by_type_meV": {k: rms(v) for k, v in by_type.items()},
        "probe_invariant_rmse_meV": result.mapping_rmse_meV.get("probe"),
        "crystal_probe_rmse_meV": float(np.sqrt(np.mean(np.square(crystal_probes)))),
        "by_family_meV": result.mapping_rmse_meV_by_family,
        "verdict": result.verdict, "explanation": result.explanation,
        "best_epoch": summary["best_epochs"][0], "train_wall_time_s": summary["wall_time_s"],
    }


def plot(results: dict, path: Path) -> None:
    grouped_bars(path, list(results), {
        label: [results[n][key] for n in results] for key, label in (
            ("heldout_total_energy_rmse_meV_per_atom", "held-out totals (E/N)"),
            ("heldout_atomic_vs_vertex_rmse_meV", "atomic energies vs teacher"),
            ("crystal_probe_rmse_meV", "crystal invariant-point probes"))},
        "RMSE (meV/atom)", reference=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="tutorials/out/invariant_points")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = datasets(out, args.quick)
    epochs = 3 if args.quick else 400
    plan = {
        "a_cutoff_3.77": dict(train="diverse", cutoff=TEACHER_CUTOFF),
        "a_cutoff_4.5": dict(train="diverse", cutoff=4.5),
        "a_cutoff_6.0": dict(train="diverse", cutoff=6.0),
        "b_liquid_only": dict(train="liquid", cutoff=5.0, validation="liquid_val"),
        "c_partial_val_loss": dict(train="partial", cutoff=5.0),
        "c_partial_plus_crystals_mapping": dict(train="partial", cutoff=5.0,
                                                extra_train=["diverse"],
                                                early_stopping="combined",
                                                monitor_probes=True),
    }
    if args.quick:
        plan = {k: plan[k] for k in ("a_cutoff_3.77", "b_liquid_only")}
    results = {}
    for name, kwargs in plan.items():
        config = train(files, out, name, epochs=epochs, **kwargs)
        results[name] = assess(files, out, name, config)
        (out / "results.json").write_text(json.dumps(results, indent=1))
        print(name, json.dumps({k: v for k, v in results[name].items()
                                if not isinstance(v, dict)}), flush=True)
    plot(results, out / "summary.png")
    lines = ["# Invariant points tutorial — results", "",
             "| experiment | val E RMSE | held-out totals | atomic vs teacher | crystal probes | "
             "all probes | verdict |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['validation_energy_rmse_meV_per_atom']:.1f} | "
                     f"{r['heldout_total_energy_rmse_meV_per_atom']:.1f} | "
                     f"{r['heldout_atomic_vs_vertex_rmse_meV']:.1f} | "
                     f"{r['crystal_probe_rmse_meV']:.1f} | {r['probe_invariant_rmse_meV']:.1f} | "
                     f"{r['verdict']} |")
    lines += ["", "All values meV/atom.", "", "![summary](summary.png)"]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
