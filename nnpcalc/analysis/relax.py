"""Relaxation helpers: positions, or positions and cell (FrechetCellFilter), for any calculator."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE

OPTIMIZERS = {"BFGS": BFGS, "FIRE": FIRE}


def relax(atoms: Atoms, calc, fmax: float = 0.005, steps: int = 500, cell: bool = False,
          optimizer: str = "BFGS") -> dict:
    """Relax a copy of `atoms` until forces (and, with `cell`, stress × volume per atom) are
    below `fmax` eV/Å; returns {"atoms", "energy_eV", "max_force_eV_per_A", "converged",
    "steps"}. Non-convergence is reported, not raised: callers decide what it means."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {sorted(OPTIMIZERS)}")
    if cell and not atoms.pbc.all():
        raise ValueError("cell relaxation needs a periodic cell (pbc on all axes)")
    work = atoms.copy()
    work.calc = calc
    target = FrechetCellFilter(work) if cell else work
    opt = OPTIMIZERS[optimizer](target, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    return {"atoms": work, "energy_eV": float(work.get_potential_energy()),
            "max_force_eV_per_A": float(np.linalg.norm(work.get_forces(), axis=1).max()),
            "converged": converged, "steps": int(opt.nsteps)}
