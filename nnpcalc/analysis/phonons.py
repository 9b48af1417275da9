"""Phonons with phonopy: batched force sets, bands on the standard path, DOS, thermodynamics,
and comparison of two sources (e.g. a model against phonopy.yaml from DFT).

Displaced supercells are evaluated in one `predict` call when the calculator has it. Force
constants are symmetrised (acoustic sum rule) as phonopy users expect; imaginary modes are
reported as negative frequencies and counted on the path and the mesh, never dropped.
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

IMAGINARY_THZ = -0.05  # below this a mode counts as imaginary (numerical noise sits above)


def to_phonopy(atoms: Atoms) -> PhonopyAtoms:
    return PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=np.asarray(atoms.cell[:]),
                        scaled_positions=atoms.get_scaled_positions())


def to_ase(cell: PhonopyAtoms) -> Atoms:
    return Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True)


def build_phonopy(calc, unitcell: Atoms, supercell_matrix, displacement: float = 0.01,
                  primitive_matrix="auto") -> Phonopy:
    """Phonopy object with symmetrised force constants from `calc` (any ASE calculator)."""
    if not unitcell.pbc.all():
        raise ValueError("phonons need a periodic unit cell (pbc on all axes)")
    matrix = np.diag(supercell_matrix) if np.ndim(supercell_matrix) == 1 else supercell_matrix
    if np.shape(matrix) != (3, 3) or abs(np.linalg.det(matrix)) < 0.5:
        raise ValueError(f"supercell_matrix must be 3 integers or a 3×3 matrix with det ≥ 1, "
                         f"got {supercell_matrix!r}")
    with warnings.catch_warnings():  # phonopy warns that "auto" is its new default
        warnings.simplefilter("ignore")
        phonon = Phonopy(to_phonopy(unitcell), supercell_matrix=matrix,
                         primitive_matrix=primitive_matrix)
    phonon.generate_displacements(distance=displacement)
    supercells = [to_ase(c) for c in phonon.supercells_with_displacements]
    phonon.forces = np.array([r["forces"] for r in predict_many(calc, supercells)])
    phonon.produce_force_constants()
    phonon.symmetrize_force_constants()
    return phonon


def load_phonopy(path: str | Path) -> Phonopy:
    """A phonopy.yaml (with force sets or constants, e.g. from DFT), symmetrised like ours."""
    import phonopy

    if not Path(path).is_file():
        raise FileNotFoundError(f"phonopy file {path} does not exist")
    phonon = phonopy.load(str(path), produce_fc=True, log_level=0)
    if phonon.force_constants is None:
        raise ValueError(f"{path} has neither force sets nor force constants")
    phonon.symmetrize_force_constants()
    return phonon


def path_qpoints(phonon: Phonopy, npoints: int = 41):
    """ASE's standard path (Setyawan–Curtarolo) of the primitive cell as phonopy segments:
    (segments of reduced q, path connections, labels, tick labels with "K|U" at jumps)."""
    from ase.dft.kpoints import parse_path_string
    from phonopy.phonon.band_structure import get_band_qpoints_and_path_connections

    bandpath = to_ase(phonon.primitive).cell.bandpath()
    segments = parse_path_string(bandpath.path)
    paths = [[bandpath.special_points[label] for label in seg] for seg in segments]
    qpoints, connections = get_band_qpoints_and_path_connections(paths, npoints=npoints)
    names = [[label if label != "G" else "Γ" for label in seg] for seg in segments]
    ticks: list[str] = []
    for seg in names:
        ticks = ticks[:-1] + [f"{ticks[-1]}|{seg[0]}"] + seg[1:] if ticks else list(seg)
    return qpoints, connections, [n for seg in names for n in seg], ticks


def standard_path(phonon: Phonopy, npoints: int = 41) -> list[str]:
    """Run phonopy's band structure on the standard path; returns the tick labels."""
    qpoints, connections, labels, ticks = path_qpoints(phonon, npoints)
    phonon.run_band_structure(qpoints, path_connections=connections, labels=labels)
    return ticks


def frequencies_at(phonon: Phonopy, qpoints) -> np.ndarray:
    """Frequencies (THz, negative = imaginary) at reduced q-points of the primitive cell."""
    phonon.run_qpoints(np.atleast_2d(qpoints))
    return np.asarray(phonon.qpoints.frequencies)


def analyse(phonon: Phonopy, mesh=(16, 16, 16), temperatures=(0, 1000, 50)) -> dict:
    """Γ frequencies, band structure on the standard path, DOS, thermal properties and
    imaginary modes (counted on path and mesh, with the lowest frequency)."""
    gamma = np.sort(frequencies_at(phonon, [0.0, 0.0, 0.0])[0])
    ticks = standard_path(phonon)
    bands = phonon.band_structure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phonon.run_mesh(list(mesh))
    mesh_freqs = np.asarray(phonon.mesh.frequencies)
    phonon.run_total_dos()
    t_min, t_max, t_step = temperatures
    phonon.run_thermal_properties(t_min=t_min, t_max=t_max, t_step=t_step)
    thermal = phonon.thermal_properties
    band_freqs = np.concatenate([np.asarray(f).ravel() for f in bands.frequencies])
    n_acoustic = 3
    return {
        "gamma_frequencies_THz": gamma.tolist(),
        "gamma_optical_THz": float(gamma[-1]),
        "max_acoustic_gamma_THz": float(np.abs(gamma[:n_acoustic]).max()),
        "n_imaginary_band_points": int(np.sum(band_freqs < IMAGINARY_THZ)),
        "n_imaginary_mesh_modes": int(np.sum(mesh_freqs < IMAGINARY_THZ)),
        "min_frequency_THz": float(min(band_freqs.min(), mesh_freqs.min())),
        "bands": {"tick_labels": ticks,
                  "distances": [np.asarray(d).tolist() for d in bands.distances],
                  "frequencies_THz": [np.asarray(f).tolist() for f in bands.frequencies]},
        "dos": {"frequency_THz": np.asarray(phonon.total_dos.frequency_points).tolist(),
                "dos": np.asarray(phonon.total_dos.dos).tolist(), "mesh": list(mesh)},
        "thermal": {"temperature_K": np.asarray(thermal.temperatures).tolist(),
                    "free_energy_kJ_per_mol": np.asarray(thermal.free_energy).tolist(),
                    "entropy_J_per_K_mol": np.asarray(thermal.entropy).tolist(),
                    "heat_capacity_J_per_K_mol": np.asarray(thermal.heat_capacity).tolist()},
    }


def phonons(calc, unitcell: Atoms, supercell_matrix=(2, 2, 2), displacement: float = 0.01,
            mesh=(16, 16, 16)) -> tuple[Phonopy, dict]:
    """Everything at once: the phonopy object (for further use) and the plain-data results."""
    phonon = build_phonopy(calc, unitcell, supercell_matrix, displacement)
    return phonon, analyse(phonon, mesh)


def compare(phonon_a: Phonopy, phonon_b: Phonopy, n_random: int = 200, seed: int = 0) -> dict:
    """Frequency RMSE (THz) of a against b on Γ, the standard path and random q-points.

    q-points are reduced coordinates of each primitive cell, so sources at different lattice
    parameters are compared at the same points of their own Brillouin zones.
    """
    if len(phonon_a.primitive) != len(phonon_b.primitive):
        raise ValueError(f"primitive cells differ: {len(phonon_a.primitive)} vs "
                         f"{len(phonon_b.primitive)} atoms")
    segments = path_qpoints(phonon_b, npoints=21)[0]
    rng = np.random.default_rng(seed)
    qpoints = np.vstack([np.zeros((1, 3)), *map(np.asarray, segments),
                         rng.uniform(-0.5, 0.5, (n_random, 3))])
    diff = frequencies_at(phonon_a, qpoints) - frequencies_at(phonon_b, qpoints)
    return {"rmse_THz": float(np.sqrt(np.mean(diff**2))), "max_abs_THz": float(np.abs(diff).max()),
            "mean_signed_THz": float(diff.mean()), "n_qpoints": len(qpoints)}


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
    ax.set_title(title or "phonon band structure (standard path)")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_dos_thermal(results: dict[str, dict], path: str | Path) -> Path:
    """DOS and F, S, Cv against T for one or more sources, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for k, (label, res) in enumerate(results.items()):
        style = "-" if k == 0 else "--"
        axes[0].plot(res["dos"]["frequency_THz"], res["dos"]["dos"], style, color=f"C{k}",
                     label=label)
        t = res["thermal"]
        for j, (key, name) in enumerate((("free_energy_kJ_per_mol", "F (kJ/mol)"),
                                         ("entropy_J_per_K_mol", "S (J/K/mol)"),
                                         ("heat_capacity_J_per_K_mol", "Cv (J/K/mol)"))):
            axes[1].plot(t["temperature_K"], t[key], style, color=f"C{j}",
                         label=name if k == 0 else None)
    axes[0].set_xlabel("frequency (THz)")
    axes[0].set_ylabel("DOS (states/THz)")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("temperature (K)")
    axes[1].set_title("thermal properties" + (" (dashed: second source)" if len(results) > 1
                                              else ""), fontsize=9)
    axes[1].legend(fontsize=8)
    return save_figure(fig, path)
