"""Candidate builders: symmetry, volumes, atom counts, geometry of defects, MD snapshots."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.neighborlist import neighbor_list

from nnpcalc.analysis.invariant import symmetry_dataset
from nnpcalc.sampling import (
    PHASES,
    bc8,
    crystal,
    deduplicate,
    diamond_supercell,
    dimer,
    interstitial,
    isolated_atom,
    lonsdaleite,
    md_snapshots,
    polytype,
    rattled,
    strained,
    surface,
    vacancy,
)

SPACE_GROUPS = {"diamond": 227, "beta-sn": 141, "sc": 221, "bcc": 229, "fcc": 225, "hcp": 194,
                "sh": 191}


@pytest.mark.parametrize("phase", PHASES)
def test_phases_have_their_space_group_and_requested_volume(phase):
    atoms = crystal(phase, volume_per_atom=17.3)
    assert atoms.get_volume() / len(atoms) == pytest.approx(17.3)
    assert symmetry_dataset(atoms).number == SPACE_GROUPS[phase]
    assert atoms.info["config_type"] == f"crystal_{phase}"


def test_default_diamond_volume_is_near_pbe_equilibrium():
    assert crystal("diamond").get_volume() / 2 == pytest.approx(5.47**3 / 8, rel=0.01)


def test_clusters_are_non_periodic_with_the_requested_geometry():
    atom = isolated_atom("Si", box=10.0)
    assert len(atom) == 1 and not atom.pbc.any() and atom.info["config_type"] == "isolated_atom"
    pair = dimer("Si", 2.31)
    assert not pair.pbc.any() and pair.get_distance(0, 1) == pytest.approx(2.31)


def test_vacancy_removes_and_interstitials_add_one_atom():
    cell = diamond_supercell("Si", 5.43, 2)
    assert len(vacancy(cell)) == 63
    for kind in ("tetrahedral", "hexagonal", "split110"):
        assert len(interstitial(kind, size=2)) == 65
        assert interstitial(kind, size=1).info["config_type"] == f"interstitial_{kind}"


def test_interstitial_sites_have_their_neighbour_shells():
    d = interstitial("tetrahedral", size=2).get_all_distances(mic=True)[-1]
    assert np.sort(d)[1:5] == pytest.approx([np.sqrt(3) / 4 * 5.43] * 4)  # 4 bonds at T site
    hexa = interstitial("hexagonal", size=2).get_all_distances(mic=True)[-1]
    assert np.sort(hexa)[1:7] == pytest.approx([np.sqrt(11) / 8 * 5.43] * 6)  # 6-ring centre
    split = interstitial("split110", size=2)
    site = np.full(3, 5.43 / 4)  # the shared lattice site; the dumbbell is centred on it
    partner = 2 * site - split.positions[-1]
    assert np.linalg.norm(split.positions[:-1] - partner, axis=1).min() < 1e-9
    assert np.linalg.norm(split.positions[-1] - site) == pytest.approx(1.0)


@pytest.mark.parametrize(("kind", "off_site"), [("tetrahedral", 1), ("hexagonal", 1),
                                              ("split110", 2)])
def test_repeated_interstitial_cell_holds_one_defect(kind, off_site):
    """16 sites + 1 in a 2x1x1 cell: only the defect's own atoms leave the lattice (a sliced
    repeat of the 9-atom cell once left a second, unpaired split-<110> host atom)."""
    a0 = 5.43
    cell = interstitial(kind, "Si", a0, 1, repeat=(2, 1, 1))
    assert len(cell) == 17 and np.allclose(cell.cell.lengths(), [2 * a0, a0, a0])
    lattice = diamond_supercell("Si", a0, 1).repeat((2, 1, 1))
    probe = lattice + cell
    n = len(lattice)
    nearest = [probe.get_distances(n + i, range(n), mic=True).min() for i in range(len(cell))]
    assert sum(d > 0.1 for d in nearest) == off_site


def test_strain_changes_volume_and_shape_as_requested():
    base = crystal("fcc")
    s = strained(base, [0.01, 0, 0, 0, 0, 0])
    assert s.get_volume() == pytest.approx(base.get_volume() * 1.01)
    shear = strained(diamond_supercell("Si", 5.43, 1), [0, 0, 0, 0, 0, 0.02])
    assert shear.cell[0, 1] == pytest.approx(0.01 * 5.43) and shear.cell[1, 0] == pytest.approx(
        0.01 * 5.43)  # engineering shear γ_xy = 2 ε_xy
    assert shear.info["config_type"] == "crystal_diamond_strained"


def test_surfaces_have_vacuum_and_bad_names_are_rejected():
    slab = surface("111", layers=6, vacuum=5.0)
    assert slab.info["config_type"] == "surface_111" and len(slab) == 6
    z = slab.positions[:, 2]
    assert slab.cell[2, 2] - (z.max() - z.min()) == pytest.approx(10.0)  # vacuum both sides
    assert len(surface("100", layers=4)) == 4
    with pytest.raises(ValueError, match="110"):
        surface("110")
    with pytest.raises(ValueError, match="wurtzite"):
        crystal("wurtzite")
    with pytest.raises(ValueError, match="octahedral"):
        interstitial("octahedral")


def _bond_lengths(atoms, cutoff=2.6):
    i, d = neighbor_list("id", atoms, cutoff)
    return [np.sort(d[i == k]) for k in range(len(atoms))]


def test_bc8_has_the_measured_bonds_on_one_orbit():
    """Kasper & Richards (1964), BC8 Si at a = 6.636 Å, x = 0.1003: one bond of 2.30 Å and
    three of 2.39 Å per atom, all atoms on the 16c orbit of Ia-3 (8 in the primitive cell)."""
    atoms = bc8(volume_per_atom=6.636**3 / 16)
    assert len(atoms) == 8 and symmetry_dataset(atoms).number == 206
    assert len(set(symmetry_dataset(atoms).equivalent_atoms)) == 1
    for bonds in _bond_lengths(atoms):
        np.testing.assert_allclose(bonds, [2.30, 2.39, 2.39, 2.39], atol=0.01)
    assert atoms.get_volume() / 8 == pytest.approx(6.636**3 / 16)


def test_lonsdaleite_keeps_the_diamond_bond_at_equal_volume():
    atoms = lonsdaleite(volume_per_atom=20.0)
    assert len(atoms) == 4 and symmetry_dataset(atoms).number == 194
    assert len(set(symmetry_dataset(atoms).equivalent_atoms)) == 1
    diamond_bond = np.sqrt(3) / 4 * (8 * 20.0) ** (1 / 3)
    for bonds in _bond_lengths(atoms, cutoff=1.1 * diamond_bond):
        np.testing.assert_allclose(bonds, [diamond_bond] * 4, rtol=1e-9)


def _shells(atoms, cutoff: float = 6.0) -> np.ndarray:
    """Every atom's sorted neighbour distances within `cutoff`, the atoms sorted."""
    i, d = neighbor_list("id", atoms, cutoff)
    return np.array(sorted(tuple(np.round(np.sort(d[i == k]), 6)) for k in range(len(atoms))))


@pytest.mark.parametrize(("stacking", "reference", "orbits"), [
    ("ABC", lambda v: crystal("diamond", volume_per_atom=v), 1),
    ("AB", lambda v: lonsdaleite(volume_per_atom=v), 1),
    ("ABCB", None, 2), ("ABCACB", None, 3)])
def test_polytypes_are_diamond_and_lonsdaleite_and_mix_their_sites(stacking, reference, orbits):
    """ABC stacking has diamond's neighbour shells out to 6 Å (the 5 Å models' reach), AB
    lonsdaleite's; 4H and 6H keep every bond and the volume, with 2 and 3 orbits of sites."""
    atoms = polytype(stacking, volume_per_atom=20.0)
    assert atoms.get_volume() / len(atoms) == pytest.approx(20.0)
    assert len(set(symmetry_dataset(atoms).equivalent_atoms)) == orbits
    diamond_bond = np.sqrt(3) / 4 * (8 * 20.0) ** (1 / 3)
    for bonds in _bond_lengths(atoms, cutoff=1.1 * diamond_bond):
        np.testing.assert_allclose(bonds, [diamond_bond] * 4, rtol=1e-9)
    if reference is not None:
        ref = _shells(reference(20.0))
        np.testing.assert_allclose(_shells(atoms)[:len(ref)], ref, atol=1e-5)
    with pytest.raises(ValueError, match="no letter twice in a row"):
        polytype(stacking + stacking[0])


def test_rattled_keeps_the_kind():
    assert rattled(vacancy(diamond_supercell()), 0.05).info["config_type"] == "vacancy_rattled"


def test_deduplicate_drops_near_copies():
    base = diamond_supercell("Si", 5.43, 1)
    copies = [base, rattled(base, 1e-4, seed=1), rattled(base, 0.2, seed=2)]
    kept = deduplicate(copies, lambda a: a.get_all_distances(mic=True), tol=1e-2)
    assert len(kept) == 2


def test_md_snapshots_are_thermal_and_distinct():
    cu = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    snaps = md_snapshots(cu, EMT(), 300, 3, interval=10, seed=0, equilibrate=40,
                         config_type="hot")
    assert len(snaps) == 3 and all(s.info["config_type"] == "hot" for s in snaps)
    for snap in snaps:
        disp = snap.positions - cu.positions
        disp -= disp.mean(axis=0)
        rms = np.sqrt((disp**2).sum(axis=1).mean())
        assert 0.02 < rms < 0.4  # Cu at 300 K: ~0.1 Å; neither frozen nor molten
    assert not np.allclose(snaps[0].positions, snaps[1].positions)
    again = md_snapshots(cu, EMT(), 300, 1, interval=10, seed=0, equilibrate=40)
    assert np.allclose(again[0].positions, snaps[0].positions)  # seeded
