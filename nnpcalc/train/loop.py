"""Training loop: losses on E/N, forces and stress; atomic checkpoints; exact resume.

Mini-batch order in epoch e depends only on (seed, e), so a resumed run replays exactly the
batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from ase.units import GPa
from tqdm.auto import tqdm

from nnpcalc.calculator import DTYPES, resolve_device
from nnpcalc.models.contract import TrainingData
from nnpcalc.models.model_file import load_model, save_model
from nnpcalc.models.potential import evaluate, voigt
from nnpcalc.models.registry import model_class
from nnpcalc.models.widen import widen_from
from nnpcalc.train import distributed
from nnpcalc.train.checkpoint import load_checkpoint, save_atomically
from nnpcalc.train.config import TrainConfig
from nnpcalc.train.labels import GraphSet, LabelBatch


@dataclass
class Prepared:
    """Everything shared by the replicas of one run: data, graphs and statistics."""

    config: TrainConfig
    species: list[str]
    train: GraphSet
    validation: GraphSet
    test: GraphSet
    reference_energies: dict[str, float]
    anchor: bool
    architecture: dict  # the model kind's config() for the new models
    statistics: TrainingData  # what each new model fits its statistics from
    monitor: object | None
    dtype: torch.dtype
    device: torch.device


def new_model(prep: Prepared, seed: int) -> tuple[torch.nn.Module, bool]:
    """A freshly initialised model of the configured kind with its statistics fitted, and
    whether that start is itself a fitted model (then it competes for the best checkpoint)."""
    torch.manual_seed(seed)
    model = model_class(prep.config.model.kind).from_config(prep.architecture)
    if prep.config.init_from:
        _load_start(model, prep.config.init_from)
        fitted_start = True
    else:
        fitted_start = bool(model.fit_statistics(prep.statistics))
    return model.to(dtype=prep.dtype, device=prep.device), fitted_start


def _load_start(model: torch.nn.Module, path: str) -> None:
    """Copy a model file's weights and statistics into `model` (fine-tuning): refused unless
    the file holds one model of the same kind and architecture, naming what differs."""
    start = load_model(path)
    if start.kind != model.kind:
        raise ValueError(f"init_from {path}: a {start.kind!r} model, the config trains "
                         f"{model.kind!r}")
    wanted, found = model.config(), start.config()
    grown = model.grown_settings
    differ = sorted(k for k in {*wanted, *found} if wanted.get(k) != found.get(k)
                    and not (k in grown and found.get(k, grown[k]) == grown[k]))
    wider = [k for k in differ if k in model.widened_settings
             and _not_narrower(wanted.get(k), found.get(k))]
    if set(differ) - set(wider):
        raise ValueError(f"init_from {path}: its architecture differs from the config's model "
                         f"block in {', '.join(sorted(set(differ) - set(wider)))}")
    # a grown model's added terms are absent from the file and start so that they add nothing;
    # a widened one's new units are read through zeroed weights
    if wider:
        widen_from(model, start)
        if not _same_atomic_energies(model, start):
            raise ValueError(f"init_from {path}: the model widened in {', '.join(wider)} "
                             "does not give the file's energies")
        return
    missing, unexpected = model.load_state_dict(start.state_dict(), strict=False)
    if unexpected or (missing and not _same_atomic_energies(model, start)):
        raise ValueError(f"init_from {path}: weights do not match the config's model "
                         f"(missing {missing}, unexpected {unexpected})")


def _not_narrower(wanted, found) -> bool:
    """A width (or list of widths, one per layer) at least the file's everywhere."""
    wanted, found = np.atleast_1d(wanted), np.atleast_1d(found)
    return wanted.shape == found.shape and bool(np.all(wanted >= found))


def _same_atomic_energies(model: torch.nn.Module, start: torch.nn.Module) -> bool:
    """Both give the same per-atom energies on a random cluster of every species, all pairs
    within the cutoff (to 1 µeV: a fresh float32 model rounds a file's float64 statistics;
    neither model is changed)."""
    generator = torch.Generator().manual_seed(0)
    n = 3 * len(model.species) + 2
    positions = torch.rand(n, 3, generator=generator, dtype=torch.float64) * model.cutoff / 2
    species = torch.arange(n) % len(model.species)
    edge_i, edge_j = torch.nonzero(~torch.eye(n, dtype=torch.bool), as_tuple=True)
    vectors = positions[edge_j] - positions[edge_i]
    with torch.no_grad():
        found, wanted = (copy.deepcopy(m).double()(species, edge_i, edge_j, vectors)
                         for m in (start, model))
    return bool(torch.allclose(found, wanted, rtol=0.0, atol=1e-6))


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The order of the training structures in an epoch, fixed by (seed, epoch)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(
        seed * 1_000_003 + epoch)).tolist()


def term_weights(labels: LabelBatch, cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """Each term's weights: per structure (energy, stress) or per atom (forces)."""
    energy = labels.weight * labels.size if cfg.loss.energy_size == "sqrt_atoms" else labels.weight
    return {"energy": energy, "forces": labels.atom_weight * labels.forces_mask,
            "stress": labels.stress_weight * labels.stress_mask}


def structure_term_weights(data: GraphSet, cfg: TrainConfig,
                           chunk: int = 64) -> dict[str, np.ndarray]:
    """Each term's weight per structure of a set (the force weight: its atoms' sum)."""
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(data), chunk):
        batch, labels = data.batch(range(start, min(start + chunk, len(data))),
                                   torch.float64, "cpu")
        for name, weight in term_weights(labels, cfg).items():
            if name == "forces":  # per atom
                weight = torch.zeros(batch.n_structures, dtype=weight.dtype).index_add_(
                    0, batch.batch, weight)
            parts.setdefault(name, []).append(weight.numpy())
    return {name: np.concatenate(values) for name, values in parts.items()}


def mean_term_weights(data: GraphSet, cfg: TrainConfig) -> dict[str, float] | None:
    """Each term's mean weight per structure of a set: with `loss.normalise: data` a batch of
    n structures divides its weighted squared errors by n times these (None under "batch",
    where each batch divides by its own weights)."""
    if cfg.loss.normalise == "batch" or len(data) == 0:
        return None
    return {name: float(w.mean()) for name, w in structure_term_weights(data, cfg).items()}


def _denominators(means: dict[str, float] | None, n_structures: int, dtype: torch.dtype,
                  device: torch.device | str) -> dict[str, torch.Tensor] | None:
    """What a batch of n structures divides its weighted sums by under `normalise: data`."""
    if means is None:
        return None
    return {name: torch.tensor(mean * n_structures, dtype=dtype, device=device)
            for name, mean in means.items()}


def _loss_parts(out, labels, batch, cfg: TrainConfig) -> dict[str, tuple[torch.Tensor, ...]]:
    """Each term as (weighted sum of squared errors, sum of weights): a term is their ratio,
    and sharded batches add both parts before dividing."""
    n = batch.n_atoms.to(out["energy"].dtype)
    weights = term_weights(labels, cfg)
    parts = {}
    de = (out["energy"] - labels.energy) / n
    parts["energy"] = ((weights["energy"] * de**2).sum(), weights["energy"].sum())
    if "forces" in out:
        df2 = ((out["forces"] - labels.forces) ** 2).sum(-1) / 3.0
        parts["forces"] = ((weights["forces"] * df2).sum(), weights["forces"].sum())
    if "stress" in out:
        dv = (voigt(out["stress"]) - labels.stress) * (batch.volume / n)[:, None]
        w = weights["stress"]
        parts["stress"] = ((w[:, None] * dv**2).mean(-1).sum(), w.sum())
    return parts


def _loss_terms(out, labels, batch, cfg: TrainConfig,
                denominators: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Weighted mean-square errors; `denominators` (summed over ranks, or the set's weights
    under `normalise: data`) replace the local ones. A term without weight (no forces or
    stress labels) is left out."""
    terms = {}
    for name, (total, weight) in _loss_parts(out, labels, batch, cfg).items():
        weight = weight if denominators is None else denominators[name]
        if weight > 0:
            terms[name] = total / weight.clamp_min(1e-12)
    return terms


def _total(terms, cfg: TrainConfig) -> torch.Tensor:
    return sum(getattr(cfg.loss, k) * v for k, v in terms.items())


def evaluate_set(model, data: GraphSet, cfg: TrainConfig, dtype, device,
                 chunk: int = 16) -> dict[str, float]:
    """Error metrics (meV/atom, eV/Å, GPa) of a model on a labelled set."""
    if len(data) == 0:
        return {}
    de, dfs, dss, losses = [], [], [], []
    want_stress = cfg.loss.stress > 0 or any(it.stress is not None for it in data.items)
    means = mean_term_weights(data, cfg)
    for start in range(0, len(data), chunk):
        idx = list(range(start, min(start + chunk, len(data))))
        batch, labels = data.batch(idx, dtype, device)
        out = evaluate(model, batch, forces=True, stress=want_stress)
        terms = _loss_terms(out, labels, batch, cfg, _denominators(means, len(idx), dtype,
                                                                   device))
        losses.append(float(_total(terms, cfg).detach()) * len(idx))
        de.append(((out["energy"] - labels.energy) / batch.n_atoms).detach().cpu().numpy())
        if labels.forces_mask.any():
            diff = (out["forces"] - labels.forces)[labels.forces_mask]
            dfs.append(diff.detach().cpu().numpy().ravel())
        if want_stress and labels.stress_mask.any():
            diff = (voigt(out["stress"]) - labels.stress)[labels.stress_mask]
            dss.append(diff.detach().cpu().numpy().ravel())
    de = np.concatenate(de)
    metrics = {
        "loss": sum(losses) / len(data),
        "energy_rmse_meV_per_atom": 1000 * float(np.sqrt(np.mean(de**2))),
        "energy_mae_meV_per_atom": 1000 * float(np.mean(np.abs(de))),
    }
    if dfs:
        df = np.concatenate(dfs)
        metrics["forces_rmse_eV_per_A"] = float(np.sqrt(np.mean(df**2)))
        metrics["forces_mae_eV_per_A"] = float(np.mean(np.abs(df)))
    if dss:
        ds = np.concatenate(dss) / GPa
        metrics["stress_rmse_GPa"] = float(np.sqrt(np.mean(ds**2)))
    return metrics


def _stopping_value(row: dict, rule: str) -> float:
    val_loss = row.get("val_loss", row.get("train_loss"))
    val_e = row.get("val_energy_rmse_meV_per_atom", row.get("train_energy_rmse_meV_per_atom"))
    mapping = row.get("mapping_error_meV", float("nan"))
    if rule in ("mapping", "combined") and math.isnan(mapping):
        raise ValueError(f"early_stopping={rule!r} needs held-out invariant points "
                         "(validation crystals, probes or isolated-atom energies)")
    # "last": every epoch beats the ones before it
    return {"val_loss": val_loss, "val_energy": val_e, "mapping": mapping,
            "combined": val_e + mapping, "last": -float(row["epoch"])}[rule]


def _write_logs(history: list[dict], out_dir: Path) -> None:
    (out_dir / "log.json").write_text(json.dumps(history, indent=1))
    keys = sorted({k for row in history for k in row}, key=lambda k: (k != "epoch", k))
    with open(out_dir / "log.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)


def train_replica(prep: Prepared, seed: int, out_dir: Path, resume: bool = False,
                  progress: bool = True) -> tuple[torch.nn.Module, list[dict]]:
    """Train one model; writes best_model.pt, last.ckpt and logs into `out_dir`."""
    cfg = prep.config
    if distributed.active() and cfg.optimizer == "lbfgs":
        raise ValueError("optimizer 'lbfgs' is full-batch and single-process; use adamw with "
                         "torch.distributed")
    main = distributed.is_main()
    out_dir.mkdir(parents=True, exist_ok=True)
    model, fitted_start = new_model(prep, seed)
    start_weights = ([p.detach().clone() for p in model.parameters()] if cfg.proximal > 0
                     else None)
    optimizer = _optimizer(model, cfg)
    scheduler = _scheduler(optimizer, cfg)
    # With ema_decay the model that is evaluated, checkpointed and returned is an exponential
    # moving average of the weights: mini-batch noise (which moves all energies of a cell
    # together while forces barely change) averages out.
    averaged = copy.deepcopy(model) if cfg.ema_decay else model
    state = {"epoch": 0, "best_metric": float("inf"), "best_epoch": -1, "bad_epochs": 0,
             "history": []}
    ckpt_path = out_dir / "last.ckpt"
    if resume and ckpt_path.exists():
        ckpt = load_checkpoint(ckpt_path)
        model.load_state_dict(ckpt["model"])
        if cfg.ema_decay:
            averaged.load_state_dict(ckpt["averaged"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        state = ckpt["state"]
    n_train = len(prep.train)
    means = mean_term_weights(prep.train, cfg)
    if state["epoch"] == 0 and fitted_start:
        # A fitted start is a model in its own right: training must beat it to replace it.
        model.eval()
        row = _measure(model, prep, 0, optimizer.param_groups[0]["lr"], time.perf_counter())
        state.update(best_metric=_stopping_value(row, cfg.early_stopping), best_epoch=0)
        state["history"].append(row)
        if main:
            save_model(model, out_dir / "best_model.pt",
                       metadata={"epoch": 0, "metrics": row, "seed": seed})
    bar = tqdm(range(state["epoch"], cfg.epochs), disable=not (progress and main),
               desc=f"seed {seed}",
               unit="epoch", initial=state["epoch"], total=cfg.epochs)
    for epoch in bar:
        start = time.perf_counter()
        order = epoch_order(n_train, seed, epoch)
        model.train()
        if isinstance(optimizer, torch.optim.LBFGS):
            optimizer.step(partial(_accumulate_loss, model, prep, order, optimizer,
                                   start_weights, means))
        else:
            for b in range(0, n_train, cfg.batch_size):
                _accumulate_loss(model, prep, order[b:b + cfg.batch_size], optimizer,
                                 start_weights, means)
                optimizer.step()
                if cfg.ema_decay:
                    _update_average(averaged, model, cfg.ema_decay)
        steps_s = time.perf_counter() - start
        model.eval()
        averaged.eval()
        row = _measure(averaged, prep, epoch + 1, optimizer.param_groups[0]["lr"], start)
        row["steps_s"] = steps_s  # the optimisation alone, without the evaluation
        metric = _stopping_value(row, cfg.early_stopping)
        floor_reached = False
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            # The rate follows the (smooth) validation loss; once it sits at lr_min and would
            # be cut again, training has converged as far as this optimiser goes.
            value = row.get("val_loss", row["train_loss"])
            would_cut = (scheduler.num_bad_epochs >= cfg.plateau_patience
                         and value >= scheduler.best * (1 - scheduler.threshold))
            floor_reached = would_cut and optimizer.param_groups[0]["lr"] <= cfg.lr_min * (
                1 + 1e-9)
            scheduler.step(value)
        elif scheduler is not None:
            scheduler.step()
        state["history"].append(row)
        state["epoch"] = epoch + 1
        improved = metric < state["best_metric"]
        if improved:
            state.update(best_metric=metric, best_epoch=epoch + 1, bad_epochs=0)
        else:
            state["bad_epochs"] += 1
        if main:
            if improved:
                save_model(averaged, out_dir / "best_model.pt",
                           metadata={"epoch": epoch + 1, "metrics": row, "seed": seed})
            save_atomically({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "scheduler": None if scheduler is None else scheduler.state_dict(),
                             "state": state,
                             **({"averaged": averaged.state_dict()} if cfg.ema_decay else {})},
                            ckpt_path)
            _write_logs(state["history"], out_dir)
        energy = row.get("val_energy_rmse_meV_per_atom", row["train_energy_rmse_meV_per_atom"])
        bar.set_postfix(E=f"{energy:.1f}",
                        map=f"{row.get('mapping_error_meV', float('nan')):.1f}")
        if state["bad_epochs"] >= cfg.patience or floor_reached:
            break
    distributed.barrier()  # rank 0 has written the best model
    best = load_checkpoint(out_dir / "best_model.pt")
    model.load_state_dict(best["state_dict"])
    model.eval()
    return model, state["history"]


@torch.no_grad()
def _update_average(averaged: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for avg, current in zip(averaged.parameters(), model.parameters(), strict=True):
        avg.lerp_(current, 1.0 - decay)


def _measure(model, prep: Prepared, epoch: int, lr: float, start: float) -> dict:
    """One history row: errors on training and validation data, the invariant monitor
    (computed by rank 0 alone and shared, so that every rank decides alike)."""
    if not distributed.is_main():
        return distributed.broadcast(None)
    return distributed.broadcast(_metrics_row(model, prep, epoch, lr, start))


def _metrics_row(model, prep: Prepared, epoch: int, lr: float, start: float) -> dict:
    cfg = prep.config
    row = {"epoch": epoch, "lr": lr}
    row.update({f"train_{k}": v for k, v in evaluate_set(
        model, prep.train, cfg, prep.dtype, prep.device).items()})
    row.update({f"val_{k}": v for k, v in evaluate_set(
        model, prep.validation, cfg, prep.dtype, prep.device).items()})
    if prep.monitor is not None and len(prep.monitor):
        row.update(prep.monitor.measure(model))
    row["time_s"] = time.perf_counter() - start
    return row


def _proximal_term(model, start_weights: list[torch.Tensor] | None, weight: float):
    """weight × Σ (w − w_start)², with its gradient added (None without start weights)."""
    if start_weights is None:
        return None
    term = weight * sum(((p - p0) ** 2).sum()
                        for p, p0 in zip(model.parameters(), start_weights, strict=True))
    term.backward()
    return term.detach()


def _accumulate_loss(model, prep: Prepared, indices: list[int], optimizer,
                     start_weights: list[torch.Tensor] | None = None,
                     means: dict[str, float] | None = None) -> torch.Tensor:
    """Zero the gradients, then add those of the mean loss over `indices`, in chunks of
    batch_size structures (full-batch L-BFGS sees the whole set without holding it at once),
    and of the proximal term when fine-tuning with one. `means` (mean_term_weights of the
    training set) normalise by the data instead of by each batch.
    Under torch.distributed each rank takes its share of `indices` and the gradients are summed
    over the ranks, normalised by the global batch (nnpcalc.train.distributed); the proximal
    term is added on rank 0 alone, so it counts once."""
    cfg = prep.config
    optimizer.zero_grad(set_to_none=True)
    needs_graph = cfg.loss.forces > 0 or cfg.loss.stress > 0
    total = torch.zeros(())
    if distributed.active():
        names = ["energy"] + [k for k in ("forces", "stress") if getattr(cfg.loss, k) > 0]
        mine = distributed.shard(indices)  # may be empty: the collectives still run
        local = torch.zeros(len(names), dtype=prep.dtype, device=prep.device)
        if mine:
            batch, labels = prep.train.batch(mine, prep.dtype, prep.device)
            out = evaluate(model, batch, forces=cfg.loss.forces > 0,
                           stress=cfg.loss.stress > 0, create_graph=needs_graph)
            parts = _loss_parts(out, labels, batch, cfg)
            local = torch.stack([parts[k][1].detach() for k in names])
        # the global batch's weights, or (the same on every rank) the data's
        summed = (_denominators(means, len(indices), prep.dtype, prep.device) if means
                  else dict(zip(names, distributed.all_reduce_sum(local), strict=True)))
        loss = torch.zeros((), dtype=prep.dtype, device=prep.device)
        if mine:
            loss = _total(_loss_terms(out, labels, batch, cfg, summed), cfg)
            loss.backward()
        if distributed.is_main() and start_weights is not None:
            loss = loss.detach() + _proximal_term(model, start_weights, cfg.proximal)
        distributed.sum_gradients(model)
        return distributed.all_reduce_sum(loss.detach())
    for b in range(0, len(indices), cfg.batch_size):
        idx = indices[b:b + cfg.batch_size]
        batch, labels = prep.train.batch(idx, prep.dtype, prep.device)
        out = evaluate(model, batch, forces=cfg.loss.forces > 0, stress=cfg.loss.stress > 0,
                       create_graph=needs_graph)
        denominators = _denominators(means, len(idx), prep.dtype, prep.device)
        loss = _total(_loss_terms(out, labels, batch, cfg, denominators), cfg) * (
            len(idx) / len(indices))
        loss.backward()
        total = total + loss.detach()
    proximal = _proximal_term(model, start_weights, cfg.proximal)
    return total if proximal is None else total + proximal


def _optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "lbfgs":
        return torch.optim.LBFGS(model.parameters(), lr=cfg.lr, max_iter=20, history_size=50,
                                 line_search_fn="strong_wolfe")
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def _scheduler(optimizer, cfg: TrainConfig):
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.5, patience=cfg.plateau_patience, min_lr=cfg.lr_min)
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.epochs, cfg.lr_min)
    return None


def resolve_dtype(cfg: TrainConfig) -> tuple[torch.dtype, torch.device]:
    return DTYPES[cfg.dtype], resolve_device(cfg.device)
