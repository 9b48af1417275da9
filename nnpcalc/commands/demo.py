"""`nnpcalc demo`: the shipped Si PBE models and data, through the full model-vs-DFT report.

Every shipped model (`nnpcalc models`: the BP model and the e3nn model, each trained on
data/si_pbe.extxyz with its own recorded split) gets the full report in `OUT/<name>/`, and
`OUT/scorecard.md` sets them side by side against the targets of a shipped model
(nnpcalc.analysis.targets: energies, forces, a0, B, elastic constants, Γ, the 63-atom vacancy,
the audit). The demo ships the one meeting the most, ties going to the lower energy RMSE on the
periodic cells in every model's test split — it decides by the numbers (`--model NAME`
reports one model only). `--retrain` trains the BP model again first. Each report's test and
training structures are the ones recorded in its model's file, so its test errors are on
unseen structures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ase.io
import torch

from nnpcalc.analysis.markdown import Document, fmt
from nnpcalc.analysis.targets import scorecard, targets_met
from nnpcalc.pretrained import DATA_DIR as DATA
from nnpcalc.pretrained import MODELS, model_path


def _split_sources(model_path: Path) -> dict[str, list[str]]:
    """The "file:index" sources of each split, as recorded in a model file."""
    payload = torch.load(model_path, map_location="cpu", weights_only=True)
    return payload["metadata"]["summary"]["split_sources"]


def _test_indices(model_path: Path) -> set[int]:
    """Indices into the shipped data of the test split recorded in a model file."""
    return {int(s.rsplit(":", 1)[1]) for s in _split_sources(model_path)["test"]}


def _split(model_path: Path, structures: list) -> dict[str, list]:
    """Each split's structures: the file the test split indexes is the shipped data
    (`structures`), any other file a training set holds (`train_only`) is looked up in the
    shipped data directory by its name."""
    from nnpcalc.train.data import read_sources

    sources = _split_sources(model_path)
    split_file = sources["test"][0].rpartition(":")[0]
    return {name: read_sources(items, DATA, known={split_file: structures})
            for name, items in sources.items()}


def _common_test(candidates: dict[str, Path]) -> list[int]:
    """Structures in every candidate's recorded test split: one test set for models whose
    splits differ, and a single model's own test split."""
    splits = [_test_indices(path) for path in candidates.values()]
    return sorted(set.intersection(*splits))


def _clusters_text(errors: dict) -> str:
    """How many clusters the cluster figure rests on: an isolated atom alone carries no
    evidence for models anchored to its energy."""
    n = errors.get("n_clusters", 0)
    lone = errors.get("n_isolated_atoms", 0)
    plural = {1: ""}
    return (f"{n} cluster{plural.get(n, 's')}"
            + (f" incl. {lone} isolated atom{plural.get(lone, 's')}" if lone else ""))


def _errors_text(errors: dict) -> str:
    """One line of test errors, clusters apart (issue 10 states them separately)."""
    nan = float("nan")
    return (f"periodic cells E/N RMSE / MAE "
            f"{errors.get('energy_rmse_meV_per_atom_periodic', nan):.1f} / "
            f"{errors.get('energy_mae_meV_per_atom_periodic', nan):.1f} meV/atom, clusters "
            f"{errors.get('energy_rmse_meV_per_atom_clusters', nan):.1f} "
            f"({_clusters_text(errors)}), forces MAE "
            f"{errors.get('forces_mae_eV_per_A', nan):.3f} eV/Å")


def _periodic_rmse(candidates: dict[str, Path], structures: list) -> dict[str, float]:
    """Each model's energy RMSE on the periodic cells in every test split: the tie-break."""
    from nnpcalc.analysis.errors import test_set_errors
    from nnpcalc.calculator import NNPCalculator

    common = [structures[i] for i in _common_test(candidates)]
    if len(candidates) > 1:
        print(f"  scored on the {len(common)} structures in every candidate's test split")
    scores = {}
    for name, path in candidates.items():
        errors = test_set_errors(NNPCalculator(path), common)
        scores[name] = errors.get("energy_rmse_meV_per_atom_periodic",
                                  errors["energy_rmse_meV_per_atom"])
        print(f"  {name:12s} test {_errors_text(errors)}")
    return scores


def _choose(cards: dict[str, list[dict]], periodic: dict[str, float]) -> str:
    """The model meeting the most targets; among equals, the lowest periodic-cell RMSE."""
    best = min(cards, key=lambda n: (-targets_met(cards[n]), periodic[n]))
    if len(cards) > 1:
        print(f"  -> {best}: {targets_met(cards[best])} of {len(cards[best])} targets met"
              + (", the lowest periodic-cell RMSE among equals"
                 if sum(targets_met(c) == targets_met(cards[best]) for c in cards.values()) > 1
                 else ""))
    return best


def _value(value: float | None) -> str:
    return "–" if value is None else fmt(value, 4)


def _scorecard_rows(cards: dict[str, list[dict]]) -> list[list]:
    """target | tolerance | DFT | each model's value with ✓ / ✗ (– where not measured)."""
    marks = {True: "✓", False: "✗", None: "–"}
    names = list(cards)
    rows = []
    for i, first in enumerate(cards[names[0]]):
        cells = [f"{_value(cards[n][i]['model'])} {marks[cards[n][i]['met']]}" for n in names]
        rows.append([first["target"], first["tolerance"], _value(first["dft"]), *cells])
    rows.append(["targets met", "", "", *(f"{targets_met(cards[n])} / {len(cards[n])}"
                                          for n in names)])
    return rows


def _report(name: str, model: Path, structures: list, dft: dict, out: Path,
            quick: bool) -> dict:
    """The full model-vs-DFT report of one model into `out`; returns its report.json."""
    from nnpcalc.analysis.audit import default_probes
    from nnpcalc.analysis.report import write_report
    from nnpcalc.calculator import NNPCalculator

    split = _split(model, structures)
    print(f"model {name} ({model}): {len(split['train'])} training, {len(split['test'])} test "
          "structures")
    calc = NNPCalculator(model)
    # the audit as `nnpcalc audit` runs it out of the box: with the shipped probe file
    probes, _, _ = default_probes(calc, split["train"], [DATA / "si_pbe.extxyz"])
    write_report(calc, out, dft, split["test"], split["train"], probes=probes,
                 isolated_atom_energies={"Si": dft["isolated_atom_energy_eV"]},
                 title=f"nnpcalc demo: {name} vs PBE", quick=quick)
    summary = json.loads((out / "report.json").read_text())
    errors = summary.get("test_errors", {})
    if errors:
        print(f"  test set ({errors['n_structures']} structures): E/N RMSE / MAE "
              f"{errors['energy_rmse_meV_per_atom']:.1f} / {errors['energy_mae_meV_per_atom']:.1f}"
              f" meV/atom; {_errors_text(errors)}")
    for warning in summary.get("properties", {}).get("warnings", []):
        print(f"  warning: {warning}")
    if "audit" in summary:
        print(f"  audit verdict: {summary['audit']['verdict']} — "
              f"{summary['audit']['explanation']}")
    return summary


def _retrain(out: Path, data_file: Path) -> Path:
    """Train the BP model again through every stage of its shipped configs; the shipped files
    stand in for the `data/...` paths the configs name (an installed package has no data/)."""
    from nnpcalc.train import fit
    from nnpcalc.train.config import config_chain

    previous = None
    for path, config in config_chain(DATA / MODELS["si-pbe"]["config"]):
        config.data = [str(data_file)]
        config.train_only = [str(DATA / Path(name).name) for name in config.train_only]
        if config.init_from:  # the same file of the previous stage's run, in our run folder
            config.init_from = str(previous / Path(config.init_from).name)
        config.out = str(out / path.stem)
        fit(config)
        previous = Path(config.out)
    return previous / "model.pt"


def run(args: argparse.Namespace) -> int:
    from nnpcalc.analysis.report import read_baselines

    start = time.perf_counter()
    out = Path(args.out)
    data_file, baselines = DATA / "si_pbe.extxyz", DATA / "si_pbe_baselines.json"
    for path in (data_file, baselines):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the demo needs the shipped data")
    candidates = {name: model_path(name) for name in MODELS}
    if args.retrain:
        candidates["si-pbe"] = _retrain(out / "train", data_file)
    if args.model:
        candidates = {args.model: candidates[args.model]}
    structures = ase.io.read(data_file, ":")
    dft = read_baselines(baselines)
    periodic = _periodic_rmse(candidates, structures)
    cards = {name: scorecard(_report(name, model, structures, dft, out / name, args.quick), dft)
             for name, model in candidates.items()}
    best = _choose(cards, periodic)
    doc = Document("nnpcalc demo: which shipped model, by the numbers")
    doc.paragraph("Reports: " + ", ".join(f"{name}/report.html" for name in cards)
                  + ". Every target is issue 10's for "
                  "a shipped model (✓ met, ✗ missed, – not measured, e.g. by a `--quick` run). "
                  f"Shipped: **{best}** ({targets_met(cards[best])} targets met; ties go to the "
                  "lower energy RMSE on the periodic cells in every model's test split).")
    header = ["target", "tolerance", "DFT", *cards]
    rows = _scorecard_rows(cards)
    doc.table(header, rows)
    for row in [header, *rows]:
        print("  " + " | ".join(str(cell) for cell in row))
    doc.write(out, "scorecard")
    print(f"report: {(out / best / 'report.md').resolve()} (+ report.html), scorecard "
          f"{(out / 'scorecard.md').resolve()}; {time.perf_counter() - start:.0f} s")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="shipped Si models vs PBE: full reports, the "
                                           "better one by the numbers",
                              description=__doc__.splitlines()[0])
    p.add_argument("--out", default="demo_out")
    p.add_argument("--retrain", action="store_true", help="train the model again first")
    p.add_argument("--quick", action="store_true", help="smaller supercells (CI)")
    p.add_argument("--model", choices=list(MODELS), help="report this shipped model instead of "
                                                         "the best-scoring one")
    p.set_defaults(func=run)
