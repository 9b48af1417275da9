"""`fit(config) -> model`: prepare data once, train one model or K replicas, save, summarise."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from nnpcalc.models import BPNN, Ensemble
from nnpcalc.models.bpnn import safe_std, whitening_matrices
from nnpcalc.models.model_file import save_model
from nnpcalc.train.config import TrainConfig, load_config, validate_config
from nnpcalc.train.data import (
    fit_reference_energies,
    group_weight,
    read_labelled,
    split_indices,
)
from nnpcalc.train.gdf import gdf_weights
from nnpcalc.train.labels import GraphSet
from nnpcalc.train.loop import Prepared, evaluate_set, prep_descriptor, resolve_dtype, train_replica
from nnpcalc.train.plots import plot_training_curves


def _as_config(config: TrainConfig | dict | str | Path) -> TrainConfig:
    if isinstance(config, TrainConfig):
        return config
    if isinstance(config, dict):
        return validate_config(config)
    return load_config(config)


def _features(graphs: GraphSet, species: list[str], cfg: TrainConfig) -> tuple[torch.Tensor, ...]:
    """Raw descriptors of every training atom (float64), with the centre species."""
    from nnpcalc.batch import collate
    from nnpcalc.descriptors.acsf import ACSF

    acsf = ACSF(prep_descriptor(cfg.model), species)
    feats, spec = [], []
    for start in range(0, len(graphs), 32):
        batch = collate(graphs.graphs[start:start + 32], torch.float64)
        with torch.no_grad():
            vectors = batch.edge_vectors(batch.positions, batch.cell)
            feats.append(acsf(batch.species, batch.edge_i, batch.edge_j, vectors))
        spec.append(batch.species)
    return torch.cat(feats), torch.cat(spec)


def prepare(cfg: TrainConfig) -> Prepared:
    """Read and split data, build graphs, fit E0 and feature statistics, set up the monitor."""
    need_f, need_s = cfg.loss.forces > 0, cfg.loss.stress > 0
    read = lambda paths: read_labelled(paths, cfg.keys, need_f, need_s,  # noqa: E731
                                       cfg.skip_missing_labels)
    items = read(cfg.data)
    train_idx, val_idx, test_idx = split_indices(
        len(items), 0.0 if cfg.validation else cfg.val_fraction,
        0.0 if cfg.test else cfg.test_fraction, cfg.seed)
    train = [items[k] for k in train_idx]
    val = read(cfg.validation) if cfg.validation else [items[k] for k in val_idx]
    test = read(cfg.test) if cfg.test else [items[k] for k in test_idx]
    for it in [*train, *val, *test]:
        it.weight *= group_weight(it, cfg.loss.group_key, cfg.loss.groups)
    species = cfg.model.species or sorted({s for it in items for s in it.atoms.symbols})
    cutoff = cfg.model.cutoff
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
    g, spec = _features(graphs["train"], species, cfg)
    mean = torch.stack([g[spec == k].mean(0) if (spec == k).any() else torch.zeros(g.shape[1])
                        for k in range(len(species))])
    std = torch.stack([g[spec == k].std(0) if (spec == k).sum() > 1 else torch.ones(g.shape[1])
                       for k in range(len(species))])
    whiten = None
    if cfg.model.whitening:
        x = (g - mean[spec]) / safe_std(mean, std)[spec]
        whiten = whitening_matrices(x, spec, len(species))
    linear_init = None
    if cfg.model.linear_term:
        template = BPNN(species, descriptor=prep_descriptor(cfg.model), hidden=[1],
                        anchor_isolated=anchor, whitening=cfg.model.whitening).double()
        template.set_normalization(mean, std)
        if whiten is not None:
            template.set_whitening(whiten)
        linear_init = linear_fit(template, graphs["train"], residual, scale, cfg)
    if cfg.gdf.enabled:
        standardised = (g - mean[spec]) / std[spec].clamp_min(1e-6)
        weights = gdf_weights(standardised, cfg.gdf.sigma, cfg.gdf.max_weight, seed=cfg.seed)
        bounds = np.cumsum([0, *[len(it.atoms) for it in train]])
        graphs["train"].gdf = [weights[a:b].numpy() for a, b in zip(bounds[:-1], bounds[1:],
                                                                      strict=True)]
    dtype, device = resolve_dtype(cfg)
    monitor = None
    if cfg.monitor.enabled:
        from nnpcalc.train.monitor import InvariantMonitor

        probes = read_labelled(cfg.monitor.probes, cfg.keys) if cfg.monitor.probes else []
        monitor = InvariantMonitor(species, cutoff, {"train": train, "validation": val,
                                                     "probe": probes},
                                   e0, cfg.monitor.symprec, dtype, device)
    return Prepared(cfg, species, graphs["train"], graphs["val"], graphs["test"], reference,
                    anchor, mean, std, scale, monitor, dtype, device, linear_init, whiten)


def linear_fit(template: BPNN, graphs: GraphSet, residual: np.ndarray, scale: float,
               cfg: TrainConfig, ridge: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (n_species, n_features) and intercepts (n_species,) of the linear term that best
    fits the training energies and forces (weighted as in the loss) — the model's start.

    The linear part alone is a linear-in-descriptor potential (like linear SNAP): E/N rows use
    Σ_i x_i / N per species block, with x the `template`'s linear inputs (and a species count
    for the intercept when not anchored), force rows −∂/∂R of Σ_i x_i, all times the scale.
    """
    from nnpcalc.batch import collate

    n_s = len(template.species)
    n_f = template.acsf.n_features
    cols = n_f + (0 if template.anchor_isolated else 1)
    e_rows, f_rows, f_targets = [], [], []
    for start in range(0, len(graphs), 16):
        idx = list(range(start, min(start + 16, len(graphs))))
        batch = collate([graphs.graphs[k] for k in idx], torch.float64)
        positions = batch.positions.detach().requires_grad_(True)
        g = template.features(batch.species, batch.edge_i, batch.edge_j,
                              batch.edge_vectors(positions, batch.cell))
        x = template.linear_inputs(batch.species, g)
        block = torch.cat([x, torch.ones(len(x), cols - n_f, dtype=x.dtype)], dim=1)
        onehot = torch.nn.functional.one_hot(batch.species, n_s).double()
        per_atom = onehot[:, :, None] * block[:, None, :]  # (N, S, cols)
        sums = per_atom.new_zeros(len(idx), n_s, cols).index_add_(0, batch.batch, per_atom)
        e_rows.append((sums / batch.n_atoms.double()[:, None, None]).reshape(len(idx), -1)
                      .detach())
        has_forces = [graphs.items[k].forces is not None for k in idx]
        if cfg.loss.forces > 0 and any(has_forces):
            flat = per_atom.sum(0).reshape(-1)
            jac = torch.stack([torch.autograd.grad(flat[c], positions, retain_graph=True)[0]
                               for c in range(flat.shape[0])], dim=-1)  # (N, 3, S·cols)
            mask = torch.cat([torch.full((len(graphs.items[k].atoms),), h)
                              for k, h in zip(idx, has_forces, strict=True)])
            f_rows.append(-jac[mask].reshape(-1, jac.shape[-1]))
            f_targets.append(torch.as_tensor(np.concatenate(
                [graphs.items[k].forces for k, h in zip(idx, has_forces, strict=True) if h]
            )).reshape(-1))
    n_e = sum(len(r) for r in e_rows)
    design = [torch.cat(e_rows) * scale / np.sqrt(n_e)]
    target = [torch.as_tensor(residual, dtype=torch.float64) / np.sqrt(n_e)]
    if f_rows:
        rows = torch.cat(f_rows)
        weight = np.sqrt(cfg.loss.forces / len(rows)) / max(cfg.loss.energy, 1e-12) ** 0.5
        design.append(rows * scale * weight)
        target.append(torch.cat(f_targets) * weight)
    a, b = torch.cat(design), torch.cat(target)
    norm = a.pow(2).sum(0).sqrt().clamp_min(1e-12)
    a = a / norm
    coef = torch.linalg.solve(a.T @ a + ridge * torch.eye(a.shape[1], dtype=torch.float64),
                              a.T @ b) / norm
    coef = coef.reshape(n_s, cols)
    intercept = (torch.zeros(n_s, dtype=torch.float64) if template.anchor_isolated
                 else coef[:, n_f])
    return coef[:, :n_f], intercept


def fit(config: TrainConfig | dict | str | Path, resume: bool = False,
        progress: bool = True) -> BPNN | Ensemble:
    """Train as the config says; writes model.pt, logs, curves and summary.json into cfg.out."""
    cfg = _as_config(config)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
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
