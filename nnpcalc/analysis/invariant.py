"""Invariant points: environments whose atomic energy every legitimate partition agrees on.

- An isolated atom (no neighbour within the cutoff, G = 0): E_i = the isolated-atom energy.
- A single-element crystal whose atoms form one Wyckoff orbit: all atoms are equivalent, so
  E_i = E/N at any volume or strain that keeps the orbit single.
- A homonuclear dimer: both atoms are equivalent, E_i = E/2.

Multi-element structures are not pinned by their own totals even when each species has one
orbit: adding c to every A atom and −c·n_A/n_B to every B atom keeps every total at fixed
stoichiometry. Isolated-atom energies, elemental phases and other stoichiometries pin that
shift, so they are reported as "not invariant" with that reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import spglib
from ase import Atoms

from nnpcalc.neighbors import neighbor_list
from nnpcalc.sampling import PHASES, crystal, dimer, isolated_atom


@dataclass
class InvariantInfo:
    is_invariant: bool
    kind: str | None  # isolated_atom | single_orbit_crystal | symmetric_dimer | None
    reason: str


def symmetry_dataset(atoms: Atoms, symprec: float = 1e-3):
    cell = (np.asarray(atoms.cell[:]), atoms.get_scaled_positions(), atoms.numbers)
    with warnings.catch_warnings():  # spglib warns about its own error-handling switch
        warnings.simplefilter("ignore", DeprecationWarning)
        return spglib.get_symmetry_dataset(cell, symprec=symprec)


def _orbits(atoms: Atoms, symprec: float) -> dict[str, int]:
    dataset = symmetry_dataset(atoms, symprec)
    if dataset is None:
        return {s: int(np.sum(atoms.symbols == s)) for s in set(atoms.get_chemical_symbols())}
    equivalent = np.asarray(dataset.equivalent_atoms)
    symbols = np.array(atoms.get_chemical_symbols())
    return {s: len(set(equivalent[symbols == s])) for s in sorted(set(symbols))}


def classify(atoms: Atoms, cutoff: float, symprec: float = 1e-3) -> InvariantInfo:
    """Is `atoms` an invariant point for a model with this cutoff, and if not, why not."""
    nl = neighbor_list(atoms, cutoff)
    if nl.i.size == 0:
        return InvariantInfo(True, "isolated_atom",
                             f"no atom has a neighbour within {cutoff:g} Å")
    species = set(atoms.get_chemical_symbols())
    if not atoms.pbc.any():
        if len(atoms) == 2 and len(species) == 1:
            return InvariantInfo(True, "symmetric_dimer", "homonuclear dimer")
        return InvariantInfo(False, None, f"non-periodic cluster of {len(atoms)} atoms "
                             "(only dimers are classified)")
    orbits = _orbits(atoms, symprec)
    described = ", ".join(f"{n} Wyckoff orbit{'s' if n > 1 else ''} for {s}"
                          for s, n in orbits.items())
    if any(n > 1 for n in orbits.values()):
        return InvariantInfo(False, None, described)
    if len(species) > 1:
        return InvariantInfo(False, None, f"{described}, but the split of the total between "
                             "species is not fixed (per-species shift)")
    return InvariantInfo(True, "single_orbit_crystal", described)


@dataclass
class InvariantPoint:
    index: int
    kind: str
    family: str
    reference_eV_per_atom: float
    volume_A3_per_atom: float | None
    n_atoms: int

    def to_dict(self) -> dict:
        return asdict(self)


def family_of(atoms: Atoms, kind: str) -> str:
    """Group name for reports: the phase or config type when known, else the space group."""
    for key in ("phase", "probe_family"):
        if key in atoms.info:
            return str(atoms.info[key])
    if kind != "single_orbit_crystal":
        return kind
    dataset = symmetry_dataset(atoms)
    return dataset.international if dataset is not None else "crystal"


def find_invariant_points(structures: Sequence[Atoms], energies: Sequence[float],
                          cutoff: float, isolated_atom_energies: dict[str, float] | None = None,
                          symprec: float = 1e-3, with_reasons: bool = False):
    """Invariant points among labelled structures, with their reference atomic energies.

    `energies` are the labelled totals (eV). An isolated atom's reference is the given
    isolated-atom energy when known, else its own label. Returns the points, and with
    `with_reasons` also {index: reason} for the rejected structures.
    """
    points, rejected = [], {}
    for index, (atoms, energy) in enumerate(zip(structures, energies, strict=True)):
        info = classify(atoms, cutoff, symprec)
        if not info.is_invariant:
            rejected[index] = info.reason
            continue
        reference = energy / len(atoms)
        if info.kind == "isolated_atom" and isolated_atom_energies and len(atoms) == 1:
            reference = isolated_atom_energies.get(atoms.get_chemical_symbols()[0], reference)
        volume = atoms.get_volume() / len(atoms) if atoms.pbc.all() else None
        points.append(InvariantPoint(index, info.kind, family_of(atoms, info.kind),
                                     float(reference), volume, len(atoms)))
    return (points, rejected) if with_reasons else points


def probe_families(symbol: str = "Si", volume_factors: Sequence[float] = (0.86, 0.92, 1.0,
                                                                          1.08, 1.16),
                   phases: Sequence[str] = PHASES, dimer_distances: Sequence[float] = (2.1, 2.3,
                                                                                       2.6),
                   include_isolated: bool = True) -> list[Atoms]:
    """Unlabelled probe structures at invariant points: phases over volume, dimers, the atom.

    Label them with any ASE calculator (a DFT code or a teacher) and pass them to `audit`.
    """
    from nnpcalc.sampling import DEFAULT_VOLUME

    probes = []
    for phase in phases:
        for f in volume_factors:
            atoms = crystal(phase, symbol, DEFAULT_VOLUME[phase] * f)
            atoms.info["probe_family"] = phase
            probes.append(atoms)
    for d in dimer_distances:
        atoms = dimer(symbol, d)
        atoms.info["probe_family"] = "dimer"
        probes.append(atoms)
    if include_isolated:
        atoms = isolated_atom(symbol)
        atoms.info["probe_family"] = "isolated_atom"
        probes.append(atoms)
    return probes
