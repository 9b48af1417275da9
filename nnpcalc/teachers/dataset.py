"""Teacher data: structures labelled by Stillinger–Weber, with its exact atomic energies beside.

Labels (energy, forces, stress) sit in a SinglePointCalculator, as for DFT data; the two
partitions are stored as arrays `energies_vertex` and `energies_lammps` for audits only —
losses never read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from nnpcalc import sampling as s
from nnpcalc.teachers.calculator import SWCalculator

A0_SW = 5.431


def label_with_teacher(structures: Sequence[Atoms], calc: SWCalculator | None = None
                       ) -> list[Atoms]:
    """Copies of `structures` carrying SW energy, forces, stress (periodic cells) and both
    atomic-energy partitions."""
    calc = calc or SWCalculator()
    out = []
    for atoms, res in zip(structures, calc.predict(list(structures)), strict=True):
        atoms = atoms.copy()
        kwargs = {"energy": res["energy"], "forces": res["forces"]}
        if "stress" in res and atoms.pbc.all():
            kwargs["stress"] = res["stress"]
        atoms.calc = SinglePointCalculator(atoms, **kwargs)
        atoms.arrays["energies_vertex"] = res["energies_vertex"]
        atoms.arrays["energies_lammps"] = res["energies_lammps"]
        out.append(atoms)
    return out


def _liquid_cell(n_cells=(2, 2, 2), volume_per_atom: float = 18.2) -> Atoms:
    cell = s.diamond_supercell("Si", A0_SW, 1).repeat(n_cells)
    cell.set_cell(cell.cell[:] * (volume_per_atom * len(cell) / cell.get_volume()) ** (1 / 3),
                  scale_atoms=True)
    return cell


def crystals(volume_factors=(0.88, 0.94, 1.0, 1.06, 1.12), phases=s.PHASES,
             n_strained: int = 2, seed: int = 0) -> list[Atoms]:
    """Phases over volume plus randomly strained and sheared copies."""
    rng = np.random.default_rng(seed)
    out = []
    for phase in phases:
        for f in volume_factors:
            out.append(s.crystal(phase, "Si", s.DEFAULT_VOLUME[phase] * f * (A0_SW / 5.43) ** 3))
        for _ in range(n_strained):
            out.append(s.strained(s.crystal(phase), rng.uniform(-0.04, 0.04, 6)))
    return out


SNAPSHOT_KINDS = ("liquid", "hot_crystal", "amorphous")


def snapshots(kind: str, n: int, seed: int = 0, size=(2, 2, 2)) -> list[Atoms]:
    """MD with the teacher: liquid (3000 K, 2.56 g/cm^3), amorphous (quench), hot crystal
    (1200 K). The "amorphous" quench is fast (1.2 ps at 1000 K, then 500 K): it freezes an
    over-coordinated glass (mean coordination ~4.8 within 2.9 Å), not a relaxed network."""
    if kind not in SNAPSHOT_KINDS:
        raise ValueError(f"unknown snapshot kind {kind!r}; choose from {SNAPSHOT_KINDS}")
    if n == 0:
        return []
    calc = SWCalculator()
    if kind == "liquid":
        # 2000 steps (4 ps) are needed to melt: shorter runs leave a hot, partly ordered cell
        return s.md_snapshots(_liquid_cell(size), calc, 3000, n, interval=40, seed=seed,
                              equilibrate=2000, config_type="liquid")
    if kind == "hot_crystal":
        cell = s.diamond_supercell("Si", A0_SW, 1).repeat(size)
        return s.md_snapshots(cell, calc, 1200, n, interval=40, seed=seed,
                              config_type="hot_crystal")
    # amorphous: melt, quench, anneal
    melt = s.md_snapshots(_liquid_cell(size), calc, 3000, 1, interval=40, seed=seed,
                          equilibrate=2000)[0]
    quenched = s.md_snapshots(melt, calc, 1000, 1, interval=200, seed=seed + 1,
                              equilibrate=400)[0]
    return s.md_snapshots(quenched, calc, 500, n, interval=40, seed=seed + 2,
                          config_type="amorphous")


def defects(n: int = 2, seed: int = 0, temperature_K: float = 900, surface_layers: int = 16
            ) -> list[Atoms]:
    """MD snapshots of vacancy, interstitial and (100)/(111) surface cells at temperature_K;
    all about 64 atoms (2×2 surface cells of `surface_layers` layers)."""
    calc = SWCalculator()
    base = s.diamond_supercell("Si", A0_SW, 1).repeat((2, 2, 2))
    cells = [("vacancy", s.vacancy(base, 0))]
    cells += [(f"interstitial_{k}", s.interstitial(k, "Si", A0_SW, 2))
              for k in ("tetrahedral", "hexagonal", "split110")]
    cells += [(f"surface_{m}", s.surface(m, "Si", A0_SW, layers=surface_layers, vacuum=6.0,
                                         size=(2, 2))) for m in ("100", "111")]
    out = []
    for k, (name, cell) in enumerate(cells):
        out += s.md_snapshots(cell, calc, temperature_K, n, interval=50, seed=seed + k,
                              equilibrate=300, config_type=name)
    return out


def rattled_diamond(n: int, seed: int = 0) -> list[Atoms]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        cell = s.diamond_supercell("Si", A0_SW * rng.uniform(0.97, 1.03), 1).repeat((2, 1, 1))
        out.append(s.rattled(cell, rng.uniform(0.03, 0.15), seed + k))
    return out


def teacher_dataset(n_rattled: int = 12, n_liquid: int = 8, n_amorphous: int = 6,
                    n_hot_crystal: int = 6, n_defect: int = 2, n_strained: int = 2,
                    seed: int = 0) -> list[Atoms]:
    """A diverse SW-labelled set: every phase over volume, strained and sheared; rattled
    diamond; liquid, amorphous and hot-crystal MD; vacancy, interstitial and surface MD.

    Runs MD with the teacher (about a minute on one core at the defaults).
    """
    structures = (crystals(n_strained=n_strained, seed=seed) + rattled_diamond(n_rattled, seed)
                  + snapshots("liquid", n_liquid, seed + 1)
                  + snapshots("amorphous", n_amorphous, seed + 2)
                  + snapshots("hot_crystal", n_hot_crystal, seed + 3)
                  + defects(n_defect, seed + 4))
    return label_with_teacher(structures)


def write_extxyz(path: str | Path, structures: Sequence[Atoms]) -> None:
    """Labelled structures to extxyz: energy/stress in the comment line, forces and both
    partitions as per-atom columns; `ase.io.read(path, ":")` gives them back."""
    ase.io.write(path, list(structures), format="extxyz")


def partition_rms_meV(structures: Sequence[Atoms]) -> float:
    """Mean over structures of the per-structure RMS (meV/atom) of vertex − LAMMPS energies."""
    results = SWCalculator().predict(list(structures), forces=False, stress=False)
    return float(np.mean([1000 * np.sqrt(np.mean((r["energies_vertex"]
                                                   - r["energies_lammps"]) ** 2))
                          for r in results]))
