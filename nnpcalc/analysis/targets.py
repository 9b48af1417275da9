"""Acceptance targets of a shipped model against DFT, as data, and the scorecard of a report.

Which of two models is better is a question about what people compute with it — elastic
constants, phonons, the vacancy, the audit of its atomic energies — not only about test-set
energies. The targets are issue 10's list for a shipped Si model; `nnpcalc demo` ships the model
that meets most of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    path: tuple[str, ...]  # where the model's value sits in report.json
    tolerance: float | str  # a number, or the one value (a word) that meets the target
    unit: str = ""
    reference: str | None = None  # key of the DFT value in the baselines; None: an upper bound
    relative: bool = False  # tolerance as a fraction of the DFT value
    only_if: tuple[tuple[str, ...], object] | None = None  # (path, value) the row must show

    def describe(self) -> str:
        if isinstance(self.tolerance, str):
            return f"= {self.tolerance}"
        if self.reference is None:
            return f"≤ {self.tolerance:g} {self.unit}"
        if self.relative:
            return f"± {100 * self.tolerance:g} %"
        return f"± {self.tolerance:g} {self.unit}"

    def met(self, value, reference: float | None = None) -> bool | None:
        """Whether `value` meets the target (None: not measured, or no DFT value to judge by)."""
        if isinstance(self.tolerance, str):
            return None if value is None else value == self.tolerance
        if value is None or (self.reference is not None and reference is None):
            return None
        if self.reference is None:
            return value <= self.tolerance
        scale = abs(reference) if self.relative else 1.0
        return abs(value - reference) <= self.tolerance * scale


_TEST, _PROPS = "test_errors", "properties"
TARGETS = (
    Target("test E/N MAE, periodic cells", (_TEST, "energy_mae_meV_per_atom_periodic"), 4.0,
           "meV/atom"),
    Target("test E/N RMSE, periodic cells", (_TEST, "energy_rmse_meV_per_atom_periodic"), 6.0,
           "meV/atom"),
    Target("test forces MAE", (_TEST, "forces_mae_eV_per_A"), 0.08, "eV/Å"),
    Target("a0", (_PROPS, "eos", "a0_angstrom"), 0.01, "Å", "a0_angstrom"),
    Target("B", (_PROPS, "eos", "B_GPa"), 3.0, "GPa", "B_GPa"),
    Target("C11", (_PROPS, "elastic", "C11_GPa"), 0.10, "GPa", "C11_GPa", relative=True),
    Target("C12", (_PROPS, "elastic", "C12_GPa"), 0.10, "GPa", "C12_GPa", relative=True),
    Target("C44", (_PROPS, "elastic", "C44_GPa"), 0.10, "GPa", "C44_GPa", relative=True),
    Target("Γ optical phonon", (_PROPS, "phonons", "gamma_optical_THz"), 0.2, "THz",
           "gamma_optical_THz"),
    # the 63-atom cell of the DFT baseline only: `--quick` reports relax a smaller one
    Target("vacancy, 63 atoms, relaxed", (_PROPS, "vacancy", "formation_energy_eV"), 0.15, "eV",
           "vacancy64_formation_eV", only_if=((_PROPS, "vacancy", "n_atoms"), 63)),
    Target("audit: held-out invariant points", ("audit", "held_out_mapping_rmse_meV"), 10.0,
           "meV/atom"),
    Target("audit verdict", ("audit", "verdict"), "physical"),
)


def _lookup(summary: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(summary, dict) or key not in summary:
            return None
        summary = summary[key]
    return summary


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def scorecard(summary: dict, dft: dict, targets: tuple[Target, ...] = TARGETS) -> list[dict]:
    """One row per target: the model's value, DFT's, and `met` (None where the report does not
    measure it, e.g. a quick report's small vacancy or baselines without that value)."""
    rows = []
    for target in targets:
        value = _lookup(summary, target.path)
        value = value if isinstance(target.tolerance, str) else _number(value)
        reference = _number(dft.get(target.reference)) if target.reference else None
        if target.only_if is not None and _lookup(summary, target.only_if[0]) != target.only_if[1]:
            value = None  # another quantity than the target's (e.g. a smaller vacancy cell)
        met = target.met(value, reference)
        rows.append({"target": target.name, "tolerance": target.describe(), "unit": target.unit,
                     "model": value, "dft": reference, "met": met})
    return rows


def targets_met(rows: list[dict]) -> int:
    return sum(row["met"] is True for row in rows)
