"""Audit of the atomic-energy mapping of any calculator that reports per-atom energies.

The question: has the model learned physical atomic energies, or an ad hoc partition that only
fits totals? Atomic energies are fixed only at invariant points, so the audit compares the
model there — keeping apart the invariant points inside the training loss (which by symmetry
only repeat the training error) from the held-out ones (validation crystals, probe families,
the isolated atom) that carry the signal — and checks how far each invariant point lies from the
training environments in feature space (coverage), and how training atoms whose environment is
close to an invariant point deviate from its reference energy.

Verdict (thresholds in AuditThresholds, defaults in meV/atom): the fit — total-energy RMSE on
the training structures and on the validation structures that are not invariant points — is
good below 10; then a held-out invariant-point RMSE above 20 is an "ad hoc mapping", below 10
"physical", in between "uncertain"; a bad fit is a "poor fit"; no held-out invariant point
leaves it "undetermined". An isolated atom of a model anchored to its reference energy
(BPNN `anchor_isolated`) is reproduced by construction: it is reported as "pinned" and never
enters the held-out error. Probes that coincide with a training structure are dropped.
Held-out points farther than `covered_distance` from every training
environment are reported apart: their error may be extrapolation rather than mapping. Feature
distances depend on the descriptor; `coverage_spacing` in the result gives their scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from nnpcalc.analysis.errors import predict_many
from nnpcalc.analysis.invariant import find_invariant_points
from nnpcalc.neighbors import neighbor_list
from nnpcalc.pretrained import DATA_DIR


@dataclass
class AuditThresholds:
    """Verdict thresholds; distances are RMS over standardised features (per element)."""

    energy_rmse_ok_meV: float = 10.0  # total-energy RMSE (meV/atom) counting as a good fit
    mapping_ok_meV: float = 10.0  # held-out invariant-point RMSE below which it is "physical"
    mapping_bad_meV: float = 20.0  # ... above which a good fit is an "ad hoc mapping"
    near_distance: float = 0.3  # training atom counted as near an invariant environment
    covered_distance: float = 0.5  # held-out point counted as inside the training coverage


@dataclass
class PointResult:
    source: str  # training | validation | probe | isolated
    index: int  # position in its source list
    family: str
    kind: str
    n_atoms: int
    volume_A3_per_atom: float | None
    reference_eV_per_atom: float
    model_eV_per_atom: float
    spread_meV: float  # std over the atoms of the model's E_i − reference (0 by symmetry)
    error_meV: float
    coverage_distance: float  # mean over atoms, to the nearest training environment
    pinned: bool = False  # fixed by the model's construction (anchored isolated atom)


@dataclass
class AuditResult:
    verdict: str
    explanation: str
    thresholds: dict
    energy_rmse_meV_per_atom: dict  # per source with labels (training, validation, probe)
    fit_energy_rmse_meV_per_atom: dict  # what the verdict calls the fit (see _fit_errors)
    mapping_rmse_meV: dict  # per source
    mapping_stats_meV: dict  # source -> family (and "all") -> rmse, max_abs, n_points
    held_out_mapping_rmse_meV: float
    held_out_mapping_max_meV: float
    held_out_by_coverage: dict  # covered / extrapolated -> rmse_meV, n_points
    coverage_spacing: float  # median training-to-other-training-structure distance
    mapping_rmse_meV_by_family: dict  # held-out points only
    near_invariant: dict
    points: list[PointResult] = field(default_factory=list)
    hidden_partition_rmse_meV: dict = field(default_factory=dict)
    pinned: dict = field(default_factory=dict)  # n_points, max_abs_meV, why
    excluded_probes: list = field(default_factory=list)  # indices equal to a training structure

    def to_dict(self) -> dict:
        return asdict(self)


def anchored_isolated(calc) -> bool:
    """True when the calculator's model returns its reference energy for an isolated atom by
    construction (BPNN `anchor_isolated`; an ensemble when every member is anchored)."""
    model = getattr(calc, "model", None)
    members = getattr(model, "members", None)
    if members is not None:
        return bool(members) and all(getattr(m, "anchor_isolated", False) for m in members)
    return bool(getattr(model, "anchor_isolated", False))


def _fingerprint(atoms: Atoms, cutoff: float = 5.0) -> np.ndarray:
    return np.sort(neighbor_list(atoms, cutoff).distances)


def coincides(a: Atoms, b: Atoms, tol: float = 1e-3) -> bool:
    """Same structure up to cell choice, supercell, translation and atom order: same
    composition per atom, volume per atom and neighbour distances within 5 Å (to `tol` Å),
    each distance of the smaller cell counted once per repeat in the larger one."""
    if len(a) > len(b):
        a, b = b, a
    repeats, rest = divmod(len(b), len(a))
    if rest or sorted(np.repeat(a.numbers, repeats)) != sorted(b.numbers):
        return False
    if list(a.pbc) != list(b.pbc):
        return False
    if a.pbc.all() and abs(a.get_volume() / len(a) - b.get_volume() / len(b)) > \
            tol * a.get_volume() / len(a):
        return False
    fa, fb = np.repeat(_fingerprint(a), repeats), _fingerprint(b)
    return len(fa) == len(fb) and (len(fa) == 0 or float(np.abs(fa - fb).max()) < tol)


def _labelled_energy(atoms: Atoms) -> float:
    calc = atoms.calc
    if calc is not None and "energy" in getattr(calc, "results", {}):
        return float(calc.results["energy"])
    if "energy" in atoms.info:
        return float(atoms.info["energy"])
    raise ValueError(f"a structure given to the audit ({atoms.get_chemical_formula()}) has no "
                     "energy label (calculator results or info['energy'])")


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


def _descriptors(calc, structures, cutoff) -> list[np.ndarray]:
    if not structures:
        return []
    try:
        return [np.asarray(g, dtype=float) for g in calc.descriptors(list(structures))]
    except (AttributeError, NotImplementedError):
        return rdf_descriptor(structures, cutoff)


def _nearest(x: np.ndarray, y: np.ndarray, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """RMS-over-features distance from each row of x to its nearest row of y, and its index.

    Chunked so that a large training set never needs an (n_x, n_y, n_features) array.
    """
    if len(y) == 0:
        return np.full(len(x), np.inf), np.full(len(x), -1)
    yy = (y**2).sum(1)
    dist, which = np.empty(len(x)), np.empty(len(x), dtype=int)
    for lo in range(0, len(x), chunk):
        xs = x[lo:lo + chunk]
        d2 = (xs**2).sum(1)[:, None] + yy[None, :] - 2 * xs @ y.T
        k = d2.argmin(1)
        which[lo:lo + chunk] = k
        dist[lo:lo + chunk] = np.sqrt(np.maximum(d2[np.arange(len(xs)), k], 0.0))
    return dist / np.sqrt(x.shape[1]), which


class _FeatureSpace:
    """Training environments, standardised per element with the training mean and std."""

    def __init__(self, features: list[np.ndarray], symbols: list[np.ndarray]):
        g, s = np.concatenate(features), np.concatenate(symbols)
        owner = np.repeat(np.arange(len(features)), [len(f) for f in features])
        self.stats, self.train, self.owner = {}, {}, {}
        for element in np.unique(s):
            x = g[s == element]
            self.owner[element] = owner[s == element]
            std = x.std(0)
            # a feature (nearly) constant over the training set would turn any change into
            # an astronomical distance: floor each std at a tenth of the typical one
            typical = np.sqrt(np.mean(std**2))
            self.stats[element] = (x.mean(0), np.maximum(std, 0.1 * typical) if typical > 0
                                   else np.ones_like(std))
            self.train[element] = self.standardise(x, np.full(len(x), element))

    def standardise(self, g: np.ndarray, symbols: np.ndarray) -> np.ndarray:
        out = np.full(g.shape, np.nan)
        for element, (mean, std) in self.stats.items():
            rows = symbols == element
            out[rows] = (g[rows] - mean) / std
        return out

    def coverage(self, x: np.ndarray, symbols: np.ndarray) -> np.ndarray:
        """Distance of each environment to the nearest training one of the same element."""
        out = np.full(len(x), np.inf)
        for element, train in self.train.items():
            rows = symbols == element
            out[rows] = _nearest(x[rows], train)[0]
        return out

    def spacing(self, max_atoms: int = 500, seed: int = 0) -> float:
        """Median distance from a training environment to the nearest one in *another*
        training structure: the scale that says what "near" means for this descriptor."""
        rng = np.random.default_rng(seed)
        distances = []
        for element, train in self.train.items():
            picks = rng.permutation(len(train))[:max_atoms]
            for k in picks:
                others = self.owner[element] != self.owner[element][k]
                distances.append(_nearest(train[k:k + 1], train[others])[0][0])
        finite = np.asarray(distances)[np.isfinite(distances)]
        return float(np.median(finite)) if finite.size else float("nan")


def _rms(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.sqrt(np.mean(values**2))) if values.size else float("nan")


def _stats(errors: list[float]) -> dict:
    return {"rmse_meV": _rms(errors), "n_points": len(errors),
            "max_abs_meV": float(np.max(np.abs(errors))) if errors else float("nan")}


def _model_atomic(pred: dict) -> np.ndarray | None:
    return np.asarray(pred["energies"], dtype=float) if "energies" in pred else None


def audit(calc, training: Sequence[Atoms], probes: Sequence[Atoms] | None = None,
          validation: Sequence[Atoms] | None = None,
          isolated_atom_energies: dict | None = None,
          thresholds: AuditThresholds | None = None, cutoff: float | None = None,
          hidden_partition: str = "energies_vertex",
          anchored: bool | None = None) -> AuditResult:
    """Audit `calc` (any ASE calculator with `energies`) against labelled structures.

    `training` are the structures in the loss, `validation` and `probes` labelled held-out
    structures; `isolated_atom_energies` ({symbol: eV}) adds the isolated atoms as held-out
    points. `cutoff` (Å) defaults to `calc.cutoff`. `hidden_partition` names an array (e.g. a
    teacher's exact atomic energies) that, when present in the data, is compared too — never
    needed for the verdict. Calculators without `energies` are audited on invariant points
    only (where E_i = E/N by symmetry); the near-invariant check then reports nothing.
    `anchored` (default: read from the model, `anchored_isolated`) marks isolated atoms as
    pinned: the model returns its reference energy there by construction, so they are listed
    apart and never counted as held-out evidence. Probes equal to a training structure
    (`coincides`) are dropped and listed in `excluded_probes`.
    """
    thresholds = thresholds or AuditThresholds()
    if cutoff is None and getattr(calc, "cutoff", None) is None:
        raise ValueError(f"{type(calc).__name__} has no `cutoff`: pass cutoff= (Å)")
    cutoff = float(cutoff or calc.cutoff)
    if not training:
        raise ValueError("audit needs the training structures (coverage is measured from them)")
    if anchored is None:
        anchored = anchored_isolated(calc)
    probes = list(probes or ())
    excluded = [k for k, p in enumerate(probes) if any(coincides(p, t) for t in training)]
    groups = {"training": list(training), "validation": list(validation or ()),
              "probe": [p for k, p in enumerate(probes) if k not in excluded]}
    if isolated_atom_energies:
        groups["isolated"] = [Atoms(s, positions=[[0, 0, 0]]) for s in isolated_atom_energies]
    predictions = {k: predict_many(calc, v) if v else [] for k, v in groups.items()}
    labels = {k: ([isolated_atom_energies[a.get_chemical_symbols()[0]] for a in v]
                  if k == "isolated" else [_labelled_energy(a) for a in v])
              for k, v in groups.items()}
    errors = {source: [1000 * (p["energy"] - e) / len(a) for a, p, e in
                       zip(groups[source], predictions[source], labels[source], strict=True)]
              for source in ("training", "validation", "probe") if groups[source]}
    energy_rmse = {source: _rms(e) for source, e in errors.items()}

    def symbols(items):
        return [np.array(a.get_chemical_symbols()) for a in items]

    train_features = _descriptors(calc, groups["training"], cutoff)
    space = _FeatureSpace(train_features, symbols(groups["training"]))
    points: list[PointResult] = []
    centres: list[tuple[np.ndarray, str, float, str]] = []  # features, element, E_ref, family
    invariant: dict[str, set[int]] = {source: set() for source in groups}
    for source, items in groups.items():
        found = find_invariant_points(items, labels[source], cutoff, isolated_atom_energies)
        chosen = [items[p.index] for p in found]
        features = ([train_features[p.index] for p in found] if source == "training"
                    else _descriptors(calc, chosen, cutoff))
        for p, atoms, g in zip(found, chosen, features, strict=True):
            pred = predictions[source][p.index]
            element = np.array(atoms.get_chemical_symbols())
            x = space.standardise(g, element)
            reference = p.reference_per_atom(atoms)
            e_i = _model_atomic(pred)
            deviation = (e_i if e_i is not None else pred["energy"] / len(atoms)) - reference
            points.append(PointResult(
                source, p.index, p.family, p.kind, p.n_atoms, p.volume_A3_per_atom,
                p.reference_eV_per_atom, float(p.reference_eV_per_atom + deviation.mean()),
                float(1000 * deviation.std()), float(1000 * deviation.mean()),
                float(space.coverage(x, element).mean()),
                pinned=bool(anchored and p.kind == "isolated_atom")))
            invariant[source].add(p.index)
            for el in np.unique(element):
                centres.append((x[element == el].mean(0), el,
                                p.reference_eV_by_element[el], f"{source}/{p.family}"))

    held = [p for p in points if p.source != "training" and not p.pinned]
    pinned_points = [p.error_meV for p in points if p.pinned]
    pinned = {**_stats(pinned_points), "why": (
        "isolated atoms of a model anchored to its reference energies (anchor_isolated): "
        "reproduced by construction, so they carry no evidence on the mapping; the error is "
        "the reference energy minus the label") if pinned_points else ""}
    stats = {}
    for source in groups:
        mine = [p for p in points if p.source == source]
        if mine:
            stats[source] = {"all": _stats([p.error_meV for p in mine])} | {
                f: _stats([p.error_meV for p in mine if p.family == f])
                for f in sorted({p.family for p in mine})}
    covered = [p.error_meV for p in held if p.coverage_distance <= thresholds.covered_distance]
    extrapolated = [p.error_meV for p in held
                    if p.coverage_distance > thresholds.covered_distance]
    by_coverage = {"covered": _stats(covered), "extrapolated": _stats(extrapolated)}
    near = _near_invariant(groups["training"], predictions["training"], space, train_features,
                           invariant["training"], centres, thresholds.near_distance)
    fit = _fit_errors(errors, invariant)
    held_errors = [p.error_meV for p in held]
    verdict, explanation = _verdict(fit, held_errors, by_coverage, thresholds)
    if pinned_points:
        explanation += (f"; {len(pinned_points)} isolated-atom point(s) pinned by the model's "
                        "anchor are not counted (no evidence)")
    return AuditResult(
        verdict=verdict, explanation=explanation, thresholds=asdict(thresholds),
        energy_rmse_meV_per_atom=energy_rmse, fit_energy_rmse_meV_per_atom=fit,
        mapping_rmse_meV={s: v["all"]["rmse_meV"] for s, v in stats.items()},
        mapping_stats_meV=stats, held_out_mapping_rmse_meV=_rms(held_errors),
        held_out_mapping_max_meV=_stats(held_errors)["max_abs_meV"],
        held_out_by_coverage=by_coverage, coverage_spacing=space.spacing(),
        mapping_rmse_meV_by_family={f: _rms([p.error_meV for p in held if p.family == f])
                                    for f in sorted({p.family for p in held})},
        near_invariant=near, points=points,
        hidden_partition_rmse_meV=_hidden_partition(groups, predictions, hidden_partition),
        pinned=pinned, excluded_probes=excluded)


def _near_invariant(training, predictions, space, features, skip, centres, radius) -> dict:
    """Training atoms (outside invariant structures) within `radius` of an invariant point.

    Their model E_i is compared with that point's reference: near an invariant environment a
    smooth physical mapping can only drift by (slope × distance), an ad hoc one by anything.
    """
    empty = {"n_atoms": 0, "radius": radius, "rmse_meV": float("nan"),
             "max_abs_meV": float("nan"), "by_family": {}}
    rows = [(np.array(a.get_chemical_symbols()), g, _model_atomic(p))
            for k, (a, p, g) in enumerate(zip(training, predictions, features, strict=True))
            if k not in skip]
    rows = [r for r in rows if r[2] is not None]
    if not centres or not rows:
        return empty
    element = np.concatenate([r[0] for r in rows])
    x = space.standardise(np.concatenate([r[1] for r in rows]), element)
    energies = np.concatenate([r[2] for r in rows])
    found: dict[str, list] = {}
    for el in np.unique(element):
        mine = [c for c in centres if c[1] == el]
        if not mine:
            continue
        dist, which = _nearest(x[element == el], np.stack([c[0] for c in mine]))
        for d, k, e in zip(dist, which, energies[element == el], strict=True):
            if d < radius:
                found.setdefault(mine[k][3], []).append((d, 1000 * (e - mine[k][2])))
    if not found:
        return empty
    deviations = [dev for items in found.values() for _, dev in items]
    return {"n_atoms": len(deviations), "radius": radius, "rmse_meV": _rms(deviations),
            "max_abs_meV": float(np.max(np.abs(deviations))),
            "by_family": {f: {"n_atoms": len(v), "rmse_meV": _rms([dv for _, dv in v]),
                              "mean_distance": float(np.mean([d for d, _ in v]))}
                          for f, v in sorted(found.items())}}


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


def _fit_errors(errors: dict, invariant: dict) -> dict:
    """Total-energy RMSE judged as "the fit": all training structures, and the validation
    structures that are not invariant points. A held-out invariant point's total error *is*
    its mapping error, so it counts on the mapping side only (as the probes do)."""
    fit = {}
    if "training" in errors:
        fit["training"] = _rms(errors["training"])
    general = [e for k, e in enumerate(errors.get("validation", ()))
               if k not in invariant["validation"]]
    if general:
        fit["validation_non_invariant"] = _rms(general)
    return fit


def _verdict(fit_rmse: dict, held: list, by_coverage: dict,
             t: AuditThresholds) -> tuple[str, str]:
    fit = max(fit_rmse.values()) if fit_rmse else float("nan")
    if not held:
        return "undetermined", ("no held-out invariant point: add probes (probe_families, "
                                "labelled), invariant validation crystals or isolated-atom "
                                "energies")
    mapping = _rms(held)
    far = by_coverage["extrapolated"]
    caveat = (f"; {far['n_points']} of {len(held)} held-out points lie beyond the training "
              f"coverage (RMSE {far['rmse_meV']:.1f} meV/atom there vs "
              f"{by_coverage['covered']['rmse_meV']:.1f} inside): part of the error may be "
              "extrapolation rather than mapping" if far["n_points"] else "")
    if not fit <= t.energy_rmse_ok_meV:
        return "poor fit", (f"total energies are off by {fit:.1f} meV/atom (RMSE) > "
                            f"{t.energy_rmse_ok_meV:g}: fix the fit before judging the mapping "
                            f"(held-out invariant points: {mapping:.1f} meV/atom)")
    if mapping > t.mapping_bad_meV:
        return "ad hoc mapping", (f"totals fit to {fit:.1f} meV/atom but held-out invariant "
                                  f"points are off by {mapping:.1f} meV/atom (> "
                                  f"{t.mapping_bad_meV:g}): the atomic energies are not the "
                                  "physical ones, expect poor transfer to new environments"
                                  + caveat)
    if mapping <= t.mapping_ok_meV:
        return "physical", (f"totals fit to {fit:.1f} and held-out invariant points to "
                            f"{mapping:.1f} meV/atom")
    return "uncertain", (f"held-out invariant-point error {mapping:.1f} meV/atom lies between "
                         f"{t.mapping_ok_meV:g} and {t.mapping_bad_meV:g}" + caveat)


PROBE_FILE = "si_probes.extxyz"


def default_probe_file(data_files: Sequence[str | Path] = ()) -> Path | None:
    """The shipped probe file: beside a --data file (data/si_pbe.extxyz -> data/), else the
    one inside the package (nnpcalc.pretrained.DATA_DIR)."""
    candidates = [Path(f).resolve().parent / PROBE_FILE for f in data_files]
    candidates.append(DATA_DIR / PROBE_FILE)
    return next((c for c in candidates if c.is_file()), None)


# Labels share an energy zero only when these provenance keys agree (data/README.md).
REFERENCE_KEYS = ("dft_code", "dft_xc", "dft_pw_cutoff_eV", "dft_smearing")


def default_probes(calc, training: Sequence[Atoms], data_files: Sequence[str | Path]
                   ) -> tuple[list[Atoms], Path | None, str]:
    """Probes of the shipped file, when every element in it is one of the model's species and
    the training labels share its energy zero (same code, functional, cutoff and smearing in
    their provenance); else no probes and the reason."""
    import ase.io

    path = default_probe_file(data_files)
    if path is None:
        return [], None, f"no {PROBE_FILE} beside the data or in the repository's data/"
    probes = ase.io.read(path, ":")
    species = set(getattr(calc, "species", ()) or ())
    if not {s for a in probes for s in a.get_chemical_symbols()} <= species:
        return [], None, f"{path}: elements the model does not have"
    reference = {k: probes[0].info.get(k) for k in REFERENCE_KEYS}
    for atoms in training:
        mine = {k: atoms.info.get(k) for k in REFERENCE_KEYS}
        if mine != reference:
            return [], None, (f"{path} not used: training labels {mine} do not share its "
                              f"energy zero {reference}")
    return probes, path, f"{len(probes)} probes from {path}"
