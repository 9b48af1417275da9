"""Elastic constants from stress–strain: cubic C11/C12/C44 from a symmetry-reduced strain set,
the general 6×6 matrix from all six strains, clamped- and relaxed-ion, with Born stability.

Strains are Voigt with engineering shear (ε4 = 2ε_yz), so C_ij = ∂σ_i/∂ε_j by central
differences of ±delta. Relaxed-ion constants relax the ions inside every strained cell: in
diamond the internal (Kleinman) relaxation lowers C44 a lot, so both are reported.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.units import GPa

from nnpcalc.analysis.eos import conventional_volume_ratio
from nnpcalc.analysis.errors import predict_many
from nnpcalc.analysis.relax import relax
from nnpcalc.sampling import strained


def _stresses(calc, cells: list[Atoms], relax_ions: bool, fmax: float) -> np.ndarray:
    """Voigt stresses (eV/Å^3) of the cells, clamped in one batch or after ionic relaxation."""
    if relax_ions:
        cells = [relax(c, calc, fmax=fmax, steps=500)["atoms"] for c in cells]
    results = predict_many(calc, cells)
    if any("stress" not in r for r in results):
        raise ValueError(f"{type(calc).__name__} does not report stress")
    return np.array([r["stress"] for r in results])


def _derivatives(calc, atoms: Atoms, strain_indices, delta: float, relax_ions: bool,
                 fmax: float) -> np.ndarray:
    """Columns j of C (GPa) for the strains in `strain_indices`, shape (6, len(indices))."""
    cells = [strained(atoms, delta * sign * np.eye(6)[j]) for j in strain_indices
             for sign in (1, -1)]
    s = _stresses(calc, cells, relax_ions, fmax).reshape(len(strain_indices), 2, 6)
    return (s[:, 0, :] - s[:, 1, :]).T / (2 * delta) / GPa


def _check(atoms: Atoms, delta: float) -> None:
    if not atoms.pbc.all():
        raise ValueError("elastic constants need a periodic cell (pbc on all axes)")
    if not 0 < delta < 0.05:
        raise ValueError(f"strain delta={delta} outside (0, 0.05): use a small strain")


def elastic_constants(calc, atoms: Atoms, delta: float = 0.005,
                      relax_ions: bool = True, fmax: float = 1e-4) -> dict:
    """General 6×6 C (GPa) from all six ±delta strains; clamped- and (optionally) relaxed-ion.

    The matrix is symmetrised; its largest asymmetry before that is reported as a check of
    the strain step and relaxation. For cubic crystals C11/C12/C44 are the symmetry averages.
    """
    _check(atoms, delta)
    matrices, asymmetry = {}, {}
    for label in ("clamped", "relaxed") if relax_ions else ("clamped",):
        c = _derivatives(calc, atoms, range(6), delta, label == "relaxed", fmax)
        asymmetry[label] = float(np.abs(c - c.T).max())
        matrices[label] = 0.5 * (c + c.T)
    c = matrices["relaxed" if relax_ions else "clamped"]
    eigenvalues = np.linalg.eigvalsh(c)
    result = {"C_GPa": c.tolist(), "C_clamped_GPa": matrices["clamped"].tolist(),
              "max_asymmetry_GPa": max(asymmetry.values()),
              "born_stable": bool(eigenvalues.min() > 0),
              "min_eigenvalue_GPa": float(eigenvalues.min())}
    if conventional_volume_ratio(atoms) is not None:
        c11, c12 = np.mean(np.diag(c)[:3]), np.mean([c[0, 1], c[0, 2], c[1, 2]])
        result.update(C11_GPa=float(c11), C12_GPa=float(c12),
                      C44_GPa=float(np.mean(np.diag(c)[3:])),
                      C44_clamped_GPa=float(np.mean(np.diag(matrices["clamped"])[3:])),
                      B_GPa=float((c11 + 2 * c12) / 3))
    return result


def cubic_elastic_constants(calc, atoms: Atoms, delta: float = 0.005,
                            fmax: float = 1e-4) -> dict:
    """C11, C12, C44 (GPa) of a cubic crystal with cube axes along x, y, z from two strains.

    ±ε1 gives C11 = ∂σ1/∂ε1 and C12 = ∂σ2/∂ε1 = ∂σ3/∂ε1; ±ε4 gives C44. Four cells instead
    of twelve. `cubic_deviation_GPa` measures how far the response is from cubic symmetry.
    """
    _check(atoms, delta)
    if conventional_volume_ratio(atoms) is None:
        raise ValueError("cubic_elastic_constants needs a cubic crystal; use elastic_constants")
    columns = {label: _derivatives(calc, atoms, (0, 3), delta, label == "relaxed", fmax)
               for label in ("clamped", "relaxed")}
    out: dict = {}
    for label, c in columns.items():
        suffix = "" if label == "relaxed" else "_clamped"
        out[f"C11{suffix}_GPa"] = float(c[0, 0])
        out[f"C12{suffix}_GPa"] = float(0.5 * (c[1, 0] + c[2, 0]))
        out[f"C44{suffix}_GPa"] = float(c[3, 1])
    c = columns["relaxed"]
    # Cubic: σ2 = σ3 under ε1, no shear from ε1, only σ4 from ε4.
    out["cubic_deviation_GPa"] = float(max(abs(c[1, 0] - c[2, 0]), np.abs(c[3:, 0]).max(),
                                           np.abs(np.delete(c[:, 1], 3)).max()))
    if out["cubic_deviation_GPa"] > 0.05 * abs(out["C11_GPa"]):
        raise ValueError(f"response not cubic (deviation {out['cubic_deviation_GPa']:.2f} GPa):"
                         " are the cube axes along x, y, z?")
    c11, c12, c44 = out["C11_GPa"], out["C12_GPa"], out["C44_GPa"]
    out["B_GPa"] = (c11 + 2 * c12) / 3
    out["born_stable"] = bool(c11 - c12 > 0 and c11 + 2 * c12 > 0 and c44 > 0)
    return out
