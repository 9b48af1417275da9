"""Equation of state: Birch–Murnaghan fit of E(V) → V0, B, B' (and a0 for cubic crystals)."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.units import GPa
from scipy.optimize import curve_fit

from nnpcalc.analysis.errors import predict_many

CUBIC_SPACE_GROUPS = range(195, 231)


def birch_murnaghan(v, e0, v0, b0, bp):
    """Third-order Birch–Murnaghan energy; b0 in eV/Å^3."""
    x = (v0 / v) ** (2.0 / 3.0)
    return e0 + 9.0 * v0 * b0 / 16.0 * ((x - 1.0) ** 3 * bp + (x - 1.0) ** 2 * (6.0 - 4.0 * x))


def fit_birch_murnaghan(volumes, energies) -> dict:
    """Least-squares fit; volumes (Å^3) and energies (eV) of the same cell.

    The minimum must lie inside the sampled volumes: an extrapolated V0 is not a result.
    """
    v, e = np.asarray(volumes, float), np.asarray(energies, float)
    if v.shape != e.shape or v.ndim != 1 or len(v) < 5:
        raise ValueError(f"need ≥5 (volume, energy) pairs of equal length, got {v.shape}, "
                         f"{e.shape}")
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(e))):
        raise ValueError("volumes or energies contain NaN/inf")
    order = np.argsort(v)
    v, e = v[order], e[order]
    if np.argmin(e) in (0, len(e) - 1):
        raise ValueError(f"the lowest energy is at the edge of the sampled volumes "
                         f"({v[0]:.3f}–{v[-1]:.3f} Å^3): start nearer the minimum or widen "
                         f"the range")
    c2, c1, _ = np.polyfit(v, e, 2)  # parabola for starting values
    v0 = -c1 / (2 * c2)
    guess = (e.min(), v0, 2 * c2 * v0, 4.0)
    params, _ = curve_fit(birch_murnaghan, v, e, p0=guess, maxfev=20000)
    residual = e - birch_murnaghan(v, *params)
    return {"E0_eV": float(params[0]), "V0_A3": float(params[1]),
            "B_GPa": float(params[2] / GPa), "Bp": float(params[3]),
            "fit_rms_meV": float(1000 * np.sqrt(np.mean(residual**2)))}


def conventional_volume_ratio(atoms: Atoms, symprec: float = 1e-3) -> float | None:
    """V(conventional cubic cell)/V(atoms.cell) for a cubic crystal, None otherwise.

    Lets a0 come out right whether the caller passes a primitive or a conventional cell.
    """
    from nnpcalc.analysis.invariant import symmetry_dataset

    dataset = symmetry_dataset(atoms, symprec)
    if dataset is None or dataset.number not in CUBIC_SPACE_GROUPS:
        return None
    return float(abs(np.linalg.det(dataset.std_lattice)) / atoms.get_volume())


def equation_of_state(calc, atoms: Atoms, max_strain: float = 0.04, n: int = 9) -> dict:
    """E(V) of isotropically scaled copies of `atoms` (linear strain ±max_strain), evaluated
    in one batch, and its Birch–Murnaghan fit; a0_angstrom for cubic crystals."""
    if not atoms.pbc.all():
        raise ValueError("equation_of_state needs a periodic cell (pbc on all axes)")
    factors = np.linspace(1 - max_strain, 1 + max_strain, n)
    cells = []
    for f in factors:
        c = atoms.copy()
        c.set_cell(atoms.cell[:] * f, scale_atoms=True)
        cells.append(c)
    energies = [r["energy"] for r in predict_many(calc, cells)]
    volumes = [c.get_volume() for c in cells]
    fit = fit_birch_murnaghan(volumes, energies)
    n_atoms = len(atoms)
    result = {**fit, "V0_A3_per_atom": fit["V0_A3"] / n_atoms,
              "E0_eV_per_atom": fit["E0_eV"] / n_atoms,
              "volumes_A3_per_atom": [v / n_atoms for v in volumes],
              "energies_eV_per_atom": [e / n_atoms for e in energies]}
    ratio = conventional_volume_ratio(atoms)
    if ratio is not None:
        result["a0_angstrom"] = float((fit["V0_A3"] * ratio) ** (1 / 3))
    return result
