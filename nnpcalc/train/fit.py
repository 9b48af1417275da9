"""`fit(config) -> model`: prepare data once, train one model or K replicas, save, summarise."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from nnpcalc.models.contract import TrainingData, atom_features
from nnpcalc.models.ensemble import Ensemble
from nnpcalc.models.model_file import save_model
from nnpcalc.models.registry import model_class
from nnpcalc.train import distributed
from nnpcalc.train.config import TrainConfig, load_config, validate_config
from nnpcalc.train.data import (
    fit_reference_energies,
    group_weight,
    read_labelled,
    split_indices,
)
from nnpcalc.train.gdf import gdf_weights
from nnpcalc.train.labels import GraphSet
from nnpcalc.train.loop import Prepared, evaluate_set, resolve_dtype, train_replica
from nnpcalc.train.plots import plot_training_curves


def _as_config(config: TrainConfig | dict | str | Path) -> TrainConfig:
    if isinstance(config, TrainConfig):
        return config
    if isinstance(config, dict):
        return validate_config(config)
    return load_config(config)


def prepare(cfg: TrainConfig) -> Prepared:
    """Read and split data, build graphs, fit E0 and feature statistics, set up the monitor."""
    need_f, need_s = cfg.loss.forces > 0, cfg.loss.stress > 0
    read = lambda paths: read_labelled(paths, cfg.keys, need_f, need_s,  # noqa: E731
                                       cfg.skip_missing_labels)
    items = read(cfg.data)
    train_idx, val_idx, test_idx = split_indices(
        len(items), 0.0 if cfg.validation else cfg.val_fraction,
        0.0 if cfg.test else cfg.test_fraction, cfg.seed)
    train = [items[k] for k in train_idx] + (read(cfg.train_only) if cfg.train_only else [])
    val = read(cfg.validation) if cfg.validation else [items[k] for k in val_idx]
    test = read(cfg.test) if cfg.test else [items[k] for k in test_idx]
    for it in [*train, *val, *test]:
        it.weight *= group_weight(it, cfg.loss.group_key, cfg.loss.groups)
        it.stress_weight = group_weight(it, cfg.loss.group_key, cfg.loss.stress_groups)
    species = cfg.model.species or sorted({s for it in [*items, *train] for s in it.atoms.symbols})
    cutoff = cfg.model.neighbour_cutoff()
    graphs = {name: GraphSet(data, species, cutoff)
              for name, data in (("train", train), ("val", val), ("test", test))}
    mean_size = float(np.mean([len(it.atoms) for it in train]))
    for graph_set in graphs.values():
        graph_set.size_reference = mean_size
    e0 = cfg.isolated_atom_energies
    anchor = cfg.model.anchor_isolated if cfg.model.anchor_isolated is not None else bool(e0)
    if anchor and not e0:
        raise ValueError("model.anchor_isolated needs isolated_atom_energies in the config")
    missing = [s for s in species if e0 and s not in e0]
    if missing:
        raise ValueError(f"isolated_atom_energies lacks {missing}")
    # Anchored: per-atom energies are offsets from the isolated atom. Free: from per-species
    # means fitted to the totals, so the network starts near the data instead of eVs away.
    reference = dict(e0) if anchor else fit_reference_energies(train, species)
    residual = np.array([(it.energy - sum(reference[s] for s in it.atoms.symbols))
                         / len(it.atoms) for it in train])
    scale = float(np.sqrt(np.mean(residual**2)) if anchor else max(residual.std(), 1e-2))
    statistics = TrainingData(species, graphs["train"].graphs, residual,
                              [it.forces for it in train], reference, scale, anchor,
                              cfg.loss.energy, cfg.loss.forces)
    kind = model_class(cfg.model.kind)
    architecture = kind.config_from_settings(cfg.model, species, anchor)
    if cfg.gdf.enabled:
        graphs["train"].gdf = _gdf_weights(kind.from_config(architecture), statistics, cfg)
    dtype, device = resolve_dtype(cfg)
    monitor = None
    if cfg.monitor.enabled:
        from nnpcalc.train.monitor import InvariantMonitor

        probes = read_labelled(cfg.monitor.probes, cfg.keys) if cfg.monitor.probes else []
        monitor = InvariantMonitor(species, cutoff, {"train": train, "validation": val,
                                                     "probe": probes},
                                   e0, cfg.monitor.symprec, dtype, device)
    return Prepared(cfg, species, graphs["train"], graphs["val"], graphs["test"], reference,
                    anchor, architecture, statistics, monitor, dtype, device)


def _gdf_weights(model, data: TrainingData, cfg: TrainConfig) -> list[np.ndarray]:
    """Per-atom GDF weights of the training structures, in the model's own feature space."""
    if not hasattr(model, "features"):
        raise ValueError(f"gdf weighting needs per-atom features; model kind {model.kind!r} "
                         "has none")
    g, spec = atom_features(model.double().features, data.graphs)
    standardised = torch.empty_like(g)
    for k in spec.unique():
        standardised[spec == k] = ((g[spec == k] - g[spec == k].mean(0))
                                   / g[spec == k].std(0).clamp_min(1e-6))
    weights = gdf_weights(standardised, cfg.gdf.sigma, cfg.gdf.max_weight, seed=cfg.seed)
    bounds = np.cumsum([0, *[len(graph.species) for graph in data.graphs]])
    return [weights[a:b].numpy() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def fit(config: TrainConfig | dict | str | Path, resume: bool = False,
        progress: bool = True) -> torch.nn.Module:
    """Train as the config says; writes model.pt, logs, curves and summary.json into cfg.out.

    Inside a torch.distributed process group (torchrun, or `nnpcalc train --nproc N`) the
    ranks share each mini-batch and rank 0 alone writes (nnpcalc.train.distributed)."""
    cfg = _as_config(config)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if distributed.is_main():
        (out / "config.yaml").write_text(yaml.safe_dump(cfg.model_dump(), sort_keys=False))
    start = time.perf_counter()
    prep = prepare(cfg)
    members, histories = [], []
    for k in range(cfg.replicas):
        sub = out if cfg.replicas == 1 else out / f"replica_{k}"
        model, history = train_replica(prep, cfg.seed + k, sub, resume, progress)
        members.append(model)
        histories.append(history)
    model = members[0] if len(members) == 1 else Ensemble(members)
    if not distributed.is_main():
        return model
    summary = {
        "wall_time_s": time.perf_counter() - start,
        "n_train": len(prep.train), "n_validation": len(prep.validation),
        "n_test": len(prep.test), "species": prep.species,
        "split_sources": {name: [it.source for it in data.items] for name, data in
                          (("train", prep.train), ("validation", prep.validation),
                           ("test", prep.test))},
        "reference_energies_eV": prep.reference_energies, "anchor_isolated": prep.anchor,
        "invariant_points": [vars(p) for p in prep.monitor.points] if prep.monitor else [],
        "validation": evaluate_set(model, prep.validation, cfg, prep.dtype, prep.device),
        "test": evaluate_set(model, prep.test, cfg, prep.dtype, prep.device),
    }
    if prep.monitor is not None and len(prep.monitor):
        summary["mapping"] = prep.monitor.measure(model)
    summary["best_epochs"] = [int(min(h, key=lambda r: _row_metric(r, cfg))["epoch"])
                              for h in histories]
    save_model(model, out / "model.pt", metadata={"summary": summary})
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    plot_training_curves(histories, out / "training_curves.png")
    return model


def _row_metric(row: dict, cfg: TrainConfig) -> float:
    from nnpcalc.train.loop import _stopping_value

    return _stopping_value(row, cfg.early_stopping)
