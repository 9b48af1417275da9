"""Equation of state: Birch–Murnaghan fit of E(V) → V0, B, B' (and a0 for cubic cells)."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from scipy.optimize import curve_fit

from nnpcalc.analysis.errors import predict_many

EV_A3_TO_GPA = 160.21766208


def birch_murnaghan(v, e0, v0, b0, bp):
    """Third-order Birch–Murnaghan energy; b0 in eV/Å^3."""
    x = (v0 / v) ** (2.0 / 3.0)
    return e0 + 9.0 * v0 * b0 / 16.0 * ((x - 1.0) ** 3 * bp + (x - 1.0) ** 2 * (6.0 - 4.0 * x))


def fit_birch_murnaghan(volumes, energies) -> dict:
    """Least-squares fit; volumes (Å^3) and energies (eV) of the same cell."""
    v, e = np.asarray(volumes, float), np.asarray(energies, float)
    c2, c1, _ = np.polyfit(v, e, 2)  # parabola for starting values
    v0 = -c1 / (2 * c2)
    guess = (e.min(), v0, 2 * c2 * v0, 4.0)
    params, _ = curve_fit(birch_murnaghan, v, e, p0=guess, maxfev=20000)
    residual = e - birch_murnaghan(v, *params)
    return {"E0_eV": float(params[0]), "V0_A3": float(params[1]),
            "B_GPa": float(params[2] * EV_A3_TO_GPA), "Bp": float(params[3]),
            "fit_rms_meV": float(1000 * np.sqrt(np.mean(residual**2)))}


def equation_of_state(calc, atoms: Atoms, max_strain: float = 0.04, n: int = 9) -> dict:
    """E(V) of isotropically scaled copies of `atoms`, evaluated in one batch, and its fit.

    For a cubic cell a0_angstrom is the fitted lattice parameter of that cell.
    """
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
    lengths, angles = atoms.cell.lengths(), atoms.cell.angles()
    if np.allclose(lengths, lengths[0]) and np.allclose(angles, 90.0):
        result["a0_angstrom"] = float(fit["V0_A3"] ** (1 / 3))
    return result
