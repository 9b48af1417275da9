"""Elastic constants from stress–strain: the full 6×6 matrix, cubic averages, Born stability."""

from __future__ import annotations

import numpy as np
from ase import Atoms

from nnpcalc.analysis.errors import predict_many
from nnpcalc.analysis.relax import relax
from nnpcalc.sampling import strained

EV_A3_TO_GPA = 160.21766208


def _stresses(calc, cells: list[Atoms], relax_ions: bool, fmax: float) -> np.ndarray:
    if relax_ions:
        cells = [relax(c, calc, fmax=fmax, steps=300)["atoms"] for c in cells]
    return np.array([r["stress"] for r in predict_many(calc, cells)])


def elastic_constants(calc, atoms: Atoms, delta: float = 0.005,
                      relax_ions: bool = True, fmax: float = 1e-4) -> dict:
    """C_ij = ∂σ_i/∂ε_j (GPa) by central differences of ±delta Voigt strains.

    With `relax_ions` the ions are relaxed in every strained cell (needed for C44 of diamond,
    whose internal strain lowers it; `fmax` in eV/Å); the clamped-ion matrix is returned too.
    """
    cells = [strained(atoms, delta * sign * np.eye(6)[j]) for j in range(6) for sign in (1, -1)]
    results = {}
    for label, relaxed in (("clamped", False), ("relaxed", True)):
        if relaxed and not relax_ions:
            continue
        s = _stresses(calc, cells, relaxed, fmax).reshape(6, 2, 6)
        c = (s[:, 0, :] - s[:, 1, :]).T / (2 * delta) * EV_A3_TO_GPA  # rows σ_i, cols ε_j
        results[label] = 0.5 * (c + c.T)
    c = results["relaxed" if relax_ions else "clamped"]
    c11 = float(np.mean([c[0, 0], c[1, 1], c[2, 2]]))
    c12 = float(np.mean([c[0, 1], c[0, 2], c[1, 2]]))
    c44 = float(np.mean([c[3, 3], c[4, 4], c[5, 5]]))
    eigenvalues = np.linalg.eigvalsh(c)
    return {
        "C_GPa": c.tolist(),
        "C_clamped_GPa": results["clamped"].tolist(),
        "C11_GPa": c11, "C12_GPa": c12, "C44_GPa": c44,
        "C44_clamped_GPa": float(np.mean(np.diag(results["clamped"])[3:])),
        "B_GPa": (c11 + 2 * c12) / 3,
        "born_stable": bool(eigenvalues.min() > 0),
        "min_eigenvalue_GPa": float(eigenvalues.min()),
    }
