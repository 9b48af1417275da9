"""Markdown/HTML report and plots of an atomic-energy mapping audit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nnpcalc.analysis.audit import AuditResult
from nnpcalc.analysis.markdown import Document
from nnpcalc.plotting import plt, save_figure


def plot_energy_vs_volume(result: AuditResult, path: Path) -> Path:
    """Atomic energy against volume per phase: model (markers) vs reference (lines)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    families = sorted({p.family for p in result.points if p.volume_A3_per_atom})
    for k, family in enumerate(families):
        pts = sorted((p for p in result.points if p.family == family and p.volume_A3_per_atom),
                     key=lambda p: p.volume_A3_per_atom)
        v = [p.volume_A3_per_atom for p in pts]
        color = f"C{k % 10}"
        ax.plot(v, [p.reference_eV_per_atom for p in pts], "-", color=color, lw=1)
        for source, marker in (("training", "x"), ("validation", "s"), ("probe", "o")):
            sel = [p for p in pts if p.source == source]
            if sel:
                ax.plot([p.volume_A3_per_atom for p in sel], [p.model_eV_per_atom for p in sel],
                        marker, color=color, ms=5, mfc="none",
                        label=f"{family} ({source})")
    ax.set_xlabel("volume (Å³/atom)")
    ax.set_ylabel("atomic energy (eV)")
    ax.set_title("Invariant points: model E_i (markers) vs reference E/N (lines)")
    ax.legend(fontsize=7, ncol=2)
    return save_figure(fig, path)


def plot_family_errors(result: AuditResult, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    fams = list(result.mapping_rmse_meV_by_family)
    ax.bar(fams, [result.mapping_rmse_meV_by_family[f] for f in fams], color="C1")
    ax.axhline(result.thresholds["mapping_bad_meV"], color="r", ls="--", lw=1,
               label="ad hoc threshold")
    ax.axhline(result.thresholds["mapping_ok_meV"], color="g", ls=":", lw=1,
               label="physical threshold")
    ax.set_ylabel("held-out mapping RMSE (meV/atom)")
    ax.tick_params(axis="x", rotation=30)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_coverage(result: AuditResult, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    held = [p for p in result.points if p.source != "training"]
    ax.scatter([p.coverage_distance for p in held], [abs(p.error_meV) for p in held], s=14)
    for p in held:
        ax.annotate(p.family, (p.coverage_distance, abs(p.error_meV)), fontsize=6)
    ax.set_xlabel("distance to nearest training environment (standardised)")
    ax.set_ylabel("|mapping error| (meV/atom)")
    ax.set_yscale("symlog", linthresh=1.0)
    return save_figure(fig, path)


def audit_section(doc: Document, result: AuditResult, out_dir: Path, prefix: str = "") -> None:
    """Append the audit's tables and plots to `doc` (shared with `nnpcalc report`)."""
    doc.paragraph(f"Verdict: **{result.verdict}** — {result.explanation}.")
    rows = [[f"total energy RMSE, {k}", v] for k, v in result.energy_rmse_meV_per_atom.items()]
    rows += [[f"invariant-point RMSE, {k}" + (" (in the loss: repeats the training error)"
                                              if k == "training" else ""), v]
             for k, v in result.mapping_rmse_meV.items() if v == v]
    rows.append(["held-out invariant points, RMSE / max", f"{result.held_out_mapping_rmse_meV:.3g}"
                 f" / {result.held_out_mapping_max_meV:.3g}"])
    near = result.near_invariant
    rows.append([f"training atoms near a held-out invariant point ({near['n_atoms']}), RMSE",
                 near["rmse_meV"]])
    rows += [[f"hidden reference partition, {k}", v]
             for k, v in result.hidden_partition_rmse_meV.items()]
    doc.table(["quantity", "meV/atom"], rows)
    doc.table(["family", "held-out mapping RMSE (meV/atom)"],
              [[k, v] for k, v in result.mapping_rmse_meV_by_family.items()])
    for name, plot, caption in (
        ("energy_vs_volume", plot_energy_vs_volume, "atomic energy vs volume per phase"),
        ("family_errors", plot_family_errors, "held-out mapping error per family"),
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
