"""One place for matplotlib set-up and saving, so every PNG is written the same way."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a screen
import matplotlib.pyplot as plt  # noqa: E402


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)


def grouped_bars(path: str | Path, categories: list[str], series: dict[str, list[float]],
                 ylabel: str, title: str = "", log: bool = True,
                 points: tuple[str, list[float]] | None = None,
                 reference: float | None = None) -> Path:
    """One group of bars per category, one bar per series (optionally black points and a
    dotted reference line): how the benchmark and the tutorial compare recipes."""
    import numpy as np

    x = np.arange(len(categories))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(max(6.5, 1.1 * len(categories) + 2), 3.8))
    for k, (label, values) in enumerate(series.items()):
        ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=label)
    if points is not None:
        ax.plot(x, points[1], "k.", label=points[0])
    if reference is not None:
        ax.axhline(reference, color="grey", ls=":", lw=1)
    if log:
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 30)  # headroom for the legend above the bars
    ax.set_xticks(x, categories, fontsize=8)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    return save_figure(fig, path, dpi=130)
