"""Invariant points: environments whose atomic energy every legitimate partition agrees on.

- An isolated atom (no neighbour within the cutoff, G = 0): E_i = the isolated-atom energy.
- A single-element crystal whose atoms form one Wyckoff orbit: all atoms are equivalent, so
  E_i = E/N at any volume or strain that keeps the orbit single.
- A single-element cluster whose atoms are all equivalent under its point group (a dimer, an
  equilateral triangle, a tetrahedron...): E_i = E/N.

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
    kind: str | None  # isolated_atom | single_orbit_crystal | symmetric_cluster | None
    reason: str

    @property
    def reference_rule(self) -> str | None:
        """How the reference atomic energy follows from the data at this point."""
        if self.kind == "isolated_atom":
            return "E_i = isolated-atom energy of the element"
        return "E_i = E/N" if self.is_invariant else None


def symmetry_dataset(atoms: Atoms, symprec: float = 1e-3):
    cell = (np.asarray(atoms.cell[:]), atoms.get_scaled_positions(), atoms.numbers)
    with warnings.catch_warnings():  # spglib warns about its own error-handling switch
        warnings.simplefilter("ignore", DeprecationWarning)
        return spglib.get_symmetry_dataset(cell, symprec=symprec)


def _crystal_orbits(atoms: Atoms, symprec: float) -> np.ndarray:
    """Orbit label of each atom under the space group (spglib's equivalent_atoms)."""
    dataset = symmetry_dataset(atoms, symprec)
    if dataset is None:
        return np.arange(len(atoms))
    return np.asarray(dataset.equivalent_atoms)


def _frame(p: np.ndarray, q: np.ndarray, handedness: float) -> np.ndarray:
    e1 = p / np.linalg.norm(p)
    e2 = q - (q @ e1) * e1
    e2 /= np.linalg.norm(e2)
    return np.stack([e1, e2, handedness * np.cross(e1, e2)])


def _cluster_orbits(atoms: Atoms, tol: float) -> np.ndarray:
    """Orbit label of each atom under the point group of a finite cluster.

    Every isometry fixing the centroid is fixed by where it sends two non-collinear atoms a, b
    and by its handedness, so trying all images (a', b') with matching radii, angle and
    species finds the whole group; an atom's label is the smallest index it maps onto.
    """
    x = atoms.positions - atoms.positions.mean(0)
    z = atoms.numbers
    r = np.linalg.norm(x, axis=1)
    a = int(np.argmax(r))
    if r[a] < tol:
        return np.zeros(len(atoms), dtype=int)
    cross = np.linalg.norm(np.cross(x[a], x), axis=1)
    b = int(np.argmax(cross))
    labels = np.arange(len(atoms))

    def absorb(y: np.ndarray) -> None:
        d = np.linalg.norm(y[:, None, :] - x[None, :, :], axis=-1)
        d[z[:, None] != z[None, :]] = np.inf
        image = d.argmin(1)
        if d[np.arange(len(x)), image].max() < tol and len(set(image)) == len(x):
            np.minimum.at(labels, np.arange(len(x)), image)

    if cross[b] < tol * max(r[a], 1.0):  # linear: the only non-trivial operation is x -> -x
        absorb(-x)
        return labels
    frame = _frame(x[a], x[b], 1.0)
    for a2 in np.flatnonzero((z == z[a]) & (np.abs(r - r[a]) < tol)):
        for b2 in np.flatnonzero((z == z[b]) & (np.abs(r - r[b]) < tol)):
            if b2 == a2 or abs(x[a2] @ x[b2] - x[a] @ x[b]) > tol * (r[a] + r[b]):
                continue
            for handedness in (1.0, -1.0):
                rotation = _frame(x[a2], x[b2], handedness).T @ frame
                absorb(x @ rotation.T)
    return labels


def _describe(orbits: np.ndarray, symbols: np.ndarray, word: str) -> tuple[dict, str]:
    counts = {s: len(set(orbits[symbols == s])) for s in sorted(set(symbols))}
    text = ", ".join(f"{n} {word}{'s' if n > 1 else ''} for {s}" for s, n in counts.items())
    return counts, text


def classify(atoms: Atoms, cutoff: float, symprec: float = 1e-3) -> InvariantInfo:
    """Is `atoms` an invariant point for a model with this cutoff, and if not, why not.

    Periodic cells (any periodic direction) use spglib's orbits; fully non-periodic clusters
    use their point group found here; `symprec` (Å) is the position tolerance of both.
    """
    if len(atoms) == 0:
        raise ValueError("classify: the structure has no atoms")
    nl = neighbor_list(atoms, cutoff)
    if nl.i.size == 0:
        return InvariantInfo(True, "isolated_atom",
                             f"no atom has a neighbour within {cutoff:g} Å")
    symbols = np.array(atoms.get_chemical_symbols())
    lonely = np.setdiff1d(np.arange(len(atoms)), nl.i)
    if atoms.pbc.any():
        orbits, kind, word = _crystal_orbits(atoms, symprec), "single_orbit_crystal", \
            "Wyckoff orbit"
    else:
        orbits, kind, word = _cluster_orbits(atoms, symprec), "symmetric_cluster", \
            "point-group orbit"
    counts, described = _describe(orbits, symbols, word)
    if lonely.size:
        described += f"; atom {lonely[0]} has no neighbour within {cutoff:g} Å"
        return InvariantInfo(False, None, described)
    if any(n > 1 for n in counts.values()):
        return InvariantInfo(False, None, described)
    if len(counts) > 1:
        return InvariantInfo(False, None, f"{described}, but the split of the total between "
                             "species is not fixed (per-species shift)")
    return InvariantInfo(True, kind, described)


@dataclass
class InvariantPoint:
    """One labelled structure at an invariant point and its reference atomic energies."""

    index: int
    kind: str
    family: str
    reference_eV_per_atom: float  # mean over the atoms of `reference_eV_by_element`
    reference_eV_by_element: dict[str, float]
    volume_A3_per_atom: float | None
    n_atoms: int

    def to_dict(self) -> dict:
        return asdict(self)

    def reference_per_atom(self, atoms: Atoms) -> np.ndarray:
        """Reference E_i (eV) of each atom of the structure this point came from."""
        return np.array([self.reference_eV_by_element[s] for s in atoms.get_chemical_symbols()])


def family_of(atoms: Atoms, kind: str) -> str:
    """Group name for reports: the phase or probe family when known, else from the kind."""
    for key in ("phase", "probe_family"):
        if key in atoms.info:
            return str(atoms.info[key])
    if kind == "symmetric_cluster":
        return "dimer" if len(atoms) == 2 else f"cluster{len(atoms)}"
    if kind != "single_orbit_crystal":
        return kind
    dataset = symmetry_dataset(atoms)
    return dataset.international if dataset is not None else "crystal"


def _references(atoms: Atoms, kind: str, energy: float,
                isolated_atom_energies: dict[str, float] | None) -> dict[str, float] | str:
    """Reference E_i per element, or the reason why the label does not fix them."""
    species = sorted(set(atoms.get_chemical_symbols()))
    known = isolated_atom_energies or {}
    if kind == "isolated_atom" and all(s in known for s in species):
        return {s: float(known[s]) for s in species}
    if len(species) == 1:
        return {species[0]: energy / len(atoms)}
    return (f"isolated atoms of {', '.join(species)}: one total cannot fix each element's "
            "energy; give isolated_atom_energies")


def find_invariant_points(structures: Sequence[Atoms], energies: Sequence[float],
                          cutoff: float, isolated_atom_energies: dict[str, float] | None = None,
                          symprec: float = 1e-3, with_reasons: bool = False):
    """Invariant points among labelled structures, with their reference atomic energies.

    `energies` are the labelled totals (eV). Crystals and clusters have E_i = E/N. Isolated
    atoms take the given isolated-atom energies when known (their own label otherwise, which
    fixes E_i only for a single element). Returns the points, and with `with_reasons` also
    {index: reason} for the rejected structures.
    """
    points, rejected = [], {}
    for index, (atoms, energy) in enumerate(zip(structures, energies, strict=True)):
        info = classify(atoms, cutoff, symprec)
        if not info.is_invariant:
            rejected[index] = info.reason
            continue
        references = _references(atoms, info.kind, float(energy), isolated_atom_energies)
        if isinstance(references, str):
            rejected[index] = references
            continue
        mean = float(np.mean([references[s] for s in atoms.get_chemical_symbols()]))
        volume = atoms.get_volume() / len(atoms) if atoms.pbc.all() else None
        points.append(InvariantPoint(index, info.kind, family_of(atoms, info.kind), mean,
                                     references, volume, len(atoms)))
    return (points, rejected) if with_reasons else points


def probe_families(symbol: str = "Si", volume_factors: Sequence[float] = (0.86, 0.92, 1.0,
                                                                          1.08, 1.16),
                   phases: Sequence[str] = PHASES, volumes_per_atom: Sequence[float] | None = None,
                   include_dimer: bool = True,
                   dimer_distances: Sequence[float] = (2.1, 2.3, 2.6),
                   include_isolated: bool = True) -> list[Atoms]:
    """Unlabelled probe structures at invariant points: phases over volume, dimers, the atom.

    Each phase is built at `volumes_per_atom` (Å³) when given, else at `volume_factors` times
    its own default volume (phases differ by ~40 % in equilibrium volume). Label them with any
    ASE calculator (a DFT code or a teacher) and pass them to `audit`.
    """
    from nnpcalc.sampling import DEFAULT_VOLUME

    probes = []
    for phase in phases:
        volumes = (volumes_per_atom if volumes_per_atom is not None
                   else [DEFAULT_VOLUME[phase] * f for f in volume_factors])
        for v in volumes:
            atoms = crystal(phase, symbol, v)
            atoms.info["probe_family"] = phase
            probes.append(atoms)
    for d in dimer_distances if include_dimer else ():
        atoms = dimer(symbol, d)
        atoms.info["probe_family"] = "dimer"
        probes.append(atoms)
    if include_isolated:
        atoms = isolated_atom(symbol)
        atoms.info["probe_family"] = "isolated_atom"
        probes.append(atoms)
    return probes
