"""Phonons with phonopy: batched force sets, bands on the standard path, DOS, thermodynamics.

Displaced supercells are evaluated in one `predict` call when the calculator has it. Force
constants are symmetrised (acoustic sum rule) as phonopy users expect; imaginary modes are
reported as negative frequencies and counted, never dropped.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from ase import Atoms
from phonopy import Phonopy
from phonopy.structure.atoms import PhonopyAtoms

from nnpcalc.analysis.errors import predict_many
from nnpcalc.plotting import plt, save_figure


def to_phonopy(atoms: Atoms) -> PhonopyAtoms:
    return PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=np.asarray(atoms.cell[:]),
                        scaled_positions=atoms.get_scaled_positions())


def to_ase(cell: PhonopyAtoms) -> Atoms:
    return Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True)


def build_phonopy(calc, unitcell: Atoms, supercell_matrix, displacement: float = 0.01,
                  primitive_matrix="auto") -> Phonopy:
    """Phonopy object with force constants computed from `calc` (any ASE calculator)."""
    with warnings.catch_warnings():  # phonopy warns that "auto" is its new default
        warnings.simplefilter("ignore")
        phonon = Phonopy(to_phonopy(unitcell), supercell_matrix=supercell_matrix,
                         primitive_matrix=primitive_matrix)
    phonon.generate_displacements(distance=displacement)
    supercells = [to_ase(c) for c in phonon.supercells_with_displacements]
    phonon.forces = np.array([r["forces"] for r in predict_many(calc, supercells)])
    phonon.produce_force_constants()
    phonon.symmetrize_force_constants()
    return phonon


def standard_path(phonon: Phonopy, npoints: int = 41) -> list[str]:
    """Run phonopy's band structure on ASE's standard path (Setyawan–Curtarolo) of the
    primitive cell — the same path seekpath-free installs of ASE users see."""
    from ase.dft.kpoints import parse_path_string
    from phonopy.phonon.band_structure import get_band_qpoints_and_path_connections

    bandpath = to_ase(phonon.primitive).cell.bandpath()
    segments = parse_path_string(bandpath.path)
    paths = [[bandpath.special_points[label] for label in seg] for seg in segments]
    qpoints, connections = get_band_qpoints_and_path_connections(paths, npoints=npoints)
    labels = [label if label != "G" else "Γ" for seg in segments for label in seg]
    phonon.run_band_structure(qpoints, path_connections=connections, labels=labels)
    ticks: list[str] = []  # one label per path boundary, "K|U" where the path jumps
    for seg in segments:
        names = [label if label != "G" else "Γ" for label in seg]
        ticks = ticks[:-1] + [f"{ticks[-1]}|{names[0]}"] + names[1:] if ticks else names
    return ticks


def analyse(phonon: Phonopy, mesh=(16, 16, 16), temperatures=(0, 1000, 50)) -> dict:
    """Γ frequencies, band structure on the standard path, DOS and thermal properties."""
    gamma = np.sort(phonon.get_frequencies([0.0, 0.0, 0.0]))
    ticks = standard_path(phonon)
    bands = phonon.get_band_structure_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phonon.run_mesh(list(mesh))
    phonon.run_total_dos()
    dos = phonon.get_total_dos_dict()
    t_min, t_max, t_step = temperatures
    phonon.run_thermal_properties(t_min=t_min, t_max=t_max, t_step=t_step)
    thermal = phonon.get_thermal_properties_dict()
    band_freqs = np.concatenate([np.asarray(f).ravel() for f in bands["frequencies"]])
    imaginary = int(np.sum(band_freqs < -0.05))
    return {
        "gamma_frequencies_THz": gamma.tolist(),
        "gamma_optical_THz": float(gamma[-1]),
        "max_acoustic_gamma_THz": float(np.abs(gamma[:3]).max()),
        "n_imaginary_band_points": imaginary,
        "min_frequency_THz": float(band_freqs.min()),
        "bands": {"tick_labels": ticks,
                  "distances": [np.asarray(d).tolist() for d in bands["distances"]],
                  "frequencies_THz": [np.asarray(f).tolist() for f in bands["frequencies"]]},
        "dos": {"frequency_THz": np.asarray(dos["frequency_points"]).tolist(),
                "dos": np.asarray(dos["total_dos"]).tolist()},
        "thermal": {"temperature_K": np.asarray(thermal["temperatures"]).tolist(),
                    "free_energy_kJ_per_mol": np.asarray(thermal["free_energy"]).tolist(),
                    "entropy_J_per_K_mol": np.asarray(thermal["entropy"]).tolist(),
                    "heat_capacity_J_per_K_mol": np.asarray(thermal["heat_capacity"]).tolist()},
    }


def phonons(calc, unitcell: Atoms, supercell_matrix=(2, 2, 2), displacement: float = 0.01,
            mesh=(16, 16, 16)) -> tuple[Phonopy, dict]:
    """Everything at once: the phonopy object (for further use) and the plain-data results."""
    matrix = np.diag(supercell_matrix) if np.ndim(supercell_matrix) == 1 else supercell_matrix
    phonon = build_phonopy(calc, unitcell, matrix, displacement)
    return phonon, analyse(phonon, mesh)


def frequencies_on_path(phonon: Phonopy, qpoints: np.ndarray) -> np.ndarray:
    phonon.run_qpoints(qpoints)
    return phonon.get_qpoints_dict()["frequencies"]


def compare(phonon_a: Phonopy, phonon_b: Phonopy, n_random: int = 200, seed: int = 0) -> dict:
    """Frequency RMSE (THz) between two sources on Γ, the high-symmetry path and random q."""
    standard_path(phonon_b, npoints=21)
    path = np.concatenate([np.asarray(q) for q in phonon_b.get_band_structure_dict()["qpoints"]])
    rng = np.random.default_rng(seed)
    qpoints = np.vstack([np.zeros((1, 3)), path, rng.uniform(-0.5, 0.5, (n_random, 3))])
    fa, fb = frequencies_on_path(phonon_a, qpoints), frequencies_on_path(phonon_b, qpoints)
    diff = fa - fb
    return {"rmse_THz": float(np.sqrt(np.mean(diff**2))), "max_abs_THz": float(np.abs(diff).max()),
            "n_qpoints": len(qpoints)}


def plot_bands(results: dict[str, dict], path: str | Path, title: str = "") -> Path:
    """Overlay band structures of several sources, e.g. {"model": res, "DFT": res}."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k, (label, res) in enumerate(results.items()):
        style = "-" if k == 0 else "--"
        for d, f in zip(res["bands"]["distances"], res["bands"]["frequencies_THz"], strict=True):
            lines = ax.plot(d, f, style, color=f"C{k}", lw=1)
        lines[0].set_label(label)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("frequency (THz)")
    first = next(iter(results.values()))["bands"]
    edges = [d[0] for d in first["distances"]] + [first["distances"][-1][-1]]
    ax.set_xticks(edges, first["tick_labels"])
    for x in edges:
        ax.axvline(x, color="grey", lw=0.4)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_title(title or "phonon band structure (phonopy standard path)")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
