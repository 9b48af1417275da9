"""Training curves: total-energy error and invariant-point mapping error against epoch."""

from __future__ import annotations

from pathlib import Path

from nnpcalc.plotting import plt, save_figure


def plot_training_curves(histories: list[list[dict]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, history in enumerate(histories):
        tag = f" (replica {k})" if len(histories) > 1 else ""
        epochs = [r["epoch"] for r in history]
        for key, label, style in (
            ("train_energy_rmse_meV_per_atom", "train E RMSE", "-"),
            ("val_energy_rmse_meV_per_atom", "validation E RMSE", "--"),
            ("mapping_error_meV", "held-out invariant-point error", ":"),
            ("mapping_train_rmse_meV", "in-loss invariant points", "-."),
        ):
            values = [r.get(key, float("nan")) for r in history]
            if any(v == v for v in values):
                ax.plot(epochs, values, style, label=label + tag)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("meV/atom")
    ax.legend(fontsize=8)
    ax.set_title("Total-energy error vs atomic-energy mapping error")
    return save_figure(fig, path)
