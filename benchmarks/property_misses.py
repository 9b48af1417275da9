"""Where a model's elastic and vacancy misses come from, measured on the shipped data.

    python benchmarks/property_misses.py data/si_model_e3nn.pt data/si_model.pt
    python benchmarks/property_misses.py runs/accuracy/<row>   # a run directory: its last epoch

1. Elastic constants fitted by cubic linear elasticity to the 16 strained 2-atom training cells
   (`crystal_diamond_strained`): from their PBE stresses, their PBE energies, and each model's
   stresses on the same cells. If the labels give the baselines' C11 / C12 and a model does not,
   the model does not fit its own training cells' stress (session 16). With the virial error per
   family (meV/atom), split into its deviatoric part.
2. The 63-atom vacancy as each model relaxes it: the neighbours' distance to the empty site and
   to each other, against the PBE-relaxed cell in the data.
3. The mean E/N error per family (model − PBE, meV/atom) on the shipped data and the labelled
   vacancy collapses: the vacancy at the PBE geometry misses by 63 × (the PBE-relaxed 63-atom
   cells' offset − the perfect 64-atom cell's), and offsets shared by the perfect crystals but
   not by their distorted neighbours are an invariant-point error the fit leaves.
4. The slope of the model's forces on the PBE forces per family, Σ F·F_PBE / Σ F_PBE², with the
   rms PBE force: the frozen Γ phonons (small displacements) against the rattled cells (rms
   2-3 eV/Å). A slope below 1 only where displacements are small is a curvature at the
   minimum that the rattled cells do not pin — Γ low while the force MAE looks fine (session 21).
   Beside it the family's force MAE and its share of the squared force error: whether a few
   large-force atoms set the force loss or the error is spread over every family (session 26).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.units import GPa

from nnpcalc import NNPCalculator
from nnpcalc.analysis.defects import defect_cell, formation_energy
from nnpcalc.train.checkpoint import last_epoch_model

DATA = Path(__file__).resolve().parents[1] / "data"
A0 = 5.4755149431019134  # PBE lattice constant of the baselines (Å)


def _strain(atoms: Atoms, reference: np.ndarray) -> np.ndarray:
    """Voigt strain (engineering shears) of a cell against the reference cell."""
    e = np.linalg.solve(reference, atoms.cell.array) - np.eye(3)
    e = 0.5 * (e + e.T)
    return np.array([e[0, 0], e[1, 1], e[2, 2], 2 * e[1, 2], 2 * e[0, 2], 2 * e[0, 1]])


def elastic_from_stresses(cells: list[Atoms], stresses: list[np.ndarray]) -> dict:
    """C11, C12, C44 (GPa) and a stress offset, least squares σ = C ε over all components."""
    reference = bulk("Si", "diamond", a=A0).cell.array
    rows, rhs = [], []
    for atoms, sigma in zip(cells, stresses, strict=True):
        ev = _strain(atoms, reference)
        for i in range(3):
            rows.append([ev[i], ev[:3].sum() - ev[i], 0.0, 1.0])
            rhs.append(sigma[i])
        for i in range(3, 6):
            rows.append([0.0, 0.0, ev[i], 0.0])
            rhs.append(sigma[i])
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    residual = np.array(rows) @ solution - np.array(rhs)
    return {"C11": solution[0], "C12": solution[1], "C44": solution[2],
            "residual_GPa": float(np.sqrt(np.mean(residual**2)))}


def elastic_from_energies(cells: list[Atoms], energies: list[float]) -> dict:
    """The same constants from E = E0 + V p·tr ε + V ½ εCε (cubic C)."""
    reference = bulk("Si", "diamond", a=A0).cell.array
    volume = abs(np.linalg.det(reference))
    rows = []
    for atoms in cells:
        ev = _strain(atoms, reference)
        normal, shear = ev[:3], ev[3:]
        cross = normal[0] * normal[1] + normal[0] * normal[2] + normal[1] * normal[2]
        rows.append([1.0, volume * normal.sum(), volume * 0.5 * (normal**2).sum(),
                     volume * cross, volume * 0.5 * (shear**2).sum()])
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(energies), rcond=None)
    return {"C11": solution[2] / GPa, "C12": solution[3] / GPa, "C44": solution[4] / GPa}


def virial_errors(calc, dataset: list[Atoms]) -> dict[str, tuple[float, float]]:
    """Per family: RMSE of (σ_model − σ_PBE)·V/N (meV/atom), and of its deviatoric normal part."""
    by_family = defaultdict(list)
    for atoms in dataset:
        if not atoms.pbc.all():
            continue
        work = atoms.copy()
        work.calc = calc
        diff = (work.get_stress() - atoms.get_stress()) * atoms.get_volume() / len(atoms)
        by_family[atoms.info["config_type"]].append(1000 * diff)
    out = {}
    for family, rows in sorted(by_family.items()):
        v = np.array(rows)
        deviatoric = v[:, :3] - v[:, :3].mean(1, keepdims=True)
        out[family] = (float(np.sqrt((v**2).mean())), float(np.sqrt((deviatoric**2).mean())))
    return out


def family_offsets(dataset: list[Atoms],
                   results: list[dict]) -> dict[str, tuple[int, float, float]]:
    """Per family: structures, mean and standard deviation of the E/N error (meV/atom)."""
    by_family = defaultdict(list)
    for atoms, result in zip(dataset, results, strict=True):
        error = (result["energy"] - atoms.get_potential_energy()) / len(atoms)
        by_family[atoms.info["config_type"]].append(1000 * error)
    return {family: (len(v), float(np.mean(v)), float(np.std(v)))
            for family, v in sorted(by_family.items())}


def force_slopes(dataset: list[Atoms],
                 results: list[dict]) -> dict[str, tuple[int, float, float, float, float]]:
    """Per family with PBE forces (rms ≥ 0.02 eV/Å; relaxed cells have none to compare):
    structures, Σ F·F_PBE / Σ F_PBE², rms F_PBE component, force MAE (eV/Å) and the family's
    share of Σ (F − F_PBE)² over all families."""
    # structures, F·F_PBE, F_PBE², components, |F − F_PBE|, (F − F_PBE)²
    sums = defaultdict(lambda: np.zeros(6))
    for atoms, result in zip(dataset, results, strict=True):
        label = atoms.get_forces()
        error = result["forces"] - label
        sums[atoms.info["config_type"]] += [1, (result["forces"] * label).sum(),
                                            (label**2).sum(), label.size,
                                            np.abs(error).sum(), (error**2).sum()]
    total = sum(v[5] for v in sums.values())
    return {family: (int(n), float(dot / square), float(np.sqrt(square / size)),
                     float(absolute / size), float(squared / total))
            for family, (n, dot, square, size, absolute, squared) in sorted(sums.items())
            if np.sqrt(square / size) >= 0.02}


def vacancy_geometry(atoms: Atoms, site: np.ndarray) -> tuple[float, float]:
    """Mean distance of the four nearest atoms to the empty site, and mean distance between them."""
    probe = atoms + Atoms("X", positions=[site])
    distances = probe.get_distances(len(atoms), range(len(atoms)), mic=True)
    near = np.argsort(distances)[:4]
    pairs = [atoms.get_distance(i, j, mic=True) for k, i in enumerate(near) for j in near[k + 1:]]
    return float(distances[near].mean()), float(np.mean(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+",
                        help="model files, or run directories (their last epoch)")
    args = parser.parse_args()
    dataset = ase.io.read(DATA / "si_pbe.extxyz", ":")
    strained = [a for a in dataset if a.info["config_type"] == "crystal_diamond_strained"]
    calcs = {path: NNPCalculator(last_epoch_model(path) if Path(path).is_dir() else path)
             for path in args.models}

    print(f"1. C11 / C12 / C44 (GPa) fitted to the {len(strained)} strained 2-atom training cells")
    fitted = elastic_from_stresses(strained, [a.get_stress() / GPa for a in strained])
    print(f"  PBE stresses  {fitted['C11']:6.1f} {fitted['C12']:6.1f} {fitted['C44']:6.1f} "
          f"(residual {fitted['residual_GPa']:.2f} GPa; C44 clamped: no internal relaxation)")
    fitted = elastic_from_energies(strained, [a.get_potential_energy() for a in strained])
    print(f"  PBE energies  {fitted['C11']:6.1f} {fitted['C12']:6.1f} {fitted['C44']:6.1f}")
    for path, calc in calcs.items():
        stresses = []
        for atoms in strained:
            work = atoms.copy()
            work.calc = calc
            stresses.append(work.get_stress() / GPa)
        fitted = elastic_from_stresses(strained, stresses)
        print(f"  {path}  {fitted['C11']:6.1f} {fitted['C12']:6.1f} {fitted['C44']:6.1f}")
    for path, calc in calcs.items():
        print(f"  virial error by family, {path} (meV/atom: RMSE, deviatoric normal part)")
        for family, (rmse, deviatoric) in virial_errors(calc, dataset).items():
            print(f"    {family:36s} {rmse:6.1f} {deviatoric:6.1f}")

    print("2. 63-atom vacancy: neighbours to the empty site / to each other (Å), E_f (eV)")
    _, site = defect_cell("vacancy", A0, 2)
    for atoms in (a for a in dataset if a.info["config_type"] == "vacancy_relaxed_pbe"):
        to_site, between = vacancy_geometry(atoms, site)
        print(f"  PBE-relaxed cell  {to_site:.3f} / {between:.3f}")
    for path, calc in calcs.items():
        result = formation_energy(calc, "vacancy", A0, size=2)
        to_site, between = vacancy_geometry(result["relaxed_atoms"], site)
        print(f"  {path}  {to_site:.3f} / {between:.3f}, E_f {result['formation_energy_eV']:.3f}")

    labelled = dataset + ase.io.read(DATA / "si_pbe_active.extxyz", ":")
    predicted = {path: calc.predict(labelled) for path, calc in calcs.items()}
    for path, results in predicted.items():
        print(f"3. E/N error by family (model − PBE, meV/atom: structures, mean, sd), {path}")
        offsets = family_offsets(labelled, results)
        for family, (n, mean, sd) in offsets.items():
            print(f"    {family:36s} {n:3d} {mean:+7.2f} {sd:6.2f}")
        at_pbe = 63e-3 * (offsets["vacancy_relaxed_pbe"][1] - offsets["crystal_diamond_64"][1])
        print(f"  vacancy at the PBE geometry from these offsets: {at_pbe:+.3f} eV")
    for path, results in predicted.items():
        print(f"4. force slope on PBE by family (structures, Σ F·F_PBE / Σ F_PBE², rms F_PBE "
              f"eV/Å, force MAE eV/Å, share of the squared force error), {path}")
        for family, (n, slope, rms, mae, share) in force_slopes(labelled, results).items():
            print(f"    {family:36s} {n:3d} {slope:7.4f} {rms:6.3f} {mae:6.3f} {share:5.2f}")


if __name__ == "__main__":
    main()
