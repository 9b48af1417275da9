"""Test-set errors of any calculator against labelled structures, with parity plots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.units import GPa

from nnpcalc.plotting import plt, save_figure


def predict_many(calc, structures: Sequence[Atoms]) -> list[dict]:
    """Batched `predict` when the calculator has it, else one ASE call per structure."""
    if hasattr(calc, "predict"):
        return calc.predict(list(structures))
    out = []
    for atoms in structures:
        atoms = atoms.copy()
        atoms.calc = calc
        implemented = getattr(calc, "implemented_properties", ())
        res = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
        if "energies" in implemented:
            res["energies"] = atoms.get_potential_energies()
        if atoms.pbc.all() and "stress" in implemented:
            res["stress"] = atoms.get_stress()
        out.append(res)
    return out


def _label(atoms: Atoms, name: str):
    calc = atoms.calc
    value = None if calc is None else calc.results.get(name)
    return atoms.info.get(name, atoms.arrays.get(name)) if value is None else value


def test_set_errors(calc, labelled: Sequence[Atoms]) -> dict:
    """RMSE/MAE of E/N (meV/atom), forces (eV/Å), stress (GPa), with the raw pairs for plots."""
    predictions = predict_many(calc, labelled)
    e_ref, e_pred, f_ref, f_pred, s_ref, s_pred, groups = [], [], [], [], [], [], []
    periodic = np.array([bool(atoms.pbc.any()) for atoms in labelled])
    for atoms, pred in zip(labelled, predictions, strict=True):
        n = len(atoms)
        e_ref.append(float(_label(atoms, "energy")) / n)
        e_pred.append(pred["energy"] / n)
        groups.append(str(atoms.info.get("config_type", "all")))
        forces = _label(atoms, "forces")
        if forces is not None:
            f_ref.append(np.asarray(forces).ravel())
            f_pred.append(pred["forces"].ravel())
        stress = _label(atoms, "stress")
        if stress is not None and "stress" in pred:
            s_ref.append(np.asarray(stress).ravel()[:6] / GPa)
            s_pred.append(pred["stress"] / GPa)
    de = 1000 * (np.array(e_pred) - np.array(e_ref))
    result = {
        "n_structures": len(labelled),
        "energy_rmse_meV_per_atom": float(np.sqrt(np.mean(de**2))),
        "energy_mae_meV_per_atom": float(np.mean(np.abs(de))),
        "energy_per_atom_eV": {"reference": e_ref, "model": [float(x) for x in e_pred]},
        "config_types": groups,
    }
    if periodic.any() and not periodic.all():
        # clusters (dimers, trimers, the isolated atom) are few and far from the bulk; their
        # errors are reported apart so they never hide inside, or dominate, the bulk figure
        result["energy_rmse_meV_per_atom_periodic"] = float(np.sqrt(np.mean(de[periodic]**2)))
        result["energy_mae_meV_per_atom_periodic"] = float(np.mean(np.abs(de[periodic])))
        result["energy_rmse_meV_per_atom_clusters"] = float(np.sqrt(np.mean(de[~periodic]**2)))
        result["n_clusters"] = int((~periodic).sum())
        result["n_isolated_atoms"] = sum(len(atoms) == 1 and not atoms.pbc.any()
                                         for atoms in labelled)
    by_group, bias = {}, {}
    for g in sorted(set(groups)):
        sel = np.array(groups) == g
        by_group[g] = float(np.sqrt(np.mean(de[sel] ** 2)))
        bias[g] = float(np.mean(de[sel]))
    result["energy_rmse_meV_per_atom_by_type"] = by_group
    # model − label: an offset a whole family shares (small scatter) is a fit left unfinished
    result["energy_mean_error_meV_per_atom_by_type"] = bias
    if f_ref:
        df = np.concatenate(f_pred) - np.concatenate(f_ref)
        result["forces_rmse_eV_per_A"] = float(np.sqrt(np.mean(df**2)))
        result["forces_mae_eV_per_A"] = float(np.mean(np.abs(df)))
        result["forces_eV_per_A"] = {"reference": np.concatenate(f_ref).tolist(),
                                     "model": np.concatenate(f_pred).tolist()}
    if s_ref:
        ds = np.concatenate(s_pred) - np.concatenate(s_ref)
        result["stress_rmse_GPa"] = float(np.sqrt(np.mean(ds**2)))
    return result


def plot_parity(errors: dict, path: str | Path) -> Path:
    """Energy and force parity plots side by side."""
    panels = [("energy_per_atom_eV", "E/N (eV/atom)", "energy_rmse_meV_per_atom", "meV/atom")]
    if "forces_eV_per_A" in errors:
        panels.append(("forces_eV_per_A", "force component (eV/Å)", "forces_rmse_eV_per_A",
                       "eV/Å"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4))
    for ax, (key, label, rmse_key, unit) in zip(np.atleast_1d(axes), panels, strict=True):
        ref, model = np.asarray(errors[key]["reference"]), np.asarray(errors[key]["model"])
        ax.plot(ref, model, ".", ms=3, alpha=0.6)
        lo, hi = min(ref.min(), model.min()), max(ref.max(), model.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.7)
        ax.set_xlabel(f"DFT {label}")
        ax.set_ylabel(f"model {label}")
        ax.set_title(f"RMSE {errors[rmse_key]:.3g} {unit}")
    return save_figure(fig, path)
