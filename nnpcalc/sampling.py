"""Candidate structures for training sets: crystal phases, strains, defects, surfaces, MD.

Every builder returns ASE Atoms with ``info["config_type"]`` set, so data sets and reports can
group errors by kind. Default volumes are Si-like; pass `volume_per_atom` for other elements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.spacegroup import crystal as spacegroup_crystal

PHASES = ("diamond", "beta-sn", "sc", "bcc", "fcc", "hcp", "sh")

# Approximate Si volumes per atom (Å^3) near each phase's own minimum, used as defaults.
DEFAULT_VOLUME = {"diamond": 20.45, "beta-sn": 15.6, "sc": 15.9, "bcc": 14.6, "fcc": 14.5,
                  "hcp": 14.3, "sh": 14.8}
# BC8 Si: x(16c) = 0.1003, a = 6.636 Å (experiment, ambient), a scaled by the PBE/experiment
# ratio of the diamond lattice constants, 5.476 / 5.431; not in PHASES (8 atoms, no dataset
# of ours holds it perfect).
BC8_X = 0.1003
BC8_VOLUME = (6.636 * 5.476 / 5.431) ** 3 / 16


def _tag(atoms: Atoms, config_type: str, **info) -> Atoms:
    atoms.info["config_type"] = config_type
    atoms.info.update(info)
    return atoms


def crystal(phase: str, symbol: str = "Si", volume_per_atom: float | None = None) -> Atoms:
    """Primitive cell of `phase` scaled to `volume_per_atom` (Å^3); every atom equivalent."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; choose from {PHASES}")
    v = float(volume_per_atom or DEFAULT_VOLUME[phase])
    if phase == "diamond":
        atoms = bulk(symbol, "diamond", a=(8 * v) ** (1 / 3))
    elif phase == "fcc":
        atoms = bulk(symbol, "fcc", a=(4 * v) ** (1 / 3))
    elif phase == "bcc":
        atoms = bulk(symbol, "bcc", a=(2 * v) ** (1 / 3))
    elif phase == "sc":
        atoms = bulk(symbol, "sc", a=v ** (1 / 3))
    elif phase == "hcp":
        c_over_a = np.sqrt(8 / 3)
        a = (2 * v / (np.sqrt(3) / 2 * c_over_a)) ** (1 / 3)
        atoms = bulk(symbol, "hcp", a=a, c=c_over_a * a)
    elif phase == "sh":
        c_over_a = 0.94  # Si simple hexagonal phase
        a = (v / (np.sqrt(3) / 2 * c_over_a)) ** (1 / 3)
        atoms = Atoms(symbol, cell=[[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0],
                                    [0, 0, c_over_a * a]], pbc=True)
    else:  # beta-Sn, body-centred tetragonal primitive cell with 2 atoms, c/a = 0.552
        c_over_a = 0.552
        a = (4 * v / c_over_a) ** (1 / 3)
        c = c_over_a * a
        cell = np.array([[-a / 2, a / 2, c / 2], [a / 2, -a / 2, c / 2], [a / 2, a / 2, -c / 2]])
        conventional = np.array([[0, 0, 0], [0, a / 2, c / 4]])
        atoms = Atoms(symbol * 2, positions=conventional, cell=cell, pbc=True)
        atoms.wrap()
    return _tag(atoms, f"crystal_{phase}", phase=phase, volume_per_atom=v)


def lonsdaleite(symbol: str = "Si", volume_per_atom: float = DEFAULT_VOLUME["diamond"]) -> Atoms:
    """Hexagonal diamond (4f orbit of P6_3/mmc), ideal c/a = sqrt(8/3) and z = 1/16: the
    diamond bond at equal volume, stacked ABAB instead of ABC."""
    a = (4 * volume_per_atom / (np.sqrt(3) / 2 * np.sqrt(8 / 3))) ** (1 / 3)
    atoms = spacegroup_crystal(symbol, [(1 / 3, 2 / 3, 1 / 16)], spacegroup=194,
                               cellpar=[a, a, a * np.sqrt(8 / 3), 90, 90, 120])
    return _tag(atoms, "crystal_lonsdaleite", volume_per_atom=float(volume_per_atom))


def polytype(stacking: str, symbol: str = "Si",
             volume_per_atom: float = DEFAULT_VOLUME["diamond"]) -> Atoms:
    """The tetrahedral stacking polytype of `stacking` (bilayer positions A, B, C along the
    hexagonal c axis, ideal bonds): "ABC" is diamond, "AB" lonsdaleite, "ABCB" 4H and "ABCACB"
    6H. A bilayer between two unlike neighbours is cubic (staggered bonds), between two like
    ones hexagonal (one eclipsed bond per atom): the polytypes mix both environments, so their
    totals constrain the hexagonal site's energy without any atom being an invariant point."""
    shifts = {"A": (0.0, 0.0), "B": (1 / 3, 2 / 3), "C": (2 / 3, 1 / 3)}
    n = len(stacking)
    if n < 2 or set(stacking) - set(shifts) or any(
            stacking[k] == stacking[(k + 1) % n] for k in range(n)):
        raise ValueError(f"stacking {stacking!r}: A, B and C, no letter twice in a row "
                         "(periodically), at least two bilayers")
    a_cubic = (8 * volume_per_atom) ** (1 / 3)
    a, layer = a_cubic / np.sqrt(2), a_cubic / np.sqrt(3)  # in-plane spacing, bilayer period
    cell = [[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, n * layer]]
    scaled = [(*shifts[letter], (k + dz) / n) for k, letter in enumerate(stacking)
              for dz in (0.0, 0.75)]  # the bond along c is 3/4 of the bilayer period
    atoms = Atoms(symbol * 2 * n, scaled_positions=scaled, cell=cell, pbc=True)
    return _tag(atoms, f"crystal_polytype_{stacking}", stacking=stacking,
                volume_per_atom=float(volume_per_atom))


def bc8(symbol: str = "Si", volume_per_atom: float = BC8_VOLUME, x: float = BC8_X) -> Atoms:
    """BC8 (16c orbit of Ia-3) in its primitive bcc cell of 8 atoms: the metastable Si phase
    recovered from high pressure, four-coordinated like diamond but with 60-120° bond angles."""
    a = (16 * volume_per_atom) ** (1 / 3)
    atoms = spacegroup_crystal(symbol, [(x,) * 3], spacegroup=206, cellpar=[a, a, a, 90, 90, 90],
                               primitive_cell=True)
    return _tag(atoms, "crystal_bc8", volume_per_atom=float(volume_per_atom))


def isolated_atom(symbol: str = "Si", box: float = 12.0) -> Atoms:
    atoms = Atoms(symbol, positions=[[box / 2] * 3], cell=[box] * 3, pbc=False)
    return _tag(atoms, "isolated_atom")


def dimer(symbol: str = "Si", distance: float = 2.25, box: float = 12.0) -> Atoms:
    atoms = Atoms(symbol * 2, positions=[[box / 2 - distance / 2, box / 2, box / 2],
                                         [box / 2 + distance / 2, box / 2, box / 2]],
                  cell=[box] * 3, pbc=False)
    return _tag(atoms, "dimer", distance=distance)


def strained(atoms: Atoms, voigt_strain: Sequence[float]) -> Atoms:
    """Apply a homogeneous strain (Voigt, engineering shear) to cell and atoms."""
    e = np.asarray(voigt_strain, dtype=float)
    eps = np.array([[e[0], e[5] / 2, e[4] / 2], [e[5] / 2, e[1], e[3] / 2],
                    [e[4] / 2, e[3] / 2, e[2]]])
    out = atoms.copy()
    out.set_cell(atoms.cell[:] @ (np.eye(3) + eps), scale_atoms=True)
    return _tag(out, atoms.info.get("config_type", "crystal") + "_strained",
                strain=e.tolist())


def rattled(atoms: Atoms, stdev: float, seed: int = 0) -> Atoms:
    out = atoms.copy()
    out.rattle(stdev, seed=seed)
    base = atoms.info.get("config_type")
    return _tag(out, f"{base}_rattled" if base else "rattled", rattle_stdev=stdev)


def vacancy(atoms: Atoms, index: int = 0) -> Atoms:
    out = atoms.copy()
    del out[index]
    return _tag(out, "vacancy")


def diamond_supercell(symbol: str = "Si", a0: float = 5.43, size: int = 1) -> Atoms:
    """Conventional 8-atom diamond cell repeated size³ times."""
    return _tag(bulk(symbol, "diamond", a=a0, cubic=True).repeat(size), "crystal_diamond")


def interstitial(kind: str, symbol: str = "Si", a0: float = 5.43, size: int = 1,
                 repeat: tuple[int, int, int] = (1, 1, 1)) -> Atoms:
    """Self-interstitial in a diamond supercell (`size`³ conventional cells, further repeated
    by `repeat` for non-cubic cells such as 2x1x1): tetrahedral, hexagonal or split <110>."""
    atoms = diamond_supercell(symbol, a0, size).repeat(repeat)
    q = a0 / 4
    if kind == "tetrahedral":
        atoms.append(symbol)
        atoms.positions[-1] = [2 * q, 2 * q, 2 * q]
    elif kind == "hexagonal":
        atoms.append(symbol)
        atoms.positions[-1] = [5 * q / 2, 5 * q / 2, 5 * q / 2]  # centre of a 6-ring
    elif kind == "split110":
        # Two atoms share the lattice site at (¼,¼,¼)a, split along [1-10] (unrelaxed start).
        host = int(np.argmin(np.linalg.norm(atoms.positions - q, axis=1)))
        centre = atoms.positions[host].copy()
        half = 1.0 * np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
        atoms.positions[host] = centre + half
        atoms.append(symbol)
        atoms.positions[-1] = centre - half
    else:
        raise ValueError(f"unknown interstitial {kind!r}: tetrahedral, hexagonal, split110")
    atoms.wrap()
    return _tag(atoms, f"interstitial_{kind}")


def surface(miller: str, symbol: str = "Si", a0: float = 5.43, layers: int = 4,
            vacuum: float = 6.0, size: tuple[int, int] = (1, 1)) -> Atoms:
    """Bulk-terminated slab, periodic in-plane, with vacuum along z."""
    from ase.build import diamond100, diamond111

    builder = {"100": diamond100, "111": diamond111}.get(miller)
    if builder is None:
        raise ValueError(f"unknown surface {miller!r}; choose 100 or 111")
    atoms = builder(symbol, size=(*size, layers), a=a0, vacuum=vacuum)
    atoms.pbc = True
    return _tag(atoms, f"surface_{miller}")


def thermalize(atoms: Atoms, temperature_K: float, rng: np.random.Generator) -> None:
    """Maxwell-Boltzmann momenta at `temperature_K`: ASE 3.29 renamed the function (the old name
    warns) and our floor is older, so take whichever the installed ASE has."""
    try:
        from ase.md.velocitydistribution import thermalize_momenta
    except ImportError:  # ASE < 3.29
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

        MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
    else:
        thermalize_momenta(atoms, temperature_K, rng=rng)


def md_snapshots(atoms: Atoms, calc, temperature_K: float, n_snapshots: int, interval: int = 20,
                 seed: int = 0, timestep_fs: float = 2.0, equilibrate: int = 100,
                 config_type: str = "md") -> list[Atoms]:
    """Langevin MD with any ASE calculator; snapshots every `interval` steps after equilibration."""
    from ase import units
    from ase.md.langevin import Langevin

    work = atoms.copy()
    work.calc = calc
    rng = np.random.default_rng(seed)
    thermalize(work, temperature_K, rng)
    dyn = Langevin(work, timestep_fs * units.fs, temperature_K=temperature_K, friction=0.02,
                   rng=rng, fixcm=False)
    dyn.run(equilibrate)
    out = []
    for _ in range(n_snapshots):
        dyn.run(interval)
        snap = Atoms(work.numbers, positions=work.positions, cell=work.cell, pbc=work.pbc)
        out.append(_tag(snap, config_type, temperature_K=temperature_K))
    return out


def deduplicate(structures: Sequence[Atoms], featurize: Callable[[Atoms], np.ndarray],
                tol: float) -> list[Atoms]:
    """Drop structures whose pooled descriptor (mean and std over atoms) lies within `tol`
    of one already kept — near-copies add cost, not information."""
    kept, keys = [], []
    for atoms in structures:
        g = np.asarray(featurize(atoms))
        key = np.concatenate([g.mean(0), g.std(0)]) if len(atoms) > 1 else g.ravel()
        if all(k.shape != key.shape or np.linalg.norm(k - key) > tol for k in keys):
            kept.append(atoms)
            keys.append(key)
    return kept
