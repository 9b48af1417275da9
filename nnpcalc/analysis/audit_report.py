"""Markdown/HTML report and plots of an atomic-energy mapping audit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnpcalc.analysis.audit import AuditResult
from nnpcalc.analysis.markdown import Document
from nnpcalc.plotting import plt, save_figure

SOURCE_MARKERS = {"training": "x", "validation": "s", "probe": "o"}


def plot_energy_vs_volume(result: AuditResult, path: Path) -> Path:
    """Atomic energy against volume, one panel per phase: model vs reference (bars), point by
    point (strained cells share a volume, so no line is drawn through them)."""
    families = sorted({p.family for p in result.points if p.volume_A3_per_atom})
    ncols = min(3, max(len(families), 1))
    nrows = max(1, -(-len(families) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.8 * nrows), squeeze=False)
    for ax, family in zip(axes.flat, families, strict=False):
        pts = sorted((p for p in result.points if p.family == family and p.volume_A3_per_atom),
                     key=lambda p: p.volume_A3_per_atom)
        ax.plot([p.volume_A3_per_atom for p in pts], [p.reference_eV_per_atom for p in pts],
                "k_", ms=9, label="reference E/N")
        for source, marker in SOURCE_MARKERS.items():
            sel = [p for p in pts if p.source == source]
            if sel:
                ax.plot([p.volume_A3_per_atom for p in sel], [p.model_eV_per_atom for p in sel],
                        marker, ms=5, mfc="none", label=f"model ({source})")
        ax.set_title(family, fontsize=9)
        ax.set_xlabel("volume (Å³/atom)", fontsize=8)
        ax.set_ylabel("E_i (eV)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in axes.flat[len(families):]:
        ax.set_visible(False)
    return save_figure(fig, path)


def plot_family_errors(result: AuditResult, path: Path) -> Path:
    """Mapping RMSE per family, one bar per source, with the verdict thresholds."""
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    stats = result.mapping_stats_meV
    families = sorted({f for by_family in stats.values() for f in by_family if f != "all"})
    width = 0.8 / max(len(stats), 1)
    for k, (source, by_family) in enumerate(stats.items()):
        x = np.arange(len(families)) + (k - (len(stats) - 1) / 2) * width
        ax.bar(x, [by_family.get(f, {}).get("rmse_meV", np.nan) for f in families], width,
               label=source + (" (in the loss)" if source == "training" else ""))
    ax.set_xticks(np.arange(len(families)), families, rotation=30)
    ax.axhline(result.thresholds["mapping_bad_meV"], color="r", ls="--", lw=1,
               label="ad hoc threshold")
    ax.axhline(result.thresholds["mapping_ok_meV"], color="g", ls=":", lw=1,
               label="physical threshold")
    ax.set_ylabel("mapping RMSE (meV/atom)")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_coverage(result: AuditResult, path: Path) -> Path:
    """|Mapping error| of each held-out point against its distance from the training data."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    held = [p for p in result.points if p.source != "training" and not p.pinned]
    for source in sorted({p.source for p in held}):
        sel = [p for p in held if p.source == source]
        ax.scatter([p.coverage_distance for p in sel], [abs(p.error_meV) for p in sel], s=14,
                   label=source)
    for p in held:
        ax.annotate(p.family, (p.coverage_distance, abs(p.error_meV)), fontsize=6)
    ax.axvline(result.thresholds["covered_distance"], color="grey", ls=":", lw=1,
               label="coverage limit")
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel("distance to nearest training environment (standardised RMS)")
    ax.set_ylabel("|mapping error| (meV/atom)")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlim(0, 2 * max([1.0] + [p.coverage_distance for p in held]))
    ax.set_ylim(0, 2 * max([1.0] + [abs(p.error_meV) for p in held]))
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def audit_section(doc: Document, result: AuditResult, out_dir: Path, prefix: str = "") -> None:
    """Append the audit's tables and plots to `doc` (shared with `nnpcalc report`)."""
    doc.paragraph(f"Verdict: **{result.verdict}** — {result.explanation}.")
    doc.table(["total energy RMSE", "meV/atom"],
              [[k, v] for k, v in result.energy_rmse_meV_per_atom.items()]
              + [[f"{k} (the fit judged by the verdict)", v]
                 for k, v in result.fit_energy_rmse_meV_per_atom.items()])
    rows = []
    for source, by_family in result.mapping_stats_meV.items():
        note = " (in the loss: repeats the training error)" if source == "training" else ""
        for family, st in by_family.items():
            rows.append([source + note, family, st["n_points"], st["rmse_meV"],
                         st["max_abs_meV"]])
    doc.table(["invariant points", "family", "n", "RMSE (meV/atom)", "max abs error (meV/atom)"],
              rows)
    if result.pinned.get("n_points"):
        doc.paragraph(f"Pinned, not counted as held out: {result.pinned['n_points']} point(s), "
                      f"max |error| {result.pinned['max_abs_meV']:.3g} meV/atom — "
                      f"{result.pinned['why']}.")
    if result.excluded_probes:
        doc.paragraph(f"Probes dropped because they equal a training structure: "
                      f"{len(result.excluded_probes)} (indices {result.excluded_probes}).")
    cov = result.held_out_by_coverage
    limit = result.thresholds["covered_distance"]
    doc.table(["held-out points", "n", "RMSE (meV/atom)", "max abs error (meV/atom)"], [
        ["all", sum(c["n_points"] for c in cov.values()), result.held_out_mapping_rmse_meV,
         result.held_out_mapping_max_meV],
        *[[f"{k} (distance {'≤' if k == 'covered' else '>'} {limit:g})", c["n_points"],
           c["rmse_meV"], c["max_abs_meV"]] for k, c in cov.items()]])
    doc.paragraph(f"Distances are RMS over per-element standardised features; for scale, a "
                  "training environment's median distance to the nearest one in another "
                  f"training structure is {result.coverage_spacing:.3g}.")
    near = result.near_invariant
    doc.paragraph(f"Training atoms outside invariant structures within distance "
                  f"{near['radius']:g} of an invariant environment: {near['n_atoms']}; their "
                  "E_i minus that point's reference (a physical mapping drifts only smoothly):")
    doc.table(["nearest invariant point", "atoms", "mean distance", "RMSE (meV)"],
              [[f, v["n_atoms"], v["mean_distance"], v["rmse_meV"]]
               for f, v in near["by_family"].items()])
    if result.hidden_partition_rmse_meV:
        doc.table(["hidden reference partition", "E_i RMSE (meV)"],
                  [[k, v] for k, v in result.hidden_partition_rmse_meV.items()])
    for name, plot, caption in (
        ("energy_vs_volume", plot_energy_vs_volume, "atomic energy vs volume per phase"),
        ("family_errors", plot_family_errors, "mapping error per family and source"),
        ("coverage", plot_coverage, "mapping error vs distance from the training data"),
    ):
        path = plot(result, out_dir / f"{prefix}{name}.png")
        doc.image(path.name, caption)


def write_audit_report(result: AuditResult, out_dir: str | Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "audit.json").write_text(json.dumps(result.to_dict(), indent=1,
                                                   default=_jsonable))
    doc = Document("Atomic-energy mapping audit")
    audit_section(doc, result, out_dir)
    return doc.write(out_dir, "audit")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value))
