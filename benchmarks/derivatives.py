"""Largest force and stress deviations from central finite differences (float64).

    python benchmarks/derivatives.py

Uses the same structures and checks as tests/test_calculator.py and prints the errors, so the
numbers quoted in notes can be regenerated.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import normalised_model  # noqa: E402
from physics_checks import finite_difference_forces, finite_difference_stress  # noqa: E402
from structures_factory import (  # noqa: E402
    rattled_diamond,
    rattled_sic,
    small_primitive_si,
    triclinic_si,
)

from nnpcalc.calculator import NNPCalculator  # noqa: E402


def main() -> None:
    si = normalised_model(["Si"], [rattled_diamond(seed=s) for s in range(3)])
    sic = normalised_model(["Si", "C"], [rattled_sic(seed=s) for s in range(3)])
    cases = [("rattled diamond (8)", rattled_diamond(), si), ("triclinic (4)", triclinic_si(), si),
             ("SiC (8)", rattled_sic(), sic), ("2-atom cell < cutoff", small_primitive_si(), si)]
    print(f"{'structure':24s} {'max|F|':>9s} {'max|dF|':>9s} {'max|S|':>9s} {'max|dS|':>9s}")
    for name, atoms, model in cases:
        calc = NNPCalculator(model, dtype="float64")
        atoms.calc = calc
        forces, stress = atoms.get_forces(), atoms.get_stress()
        df = np.abs(forces - finite_difference_forces(calc, atoms, 1e-4)).max()
        ds = np.abs(stress - finite_difference_stress(calc, atoms, 1e-6)).max()
        print(f"{name:24s} {np.abs(forces).max():9.2e} {df:9.2e} {np.abs(stress).max():9.2e} "
              f"{ds:9.2e}   (eV/A, eV/A^3)")


if __name__ == "__main__":
    main()
