"""Point-defect formation energies with relaxation, size convergence and shell decomposition.

E_f = E(defect cell, relaxed) − Σ_s n_s μ_s with μ_s the energy per atom of the relaxed bulk
phase. The ideal Si vacancy does not relax on its own (it sits on a saddle of the symmetric
configuration), so several symmetry-broken starts are tried and the lowest kept.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from nnpcalc.analysis.decomposition import atomic_energies, shell_profile
from nnpcalc.analysis.errors import predict_many
from nnpcalc.analysis.relax import relax
from nnpcalc.sampling import diamond_supercell, interstitial
from nnpcalc.structures import StructureError

KINDS = ("vacancy", "tetrahedral", "hexagonal", "split110")


def _starts(cell: Atoms, kind: str, site: np.ndarray, seed: int) -> list[Atoms]:
    """Symmetry-broken starting configurations around the defect site."""
    starts = [cell.copy()]
    rng = np.random.default_rng(seed)
    for k in range(2):
        c = cell.copy()
        c.positions += rng.normal(0, 0.05 + 0.05 * k, c.positions.shape)
        starts.append(c)
    if kind == "vacancy":
        pushed = cell.copy()
        probe = pushed + Atoms("X", positions=[site])
        vectors = probe.get_distances(len(pushed), range(len(pushed)), mic=True, vector=True)
        near = np.argsort(np.linalg.norm(vectors, axis=1))[:4]
        for i in near:
            pushed.positions[i] -= 0.4 * vectors[i] / np.linalg.norm(vectors[i])
        pushed.positions += rng.normal(0, 0.02, pushed.positions.shape)
        starts.append(pushed)
    return starts


def chemical_potential(calc, a0: float, symbol: str = "Si") -> float:
    """Energy per atom of the perfect diamond crystal at lattice parameter a0."""
    cell = diamond_supercell(symbol, a0, 1)
    return predict_many(calc, [cell])[0]["energy"] / len(cell)


def defect_cell(kind: str, a0: float, size: int, symbol: str = "Si") -> tuple[Atoms, np.ndarray]:
    """Unrelaxed defect supercell and the defect's site (for the shell decomposition)."""
    if kind == "vacancy":
        cell = diamond_supercell(symbol, a0, size)
        site = cell.positions[0].copy()
        del cell[0]
        return cell, site
    cell = interstitial(kind, symbol, a0, size)
    return cell, cell.positions[-1].copy()


def formation_energy(calc, kind: str, a0: float, size: int = 2, symbol: str = "Si",
                     fmax: float = 0.01, seed: int = 0, decompose: bool = True) -> dict:
    """Relaxed formation energy of one defect in a size³ conventional diamond supercell."""
    if kind not in KINDS:
        raise ValueError(f"unknown defect {kind!r}; choose from {KINDS}")
    mu = chemical_potential(calc, a0, symbol)
    cell, site = defect_cell(kind, a0, size, symbol)
    runs, failures = [], []
    for start in _starts(cell, kind, site, seed):
        try:
            runs.append(relax(start, calc, fmax=fmax, steps=400))
        except StructureError as exc:  # an unstable model can pull atoms together
            failures.append(str(exc))
    if not runs:
        raise StructureError(f"every relaxation of the {kind} failed: {failures[0]}")
    energies = [r["energy_eV"] for r in runs]
    best = runs[int(np.argmin(energies))]
    n = len(cell)
    result = {"kind": kind, "n_atoms": n, "supercell": size, "a0_angstrom": a0,
              "mu_eV_per_atom": mu,
              "formation_energy_eV": best["energy_eV"] - n * mu,
              "unrelaxed_formation_energy_eV": predict_many(calc, [cell])[0]["energy"] - n * mu,
              "start_energies_eV": [e - n * mu for e in energies],
              "converged": best["converged"], "failed_starts": failures}
    if decompose:
        try:
            decomposed = atomic_energies(calc, best["atoms"])
        except ValueError:
            decomposed = None
        if decomposed is not None:
            result["shells"] = shell_profile(decomposed, site, mu)
    result["relaxed_atoms"] = best["atoms"]
    return result


def size_convergence(calc, kind: str, a0: float, sizes=(2, 3), **kwargs) -> list[dict]:
    """Formation energy against supercell size (conventional cells of 8·size³ sites)."""
    out = []
    for size in sizes:
        res = formation_energy(calc, kind, a0, size, **kwargs)
        res.pop("relaxed_atoms")
        out.append(res)
    return out
