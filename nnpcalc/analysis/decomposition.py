"""Atomic-energy decomposition: where in a structure the energy sits, atom by atom.

Per-atom energies of any calculator reporting `energies` (with `energies_std` for ensembles)
are written into the structure, histogrammed, and summed per neighbour shell around a chosen
site — how much of, e.g., a vacancy's formation energy lives in each shell. DFT cannot give
this view; remember that it is one partition among many except at invariant points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms

from nnpcalc.analysis.errors import predict_many
from nnpcalc.plotting import plt, save_figure


def atomic_energies(calc, atoms: Atoms) -> Atoms:
    """A copy of `atoms` with arrays atomic_energy (eV) and, for ensembles, its std."""
    res = predict_many(calc, [atoms])[0]
    if "energies" not in res:
        raise ValueError(f"{type(calc).__name__} does not report per-atom energies")
    out = atoms.copy()
    out.arrays["atomic_energy"] = np.asarray(res["energies"], dtype=float)
    if "energies_std" in res:
        out.arrays["atomic_energy_std"] = np.asarray(res["energies_std"], dtype=float)
    out.info["energy"] = float(res["energy"])
    return out


def shell_profile(atoms: Atoms, site: np.ndarray | int, reference_eV: float,
                  shell_width: float = 0.4) -> dict:
    """Energy relative to `reference_eV` per atom, summed in distance shells around `site`.

    `site` is an atom index or a Cartesian position (e.g. an empty vacancy site); `atoms` must
    carry `atomic_energy`. Shells are groups of atoms whose distances differ by < shell_width.
    With `atomic_energy_std` (ensembles), `shell_std_eV` adds the per-atom stds in quadrature:
    an estimate that ignores correlations between the atoms' errors, since the calculator
    reports no per-member energies.
    """
    if "atomic_energy" not in atoms.arrays:
        raise ValueError("shell_profile needs atoms.arrays['atomic_energy'] "
                         "(use atomic_energies(calc, atoms) first)")
    energies = atoms.arrays["atomic_energy"] - reference_eV
    centre = atoms.positions[site] if np.ndim(site) == 0 else np.asarray(site, dtype=float)
    probe = atoms + Atoms("X", positions=[centre])
    distances = probe.get_distances(len(atoms), range(len(atoms)), mic=True)
    order = np.argsort(distances)
    shells, current, last = [], [], None
    for k in order:
        if last is not None and distances[k] - last > shell_width:
            shells.append(current)
            current = []
        current.append(k)
        last = distances[k]
    shells.append(current)
    radii = [float(np.mean(distances[s])) for s in shells]
    sums = [float(energies[s].sum()) for s in shells]
    std = atoms.arrays.get("atomic_energy_std")
    result = {"shell_radius_A": radii, "shell_size": [len(s) for s in shells],
              "shell_energy_eV": sums, "cumulative_eV": np.cumsum(sums).tolist(),
              "total_eV": float(energies.sum())}
    if std is not None:
        result["shell_std_eV"] = [float(np.sqrt((std[s] ** 2).sum())) for s in shells]
    return result


def plot_histogram(atoms: Atoms, path: str | Path, bins: int = 40) -> Path:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(atoms.arrays["atomic_energy"], bins=bins, color="C0")
    ax.set_xlabel("atomic energy (eV)")
    ax.set_ylabel("atoms")
    return save_figure(fig, path)


def plot_shell_profile(profile: dict, path: str | Path, title: str = "") -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    r = profile["shell_radius_A"]
    ax.bar(r, profile["shell_energy_eV"], width=0.25, label="per shell",
           yerr=profile.get("shell_std_eV"))
    ax.plot(r, profile["cumulative_eV"], "k.-", label="cumulative")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("shell radius (Å)")
    ax.set_ylabel("energy relative to bulk (eV)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_figure(fig, path)
