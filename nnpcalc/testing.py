"""Conformance checks any ASE calculator can run: the physics every potential must obey.

    from nnpcalc.testing import run_checks, format_table
    print(format_table(run_checks(calc)))

or `nnpcalc check MODEL|teacher|module:factory`. Each check returns the measured deviation, the
tolerance and whether it passed; checks that need something a calculator does not offer
(per-atom energies, `predict`, a model object, a cutoff) report "n/a" instead of passing.
Tolerances assume float64 evaluation; finite differences use central steps, so their own
error is O(step²) ≈ 1e-8 of the curvature.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, PropertyNotImplementedError


@dataclass
class CheckResult:
    name: str
    deviation: float | None  # None: not applicable to this calculator
    tolerance: float
    unit: str
    note: str = ""

    @property
    def status(self) -> str:
        if self.deviation is None:
            return "n/a"
        ok = np.isfinite(self.deviation) and self.deviation <= self.tolerance
        return "pass" if ok else "FAIL"


def _results(calc: Calculator, atoms: Atoms, *properties: str) -> dict:
    atoms = atoms.copy()
    atoms.calc = calc
    out = {"energy": atoms.get_potential_energy()}
    getters = {"forces": atoms.get_forces, "stress": atoms.get_stress,
               "energies": atoms.get_potential_energies, "stresses": atoms.get_stresses}
    for name in properties:
        out[name] = np.asarray(getters[name]())
    return out


def _energy(calc, atoms) -> float:
    return _results(calc, atoms)["energy"]


def sample_structure(species: Sequence[str] = ("Si",), seed: int = 0) -> Atoms:
    """A rattled 8-site cubic diamond cell (species alternate over the two sublattices)."""
    atoms = bulk("Si", "diamond", 5.43, cubic=True)
    symbols = [species[k % 2 % len(species)] for k in range(len(atoms))]
    atoms.set_chemical_symbols(symbols)
    atoms.rattle(0.08, seed=seed)
    atoms.set_cell(atoms.cell[:] @ (np.eye(3) + 0.01 * np.array([[1, 2, 0], [0, -1, 1],
                                                                  [1, 0, 2]])), scale_atoms=True)
    return atoms


def _rotation(seed: int = 1) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def check_forces(calc, atoms, step: float = 1e-4) -> CheckResult:
    forces = _results(calc, atoms, "forces")["forces"]
    worst = 0.0
    for a in range(min(len(atoms), 4)):
        for c in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[a, c] += step
            minus.positions[a, c] -= step
            fd = -(_energy(calc, plus) - _energy(calc, minus)) / (2 * step)
            worst = max(worst, abs(fd - forces[a, c]))
    return CheckResult("forces = -dE/dR (finite differences)", worst, 1e-4, "eV/Å",
                       "first 4 atoms, all components")


def check_stress(calc, atoms, step: float = 1e-5) -> CheckResult:
    stress = _results(calc, atoms, "stress")["stress"]
    volume = atoms.get_volume()
    worst = 0.0
    for k, (a, b) in enumerate([(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]):
        values = []
        for sign in (1, -1):
            eps = np.zeros((3, 3))
            eps[a, b] = eps[b, a] = sign * step
            strained = atoms.copy()
            strained.set_cell(atoms.cell[:] @ (np.eye(3) + eps), scale_atoms=True)
            values.append(_energy(calc, strained))
        fd = (values[0] - values[1]) / (2 * step) / volume / (1 if a == b else 2)
        worst = max(worst, abs(fd - stress[k]))
    return CheckResult("stress = dE/dε / V (finite strain)", worst, 1e-6, "eV/Å³")


def check_rotation(calc, atoms) -> CheckResult:
    ref = _results(calc, atoms, "forces")
    rot = _rotation()
    turned = atoms.copy()
    turned.set_cell(atoms.cell[:] @ rot.T, scale_atoms=False)
    turned.positions = atoms.positions @ rot.T
    new = _results(calc, turned, "forces")
    dev = max(abs(new["energy"] - ref["energy"]) / len(atoms),
              np.abs(new["forces"] - ref["forces"] @ rot.T).max())
    return CheckResult("rotation: E invariant, F covariant", dev, 1e-8, "eV/atom, eV/Å")


def check_translation(calc, atoms) -> CheckResult:
    ref = _results(calc, atoms, "forces")
    moved = atoms.copy()
    moved.positions += np.array([0.37, -1.91, 2.45])
    moved.wrap()
    new = _results(calc, moved, "forces")
    dev = max(abs(new["energy"] - ref["energy"]) / len(atoms),
              np.abs(new["forces"] - ref["forces"]).max())
    return CheckResult("translation (and wrapping)", dev, 1e-8, "eV/atom, eV/Å")


def check_permutation(calc, atoms) -> CheckResult:
    ref = _results(calc, atoms, "forces")
    order = np.random.default_rng(2).permutation(len(atoms))
    new = _results(calc, atoms[order], "forces")
    dev = max(abs(new["energy"] - ref["energy"]) / len(atoms),
              np.abs(new["forces"] - ref["forces"][order]).max())
    return CheckResult("permutation of atoms", dev, 1e-8, "eV/atom, eV/Å")


def check_periodic_images(calc, atoms) -> CheckResult:
    ref = _results(calc, atoms, "forces")
    big = atoms.repeat((2, 1, 1))
    new = _results(calc, big, "forces")
    dev = max(abs(new["energy"] / len(big) - ref["energy"] / len(atoms)),
              np.abs(new["forces"] - np.tile(ref["forces"], (2, 1))).max())
    return CheckResult("supercell: same E/N and forces (extensive)", dev, 1e-8,
                       "eV/atom, eV/Å")


def check_small_cell(calc, atoms) -> CheckResult:
    symbols = sorted(set(atoms.get_chemical_symbols()))
    prim = bulk("Si", "diamond", 5.43)
    prim.set_chemical_symbols([symbols[0], symbols[-1]])
    prim.rattle(0.05, seed=3)
    big = prim.repeat((3, 3, 3))
    small, large = _results(calc, prim, "forces"), _results(calc, big, "forces")
    dev = max(abs(small["energy"] / len(prim) - large["energy"] / len(big)),
              np.abs(np.tile(small["forces"], (27, 1)) - large["forces"]).max())
    return CheckResult("cell smaller than the cutoff (2 atoms vs 3×3×3)", dev, 1e-8,
                       "eV/atom, eV/Å")


def check_energies_sum(calc, atoms) -> CheckResult:
    try:
        res = _results(calc, atoms, "energies")
    except PropertyNotImplementedError:
        return CheckResult("per-atom energies sum to the total", None, 1e-8, "eV/atom")
    return CheckResult("per-atom energies sum to the total",
                       abs(res["energies"].sum() - res["energy"]) / len(atoms), 1e-8, "eV/atom")


def check_stresses_sum(calc, atoms) -> CheckResult:
    try:
        res = _results(calc, atoms, "stress", "stresses")
    except PropertyNotImplementedError:
        return CheckResult("per-atom stresses sum to the stress", None, 1e-10, "eV/Å³")
    return CheckResult("per-atom stresses sum to the stress",
                       float(np.abs(res["stresses"].sum(0) - res["stress"]).max()), 1e-10,
                       "eV/Å³")


def check_batched(calc, atoms) -> CheckResult:
    if not hasattr(calc, "predict"):
        return CheckResult("batched predict = single calls", None, 1e-10, "eV, eV/Å")
    structures = [atoms, atoms.repeat((1, 2, 1)), sample_structure(calc_species(calc), seed=5)]
    batched = calc.predict(structures)
    dev = 0.0
    for one, res in zip(structures, batched, strict=True):
        single = _results(calc, one, "forces")
        dev = max(dev, abs(res["energy"] - single["energy"]),
                  np.abs(res["forces"] - single["forces"]).max())
    return CheckResult("batched predict = single calls", dev, 1e-10, "eV, eV/Å")


def check_save_load(calc, atoms) -> CheckResult:
    model = getattr(calc, "model", None)
    if model is None or not hasattr(model, "config"):
        return CheckResult("model file round trip", None, 0.0, "eV")
    from nnpcalc.calculator import NNPCalculator
    from nnpcalc.models.model_file import save_model

    with tempfile.TemporaryDirectory() as tmp:
        path = save_model(model, Path(tmp) / "model.pt")
        again = NNPCalculator(path, dtype=calc.dtype, device=calc.device)
        dev = abs(_energy(again, atoms) - _energy(calc, atoms))
    return CheckResult("model file round trip", dev, 0.0, "eV", "bit-identical energy")


def check_isolated_atom(calc, atoms) -> CheckResult:
    model = getattr(calc, "model", None)
    method = getattr(model, "isolated_energies", None)
    expected = method() if method is not None else None
    if not expected:
        return CheckResult("isolated atom = its reference energy", None, 1e-10, "eV")
    dev = 0.0
    for symbol, value in expected.items():
        single = Atoms(symbol, positions=[[0.0, 0.0, 0.0]], cell=[20, 20, 20], pbc=False)
        res = _results(calc, single, "forces")
        dev = max(dev, abs(res["energy"] - value), np.abs(res["forces"]).max())
    return CheckResult("isolated atom = its reference energy", dev, 1e-10, "eV")


def check_cutoff(calc, atoms) -> CheckResult:
    """A dimer pulled across the cutoff: the energy may not jump, forces stay finite."""
    cutoff = getattr(calc, "cutoff", None)
    if cutoff is None:
        return CheckResult("smooth at the cutoff (dimer across r_c)", None, 1e-6, "eV")
    symbol = atoms.get_chemical_symbols()[0]
    energies, worst_force = [], 0.0
    for r in cutoff + np.array([-1e-3, -1e-5, -1e-7, 1e-7, 1e-5]):
        dimer = Atoms(2 * symbol, positions=[[0, 0, 0], [r, 0, 0]], cell=[30, 30, 30],
                      pbc=False)
        res = _results(calc, dimer, "forces")
        energies.append(res["energy"])
        worst_force = max(worst_force, np.abs(res["forces"]).max())
    if not np.isfinite(worst_force):
        return CheckResult("smooth at the cutoff (dimer across r_c)", float("inf"), 1e-6, "eV")
    jump = abs(energies[2] - energies[3])
    return CheckResult("smooth at the cutoff (dimer across r_c)", jump, 1e-6, "eV",
                       f"E(r_c-1e-3) - E(r_c+1e-5) = {energies[0] - energies[-1]:.2e} eV")


def _model_results(calc, atoms: Atoms, **options) -> dict:
    """`evaluate` of the calculator's model on `atoms` with the given options, in numpy."""
    from nnpcalc.batch import build_batch
    from nnpcalc.models.potential import evaluate

    batch = build_batch([atoms], calc.species, calc.cutoff, calc.dtype, calc.device)
    out = evaluate(calc.model, batch, **options)
    return {k: out[k].detach().cpu().double().numpy() for k in ("energies", "forces", "stress")}


def _largest_difference(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def check_first_derivatives(calc, atoms) -> CheckResult:
    """Forces and stress for MD (kernels with hand-written backward passes allowed) equal the
    ones training differentiates again (plain autograd throughout)."""
    name = "fast derivatives = twice-differentiable ones"
    if getattr(calc, "model", None) is None or not hasattr(calc, "species"):
        return CheckResult(name, None, 1e-10, "eV, eV/Å, eV/Å³")
    big = atoms.repeat((2, 1, 1))
    dev = _largest_difference(_model_results(calc, big),
                              _model_results(calc, big, create_graph=True))
    return CheckResult(name, dev, 1e-10, "eV, eV/Å, eV/Å³")


def check_local_chunks(calc, atoms) -> CheckResult:
    """A model that declares itself local (E_i from atom i's own pairs) gives the same
    results evaluated in chunks of centre atoms as all at once."""
    name = "local model: chunks of centres = whole"
    if not getattr(getattr(calc, "model", None), "local", False):
        return CheckResult(name, None, 1e-10, "eV, eV/Å, eV/Å³")
    big = atoms.repeat((2, 1, 1))
    dev = _largest_difference(_model_results(calc, big, local_chunk=5),
                              _model_results(calc, big, local_chunk=10**9))
    return CheckResult(name, dev, 1e-10, "eV, eV/Å, eV/Å³", "5 centres per chunk")


CHECKS: dict[str, Callable[[Calculator, Atoms], CheckResult]] = {
    "forces": check_forces,
    "stress": check_stress,
    "rotation": check_rotation,
    "translation": check_translation,
    "permutation": check_permutation,
    "periodic_images": check_periodic_images,
    "small_cell": check_small_cell,
    "energies_sum": check_energies_sum,
    "stresses_sum": check_stresses_sum,
    "batched": check_batched,
    "save_load": check_save_load,
    "isolated_atom": check_isolated_atom,
    "cutoff": check_cutoff,
    "first_derivatives": check_first_derivatives,
    "local_chunks": check_local_chunks,
}


def calc_species(calc) -> list[str]:
    return list(getattr(calc, "species", None) or ["Si"])


def run_checks(calc: Calculator, atoms: Atoms | None = None,
               names: Sequence[str] | None = None) -> list[CheckResult]:
    """Run the named checks (all by default) on `atoms` (default: `sample_structure`)."""
    atoms = atoms if atoms is not None else sample_structure(calc_species(calc))
    unknown = [n for n in names or () if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {list(CHECKS)}")
    return [CHECKS[n](calc, atoms) for n in names or CHECKS]


def format_table(results: Sequence[CheckResult]) -> str:
    rows = [("check", "deviation", "tolerance", "unit", "result")]
    rows += [(r.name, "–" if r.deviation is None else f"{r.deviation:.2e}",
              f"{r.tolerance:.0e}", r.unit, r.status) for r in results]
    widths = [max(len(row[k]) for row in rows) for k in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     for row in rows)
