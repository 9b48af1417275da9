"""Relaxation helpers: positions, or positions and cell (FrechetCellFilter), for any calculator."""

from __future__ import annotations

from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE


def relax(atoms: Atoms, calc, fmax: float = 0.005, steps: int = 500, cell: bool = False,
          optimizer: str = "BFGS") -> dict:
    """Relax a copy of `atoms`; returns {"atoms", "energy_eV", "converged", "steps"}."""
    work = atoms.copy()
    work.calc = calc
    target = FrechetCellFilter(work) if cell else work
    opt = {"BFGS": BFGS, "FIRE": FIRE}[optimizer](target, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    return {"atoms": work, "energy_eV": float(work.get_potential_energy()),
            "converged": converged, "steps": int(opt.nsteps)}
