"""Invariant-point detection: which structures pin atomic energies, and why others do not."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from nnpcalc.analysis.invariant import classify, find_invariant_points, probe_families
from nnpcalc.sampling import PHASES, crystal, strained, vacancy
from nnpcalc.teachers import SWCalculator


@pytest.mark.parametrize("phase", PHASES)
def test_every_probe_phase_is_a_single_orbit_crystal(phase):
    info = classify(crystal(phase).repeat(2), cutoff=6.0)
    assert info.is_invariant and info.kind == "single_orbit_crystal", info.reason
    assert info.reference_rule == "E_i = E/N"


def test_strained_crystal_stays_invariant_when_the_orbit_stays_single():
    info = classify(strained(crystal("diamond"), [0.02, -0.01, 0.0, 0.0, 0.0, 0.0]), 6.0)
    assert info.is_invariant
    sheared = strained(crystal("fcc"), [0.0, 0.0, 0.0, 0.03, 0.01, 0.02])
    assert classify(sheared, 6.0).is_invariant  # one atom per cell: always one orbit


def test_vacancy_rattled_and_two_orbit_cells_are_not_invariant():
    cell = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
    info = classify(vacancy(cell, 0), 6.0)
    assert not info.is_invariant and "Wyckoff orbits for Si" in info.reason
    rattled = cell.copy()
    rattled.rattle(0.05, seed=1)
    assert not classify(rattled, 6.0).is_invariant
    # layers at unequal spacings along z: no operation maps one atom onto another
    layered = Atoms("Si3", positions=[[0, 0, 0], [0, 0, 2.3], [0, 0, 4.9]],
                    cell=[2.8, 2.8, 7.3], pbc=True)
    info = classify(layered, 6.0)
    assert not info.is_invariant and info.reason.startswith("3 Wyckoff orbits")


def test_two_species_are_not_pinned_even_with_one_orbit_each():
    info = classify(bulk("SiC", "zincblende", 4.36), 6.0)
    assert not info.is_invariant and "per-species shift" in info.reason


def test_isolated_atom_and_dimers():
    atom = classify(Atoms("Si", positions=[[0, 0, 0]]), 6.0)
    assert atom.kind == "isolated_atom" and "isolated-atom energy" in atom.reference_rule
    far = Atoms("Si2", positions=[[0, 0, 0], [7.0, 0, 0]])
    assert classify(far, 6.0).kind == "isolated_atom"
    assert classify(Atoms("Si2", positions=[[0, 0, 0], [2.3, 0, 0]]), 6.0).kind == \
        "symmetric_cluster"
    trimer = Atoms("Si3", positions=[[0, 0, 0], [2.3, 0, 0], [0, 2.4, 0]])
    assert not classify(trimer, 6.0).is_invariant
    # a dimer plus a far atom: the far atom alone is not enough to pin the dimer's split
    lonely = Atoms("Si3", positions=[[0, 0, 0], [2.3, 0, 0], [20.0, 0, 0]])
    info = classify(lonely, 6.0)
    assert not info.is_invariant and "atom 2 has no neighbour" in info.reason


def _randomly_placed(atoms: Atoms, seed: int) -> Atoms:
    """Same cluster, rotated by a random proper or improper orthogonal matrix and shifted."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    out = atoms.copy()
    out.positions = atoms.positions @ q.T + rng.normal(size=3) * 5
    return out


@pytest.mark.parametrize("seed", range(3))
def test_symmetric_clusters_are_found_in_any_orientation(seed):
    s3 = np.sqrt(3)
    triangle = Atoms("Si3", positions=[[0, 0, 0], [2.3, 0, 0], [1.15, 1.15 * s3, 0]])
    tetrahedron = Atoms("Si4", positions=1.3 * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1],
                                                          [-1, -1, 1]]))
    octahedron = Atoms("Si6", positions=1.7 * np.vstack([np.eye(3), -np.eye(3)]))
    for cluster in (triangle, tetrahedron, octahedron):
        info = classify(_randomly_placed(cluster, seed), 6.0)
        assert info.is_invariant and info.kind == "symmetric_cluster", info.reason
    # isosceles triangle: apex vs base atoms; square pyramid: apex vs base
    isosceles = Atoms("Si3", positions=[[0, 0, 0], [2.3, 0, 0], [1.15, 2.5, 0]])
    pyramid = Atoms("Si5", positions=[[1.2, 1.2, 0], [1.2, -1.2, 0], [-1.2, 1.2, 0],
                                      [-1.2, -1.2, 0], [0, 0, 1.9]])
    linear = Atoms("Si3", positions=[[0, 0, 0], [2.3, 0, 0], [4.6, 0, 0]])
    # S4 images of two general points: point group S4 alone, whose proper part (C2) would
    # split each 4-atom orbit in two
    s4 = Atoms("Si8", positions=[p for x, y, z in ((1.6, 0.5, 0.7), (0.4, 2.1, -1.2))
                                 for p in ([x, y, z], [y, -x, -z], [-x, -y, z], [-y, x, -z])])
    for cluster in (isosceles, pyramid, linear, s4):
        info = classify(_randomly_placed(cluster, seed), 6.0)
        assert not info.is_invariant and info.reason == "2 point-group orbits for Si"


def test_any_two_atom_cell_is_one_orbit_three_random_atoms_are_not():
    # inversion through the midpoint maps two identical atoms onto each other in any cell
    rng = np.random.default_rng(4)
    cell = np.eye(3) * 3.0 + rng.normal(scale=0.3, size=(3, 3))
    pair = Atoms("Si2", scaled_positions=rng.random((2, 3)), cell=cell, pbc=True)
    assert classify(pair, 6.0).is_invariant
    triple = Atoms("Si3", scaled_positions=rng.random((3, 3)), cell=cell, pbc=True)
    assert classify(triple, 6.0).reason == "3 Wyckoff orbits for Si"


def test_isolated_atoms_of_two_elements_need_isolated_energies():
    pair = Atoms("SiC", positions=[[0, 0, 0], [9.0, 0, 0]])
    points, rejected = find_invariant_points([pair], [-5.0], 6.0, with_reasons=True)
    assert not points and "isolated_atom_energies" in rejected[0]
    points = find_invariant_points([pair], [-5.0], 6.0, {"Si": -0.8, "C": -1.3})
    assert points[0].reference_eV_by_element == {"Si": -0.8, "C": -1.3}
    assert points[0].reference_eV_per_atom == pytest.approx(-1.05)


def test_probe_families_at_absolute_volumes():
    probes = probe_families("Si", volumes_per_atom=(15.0, 20.0), phases=("fcc", "sh"),
                            include_dimer=False, include_isolated=False)
    volumes = [a.get_volume() / len(a) for a in probes]
    assert volumes == pytest.approx([15.0, 20.0, 15.0, 20.0])
    assert [a.info["probe_family"] for a in probes] == ["fcc", "fcc", "sh", "sh"]


def test_find_invariant_points_references_and_reasons():
    calc = SWCalculator()
    structures = probe_families("Si", volume_factors=(0.95, 1.05), phases=("diamond", "fcc"))
    cell = bulk("Si", "diamond", 5.43, cubic=True).repeat(2)
    structures.append(vacancy(cell, 3))
    energies = [r["energy"] for r in calc.predict(structures)]
    points, rejected = find_invariant_points(structures, energies, cutoff=calc.cutoff,
                                             isolated_atom_energies={"Si": 0.0},
                                             with_reasons=True)
    assert list(rejected) == [len(structures) - 1]
    families = {p.family for p in points}
    assert families == {"diamond", "fcc", "dimer", "isolated_atom"}
    assert {p.kind for p in points if p.family == "dimer"} == {"symmetric_cluster"}
    for p in points:
        assert p.reference_eV_per_atom == pytest.approx(energies[p.index] / p.n_atoms)
    sw_diamond = [p for p in points if p.family == "diamond"]
    assert all(-4.34 < p.reference_eV_per_atom < -4.2 for p in sw_diamond)
    assert np.isclose(min(p.volume_A3_per_atom for p in sw_diamond), 20.45 * 0.95)
