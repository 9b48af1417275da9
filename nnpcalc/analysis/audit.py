"""Audit of the atomic-energy mapping of any calculator that reports per-atom energies.

The question: has the model learned physical atomic energies, or an ad hoc partition that only
fits totals? Atomic energies are fixed only at invariant points, so the audit compares the
model there — keeping apart the invariant points inside the training loss (which by symmetry
only repeat the training error) from the held-out ones (validation crystals, probe families,
the isolated atom) that carry the signal — and checks how far each invariant point lies from the
training environments in feature space (coverage), and how training atoms whose environment is
close to an invariant point deviate from its reference energy.

Default thresholds (meV/atom): total energy fits "well" below 10; a held-out invariant-point
error above 20 with a good fit is flagged "ad hoc mapping"; below 10 the mapping is "physical".
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from ase import Atoms

from nnpcalc.analysis.errors import predict_many
from nnpcalc.analysis.invariant import InvariantPoint, find_invariant_points
from nnpcalc.neighbors import neighbor_list


@dataclass
class AuditThresholds:
    energy_rmse_ok_meV: float = 10.0
    mapping_ok_meV: float = 10.0
    mapping_bad_meV: float = 20.0
    near_distance: float = 0.3  # RMS standardised-feature distance counting as "near"


@dataclass
class PointResult:
    source: str  # training | validation | probe | isolated
    family: str
    kind: str
    volume_A3_per_atom: float | None
    reference_eV_per_atom: float
    model_eV_per_atom: float
    spread_meV: float  # std of the model's E_i across the (equivalent) atoms
    error_meV: float
    coverage_distance: float  # to the nearest training environment, standardised units


@dataclass
class AuditResult:
    verdict: str
    explanation: str
    thresholds: dict
    energy_rmse_meV_per_atom: dict  # per source with labels (training, validation)
    mapping_rmse_meV: dict  # per source
    held_out_mapping_rmse_meV: float
    held_out_mapping_max_meV: float
    mapping_rmse_meV_by_family: dict
    near_invariant: dict
    points: list[PointResult] = field(default_factory=list)
    hidden_partition_rmse_meV: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _labelled_energy(atoms: Atoms) -> float:
    calc = atoms.calc
    if calc is not None and "energy" in getattr(calc, "results", {}):
        return float(calc.results["energy"])
    if "energy" in atoms.info:
        return float(atoms.info["energy"])
    raise ValueError("a structure given to the audit has no energy label")


def rdf_descriptor(structures: Sequence[Atoms], cutoff: float, bins: int = 24) -> list:
    """Fallback per-atom descriptor for calculators without `descriptors`: a smooth radial
    distribution (Gaussians on a grid) of neighbours within the cutoff."""
    centres = np.linspace(1.5, cutoff, bins)
    width = (cutoff - 1.5) / bins
    out = []
    for atoms in structures:
        nl = neighbor_list(atoms, cutoff)
        g = np.zeros((len(atoms), bins))
        weights = np.exp(-((nl.distances[:, None] - centres) ** 2) / (2 * width**2))
        np.add.at(g, nl.i, weights * (0.5 * (np.cos(np.pi * nl.distances / cutoff) + 1))[:, None])
        out.append(g)
    return out


def _descriptors(calc, structures, cutoff):
    try:
        return calc.descriptors(list(structures))
    except (AttributeError, NotImplementedError):
        return rdf_descriptor(structures, cutoff)


def _rms(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.sqrt(np.mean(values**2))) if values.size else float("nan")


def audit(calc, training: Sequence[Atoms], probes: Sequence[Atoms] = (),
          validation: Sequence[Atoms] = (), isolated_atom_energies: dict | None = None,
          thresholds: AuditThresholds | None = None, cutoff: float | None = None,
          hidden_partition: str = "energies_vertex") -> AuditResult:
    """Audit `calc` (any ASE calculator with `energies`) against labelled structures.

    `training` are the structures in the loss, `validation` and `probes` labelled held-out
    structures. `hidden_partition` names an array (e.g. a teacher's exact atomic energies) that,
    when present in the data, is compared too — never needed for the verdict.
    """
    thresholds = thresholds or AuditThresholds()
    cutoff = float(cutoff or getattr(calc, "cutoff", 6.0))
    groups = {"training": list(training), "validation": list(validation), "probe": list(probes)}
    if isolated_atom_energies:
        groups["isolated"] = [Atoms(s, positions=[[0, 0, 0]]) for s in isolated_atom_energies]
    predictions = {k: predict_many(calc, v) if v else [] for k, v in groups.items()}
    energy_rmse = {}
    for source in ("training", "validation", "probe"):
        items = groups[source]
        if items:
            errors = [1000 * (p["energy"] - _labelled_energy(a)) / len(a)
                      for a, p in zip(items, predictions[source], strict=True)]
            energy_rmse[source] = _rms(errors)

    train_feats = _descriptors(calc, groups["training"], cutoff)
    pooled = np.concatenate(train_feats) if train_feats else np.zeros((0, 1))
    mean, std = pooled.mean(0), pooled.std(0)
    std = np.where(std > 1e-8, std, 1.0)
    scale = np.sqrt(pooled.shape[1])
    standard_train = (pooled - mean) / std

    def distance_to_training(x: np.ndarray) -> np.ndarray:
        d2 = ((x[:, None, :] - standard_train[None, :, :]) ** 2).sum(-1)
        return np.sqrt(d2.min(1)) / scale

    points: list[PointResult] = []
    invariant_envs: list[tuple[np.ndarray, float]] = []
    for source, items in groups.items():
        if not items:
            continue
        energies = ([isolated_atom_energies[a.get_chemical_symbols()[0]] for a in items]
                    if source == "isolated" else [_labelled_energy(a) for a in items])
        found: list[InvariantPoint] = find_invariant_points(items, energies, cutoff,
                                                            isolated_atom_energies)
        if not found:
            continue
        feats = _descriptors(calc, [items[p.index] for p in found], cutoff)
        for p, g in zip(found, feats, strict=True):
            pred = predictions[source][p.index]
            e_i = np.asarray(pred.get("energies", np.full(p.n_atoms,
                                                          pred["energy"] / p.n_atoms)))
            x = (g - mean) / std
            coverage = float(distance_to_training(x).mean())
            points.append(PointResult(
                source, p.family, p.kind, p.volume_A3_per_atom, p.reference_eV_per_atom,
                float(e_i.mean()), float(1000 * e_i.std()),
                float(1000 * (e_i.mean() - p.reference_eV_per_atom)), coverage))
            if source != "training":
                invariant_envs.append((x.mean(0), p.reference_eV_per_atom))

    by_source = {s: _rms([p.error_meV for p in points if p.source == s])
                 for s in ("training", "validation", "probe", "isolated")}
    held = [p.error_meV for p in points if p.source != "training"]
    families = sorted({p.family for p in points if p.source != "training"})
    by_family = {f: _rms([p.error_meV for p in points
                          if p.family == f and p.source != "training"]) for f in families}
    near = _near_invariant(groups["training"], predictions["training"], standard_train,
                           invariant_envs, scale, thresholds.near_distance)
    hidden = _hidden_partition(groups, predictions, hidden_partition)
    verdict, explanation = _verdict(energy_rmse, held, thresholds)
    return AuditResult(
        verdict=verdict, explanation=explanation, thresholds=asdict(thresholds),
        energy_rmse_meV_per_atom=energy_rmse, mapping_rmse_meV=by_source,
        held_out_mapping_rmse_meV=_rms(held),
        held_out_mapping_max_meV=float(np.max(np.abs(held))) if held else float("nan"),
        mapping_rmse_meV_by_family=by_family, near_invariant=near, points=points,
        hidden_partition_rmse_meV=hidden)


def _near_invariant(training, predictions, standard_train, invariant_envs, scale, radius):
    """Training atoms whose environment is within `radius` of a held-out invariant point."""
    if not invariant_envs or not training:
        return {"n_atoms": 0, "rmse_meV": float("nan")}
    centres = np.stack([c for c, _ in invariant_envs])
    refs = np.array([r for _, r in invariant_envs])
    energies = np.concatenate([np.asarray(p.get("energies", np.full(len(a), p["energy"]
                                                                     / len(a))))
                               for a, p in zip(training, predictions, strict=True)])
    d = np.sqrt(((standard_train[:, None, :] - centres[None]) ** 2).sum(-1)) / scale
    nearest = d.argmin(1)
    close = d[np.arange(len(d)), nearest] < radius
    deviations = 1000 * (energies[close] - refs[nearest[close]])
    return {"n_atoms": int(close.sum()), "radius": radius, "rmse_meV": _rms(deviations),
            "max_abs_meV": float(np.abs(deviations).max()) if close.any() else float("nan")}


def _hidden_partition(groups, predictions, key) -> dict:
    out = {}
    for source, items in groups.items():
        by_type: dict[str, list] = {}
        for atoms, pred in zip(items, predictions[source], strict=True):
            if key in atoms.arrays and "energies" in pred:
                diff = 1000 * (np.asarray(pred["energies"]) - atoms.arrays[key])
                by_type.setdefault(str(atoms.info.get("config_type", "all")), []).append(diff)
        for ctype, diffs in by_type.items():
            out[f"{source}/{ctype}"] = _rms(np.concatenate(diffs))
    return out


def _verdict(energy_rmse: dict, held: list, t: AuditThresholds) -> tuple[str, str]:
    # The fit is judged on what the model was meant to fit; a probe's total error at an
    # invariant point *is* its mapping error, so probes count only on the mapping side.
    fitted = [v for k, v in energy_rmse.items() if k in ("training", "validation")]
    fit = max(fitted) if fitted else float("nan")
    if not held:
        return "undetermined", ("no held-out invariant point: add probes (probe_families, "
                                "labelled), invariant validation crystals or isolated-atom "
                                "energies")
    mapping = _rms(held)
    if not fit <= t.energy_rmse_ok_meV:
        return "poor fit", (f"total energies are off by {fit:.1f} meV/atom (RMSE) > "
                            f"{t.energy_rmse_ok_meV:g}: fix the fit before judging the mapping")
    if mapping > t.mapping_bad_meV:
        return "ad hoc mapping", (f"totals fit to {fit:.1f} meV/atom but held-out invariant "
                                  f"points are off by {mapping:.1f} meV/atom (> "
                                  f"{t.mapping_bad_meV:g}): the atomic energies are not the "
                                  "physical ones, expect poor transfer to new environments")
    if mapping <= t.mapping_ok_meV:
        return "physical", (f"totals fit to {fit:.1f} and held-out invariant points to "
                            f"{mapping:.1f} meV/atom")
    return "uncertain", (f"held-out invariant-point error {mapping:.1f} meV/atom lies between "
                         f"{t.mapping_ok_meV:g} and {t.mapping_bad_meV:g}")


def register(subparsers) -> None:
    p = subparsers.add_parser("audit", help="audit the atomic-energy mapping of a model",
                              description=__doc__.splitlines()[0])
    p.add_argument("model", help="nnpcalc model file")
    p.add_argument("--data", nargs="+", required=True, help="training data (labelled)")
    p.add_argument("--validation", nargs="*", default=[], help="held-out labelled data")
    p.add_argument("--probes", nargs="*", default=[], help="labelled probe structures")
    p.add_argument("--isolated-energy", nargs="*", default=[], metavar="SYMBOL=EV",
                   help="isolated-atom energies, e.g. Si=0.0")
    p.add_argument("--out", default="audit", help="output directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import ase.io

    from nnpcalc.analysis.audit_report import write_audit_report
    from nnpcalc.calculator import NNPCalculator

    def read(paths):
        return [a for path in paths for a in ase.io.read(path, ":")]

    isolated = {k: float(v) for k, v in (item.split("=") for item in args.isolated_energy)}
    result = audit(NNPCalculator(args.model), read(args.data), read(args.probes),
                   read(args.validation), isolated or None)
    path = write_audit_report(result, args.out)
    print(json.dumps({"verdict": result.verdict, "explanation": result.explanation,
                      "held_out_mapping_rmse_meV": result.held_out_mapping_rmse_meV,
                      "energy_rmse_meV_per_atom": result.energy_rmse_meV_per_atom}, indent=1))
    print(f"report: {path}")
    return 0
