"""Why C44 misses: internal relaxation under shear, from tier 8's DFT cells and from models.

    python benchmarks/shear_response.py MODEL [MODEL ...]
    python benchmarks/shear_response.py MODEL --shifted LABELS.extxyz

The tier-8 cells of data/si_pbe.extxyz (2-atom diamond, Γ-centred density 5) hold PBE's shear
response on their own: at ±2 % shear the internal coordinate is scanned at 0, 0.5, 1, 1.5 times
Stillinger-Weber's sublattice shift, so a straight line through the scan gives the clamped-ion
C44 (shift 0), the zero-force point (PBE's own internal relaxation) and the relaxed-ion C44
there; the frozen optical phonons give the Γ frequency along [100] and [111]. For each model
the script prints the same quantities from the model on the same cells, and its clamped- and
relaxed-ion C44 from `analysis.elastic` at its own lattice constant. `--shifted` reads the
same cells labelled on another mesh (e.g. `nnpcalc label` with data/gpaw_settings.yaml) and
prints their optical frequencies beside.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
import numpy as np
from ase.build import bulk
from ase.units import GPa, _amu, _e

from nnpcalc.analysis.elastic import elastic_constants
from nnpcalc.analysis.eos import equation_of_state
from nnpcalc.calculator import NNPCalculator

ROOT = Path(__file__).resolve().parents[1]
SI_MASS = 28.0855


def _labels(atoms) -> dict:
    return {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
            "stress": atoms.get_stress()}


def optical_THz(atoms, forces: np.ndarray) -> float:
    """Γ optical frequency from the restoring force on a frozen relative displacement."""
    direction = np.asarray(atoms.info["optical_direction"], float)
    direction /= np.linalg.norm(direction)
    k = -(forces[1] @ direction) / atoms.info["optical_amplitude"]  # eV/Å²
    reduced_mass = SI_MASS * _amu / 2  # kg
    return float(np.sqrt(k * _e * 1e20 / reduced_mass) / (2e12 * np.pi))  # eV/Å² → N/m


def scan(cells, results) -> dict:
    """Per shear: clamped C44, zero-force fraction of SW's shift, relaxed C44 (GPa) and the
    force pulling the sublattices apart at the clamped shear (eV/Å)."""
    out = {}
    for strain in sorted({tuple(a.info["strain"]) for a in cells}):
        rows = [(a, r) for a, r in zip(cells, results, strict=True)
                if tuple(a.info["strain"]) == strain]
        component = int(np.flatnonzero(strain)[0])
        shear = strain[component]
        axis = int(np.argmax(np.abs(rows[0][1]["forces"][1])))
        frac = np.array([a.info["internal_relaxation"] for a, _ in rows])
        force = np.array([r["forces"][1][axis] for _, r in rows])
        stress = np.array([r["stress"][component] / GPa for _, r in rows])
        f_line, s_line = np.polyfit(frac, force, 1), np.polyfit(frac, stress, 1)
        zero = -f_line[1] / f_line[0]
        out[f"{shear:+.2f} Voigt {component + 1}"] = {
            "clamped_C44": s_line[1] / shear, "zero_force_fraction": zero,
            "relaxed_C44": np.polyval(s_line, zero) / shear,
            "clamped_force": abs(float(force[frac == 0][0]))}
    return out


def report(name: str, optical, optical_results, sheared, sheared_results) -> None:
    freqs = ", ".join(
        f"{a.info['optical_amplitude']:.2f} Å [{''.join(map(str, a.info['optical_direction']))}]"
        f" {optical_THz(a, r['forces']):.2f}"
        for a, r in zip(optical, optical_results, strict=True))
    print(f"{name}\n  Γ optical (THz): {freqs}")
    for shear, v in scan(sheared, sheared_results).items():
        print(f"  shear {shear}: clamped C44 {v['clamped_C44']:.1f} GPa, internal force at the "
              f"clamped shear {v['clamped_force']:.3f} eV/Å, zero force at "
              f"{v['zero_force_fraction']:.2f} x SW's shift, relaxed C44 there "
              f"{v['relaxed_C44']:.1f} GPa")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*")
    parser.add_argument("--data", default=str(ROOT / "data" / "si_pbe.extxyz"))
    parser.add_argument("--shifted", help="the tier-8 cells labelled on another mesh")
    args = parser.parse_args()
    data = ase.io.read(args.data, ":")
    optical = [a for a in data if a.info.get("config_type") == "crystal_diamond_optical"]
    sheared = [a for a in data if a.info.get("config_type") == "crystal_diamond_sheared_internal"]
    report("PBE (tier-8 labels)", optical, [_labels(a) for a in optical], sheared,
           [_labels(a) for a in sheared])
    if args.shifted:
        other = [a for a in ase.io.read(args.shifted, ":")
                 if a.info.get("config_type") == "crystal_diamond_optical"]
        print("  on the other mesh, Γ optical (THz): " + ", ".join(
            f"{optical_THz(a, a.get_forces()):.2f}" for a in other))
    for path in args.models:
        calc = NNPCalculator(path, dtype="float64")
        report(path, optical, calc.predict(optical), sheared, calc.predict(sheared))
        a0 = equation_of_state(calc, bulk("Si", "diamond", 5.47, cubic=True), 0.03, 9)[
            "a0_angstrom"]
        elastic = elastic_constants(calc, bulk("Si", "diamond", a0), fmax=1e-3)
        print(f"  analysis.elastic at a0 {a0:.4f} Å: C44 clamped {elastic['C44_clamped_GPa']:.1f}"
              f", relaxed {elastic['C44_GPa']:.1f} GPa")


if __name__ == "__main__":
    main()
