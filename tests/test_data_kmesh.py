"""k-point convergence of the shipped labels, family by family (data/kmesh_families.json,
written by scripts/kmesh_families.py), and the baselines built from those labels."""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.build import bulk

DATA = Path(__file__).resolve().parents[1] / "data"
TOLERANCE_MEV = 2.0  # the data set's k-point target, meV/atom
TABLE = json.loads((DATA / "kmesh_families.json").read_text())
MESH_STEP = json.loads((DATA / "diamond_mesh_step.json").read_text())["cells"]
STEP_KEY = "dft_kmesh_step_eV_per_atom"
# diamond-lattice supercells whose shipped shifted density-3 mesh folds differently from the
# 2-atom cells' (scripts/diamond_mesh_step.py)
SHIFTED_FAMILIES = {"crystal_diamond_rattled", "crystal_diamond_sheared_rattled",
                    "crystal_diamond_strained_rattled", "hot_crystal", "vacancy_rattled",
                    "vacancy_relaxed_pbe", "crystal_diamond_64"}
FAMILIES = TABLE["families"]
VACANCY_CHECK = json.loads((DATA / "vacancy_kmesh_check.json").read_text())


@pytest.fixture(scope="module")
def dataset():
    return ase.io.read(DATA / "si_pbe.extxyz", ":")


def test_every_family_in_the_data_has_a_kmesh_entry(dataset):
    present = {a.info["config_type"] for a in dataset}
    assert present <= set(FAMILIES), present - set(FAMILIES)
    assert TABLE["converged"] == {"kpoint_density": 8.0, "kpoint_gamma": True,
                                  "kpoint_density_1_2_atom_metal_cells": 12.0,
                                  "pw_cutoff_eV": 350, "smearing": "Fermi-Dirac 0.05 eV"}


def test_table_describes_the_labels_as_shipped(dataset):
    """A stale table (labels changed after the check) fails here."""
    for ct, entry in FAMILIES.items():
        rep = dataset[entry["representative_index"]]
        assert rep.info["config_type"] == ct
        assert rep.get_potential_energy() / len(rep) == pytest.approx(
            entry["E_label_eV_per_atom"], abs=1e-6), ct
        if entry["checked_on"] == "representative":
            assert entry["E_stored_eV_per_atom"] == entry["E_label_eV_per_atom"]
        reference = entry["E_density_eV_per_atom"][str(entry["checked_density"])]
        assert 1000 * (entry["E_stored_eV_per_atom"] - reference) == pytest.approx(
            entry["dE_stored_meV_per_atom"], abs=1e-9)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_within_2_meV_of_its_converged_mesh(family):
    entry = FAMILIES[family]
    assert abs(entry["dE_stored_meV_per_atom"]) <= TOLERANCE_MEV, (
        f"{family}: shipped label {entry['dE_stored_meV_per_atom']:+.2f} meV/atom from "
        f"density {entry['checked_density']} (Γ-centred)")


def test_relabelled_families_carry_their_mesh(dataset):
    relabelled = {ct: e for ct, e in FAMILIES.items() if e.get("relabelled")}
    # the measured worst cases of the shifted density-3 mesh: 1-atom sc and sh cells
    assert FAMILIES["crystal_sc"]["dE_original_meV_per_atom"] < -30
    assert {"crystal_sc", "crystal_sh", "crystal_sc_rattled"} <= set(relabelled)
    assert FAMILIES["crystal_sc_rattled"]["dE_original_meV_per_atom"] < -30
    for atoms in dataset:
        entry = relabelled.get(atoms.info["config_type"])
        if entry is None:
            continue
        density = entry["relabel_density"]
        assert atoms.info["dft_kpoint_gamma"] and atoms.info["dft_kpoint_density"] == density
        assert atoms.info["dft_kpoints"] == f"density {density} /Angstrom^-1, even Gamma-centred"
        assert atoms.info["dft_pw_cutoff_eV"] == 350  # same energy zero as the rest


def test_reference_mesh_is_converged_for_the_small_metallic_cells():
    """The metallic phase cells are referenced to density 12: it must be converged (against
    16 on the 1-atom cells, where k-point errors are largest) and needed (8 is not enough)."""
    metals = [f"crystal_{p}" for p in ("sc", "bcc", "fcc", "hcp", "sh", "beta-sn")]
    assert all(FAMILIES[ct]["checked_density"] == 12.0 for ct in metals)
    checked = {ct: e["dE_reference_vs_16_meV_per_atom"] for ct, e in FAMILIES.items()
               if "dE_reference_vs_16_meV_per_atom" in e}
    assert {"crystal_sc", "crystal_bcc", "crystal_fcc", "crystal_sh"} <= set(checked)
    assert max(abs(v) for v in checked.values()) <= 1.0, checked
    density8 = [1000 * abs(FAMILIES[ct]["E_density_eV_per_atom"]["8.0"]
                           - FAMILIES[ct]["E_density_eV_per_atom"]["12.0"]) for ct in metals]
    assert max(density8) > 1.0


def test_baseline_invariant_curves_are_the_shipped_labels(dataset):
    curves = json.loads((DATA / "si_pbe_baselines.json").read_text())["invariant_curves"]
    for phase, curve in curves.items():
        cells = sorted((a for a in dataset if a.info.get("config_type") == f"crystal_{phase}"),
                       key=lambda a: a.get_volume() / len(a))
        assert len(cells) == len(curve["volume_A3_per_atom"]) >= 5
        np.testing.assert_allclose([a.get_volume() / len(a) for a in cells],
                                   curve["volume_A3_per_atom"], atol=1e-9)
        np.testing.assert_allclose([a.get_potential_energy() / len(a) for a in cells],
                                   curve["energy_eV_per_atom"], atol=1e-9, err_msg=phase)


def test_diamond_supercells_are_moved_by_their_cells_kmesh_step(dataset):
    """Every diamond-lattice supercell label on the shipped shifted mesh carries the step of its
    perfect cell (measured for the cells in diamond_mesh_step.json), and nothing else moved."""
    for atoms in dataset:
        on_shipped_mesh = atoms.info["dft_kpoints"].endswith("even Monkhorst-Pack")
        expected = atoms.info["config_type"] in SHIFTED_FAMILIES and on_shipped_mesh
        assert (STEP_KEY in atoms.info) == expected, atoms.info["config_type"]
    for cell in MESH_STEP:
        for index in cell["members"]:
            assert 1000 * dataset[index].info[STEP_KEY] == pytest.approx(
                cell["step_meV_per_atom"], abs=1e-9)
    steps = np.array([1000 * a.info[STEP_KEY] for a in dataset if STEP_KEY in a.info])
    # the 8-atom cells' step measured from 17.9 to 23.0 Å³/atom: −1.32 … −1.54 meV/atom; 97
    # labels moved, five of them (the PBE-relaxed and 31-atom vacancy cells) since relabelled
    # on 4 x 4 x 4
    assert len(steps) == 92 and steps.min() > -1.6 and steps.max() < -1.3


def test_moved_labels_agree_with_a_converged_mesh_on_the_rattled_cell_itself():
    """The step was measured on *perfect* cells; GPAW on the rattled representative itself
    (Γ-centred density 8) checks that it carries over to a rattled label: measured +0.96
    meV/atom before the move, −0.39 after. The rattle changes the cell's own k-point error by
    a few tenths of a meV/atom, which no perfect-cell step can carry, hence 0.5."""
    entry = FAMILIES["crystal_diamond_rattled"]
    assert entry["checked_density"] == 8.0 and entry["mesh_step_applied_meV_per_atom"] < -1.3
    assert abs(entry["dE_original_meV_per_atom"]) > 0.9  # it was off before the move
    assert abs(entry["dE_stored_meV_per_atom"]) <= 0.5
    assert abs(entry["dE_stored_meV_per_atom"]) < abs(entry["dE_original_meV_per_atom"])


def test_vacancy_formation_from_the_labels_is_the_baseline(dataset):
    """E(63) − 63/64 E(64) from the labels (the 63-atom cells on 4 x 4 x 4, the 64-atom cell
    moved by its step, which 4 x 4 x 4 confirms) is the baselines' vacancy formation energy."""
    vacancy = min((a for a in dataset if a.info["config_type"] == "vacancy_relaxed_pbe"),
                  key=lambda a: a.get_potential_energy())  # the ground state, as the report
    (perfect,) = [a for a in dataset if a.info["config_type"] == "crystal_diamond_64"]
    formation = (vacancy.get_potential_energy()
                 - len(vacancy) / len(perfect) * perfect.get_potential_energy())
    baselines = json.loads((DATA / "si_pbe_baselines.json").read_text())
    assert formation == pytest.approx(baselines["vacancy64_formation_eV"], abs=2e-3)


def test_labelled_failures_carry_the_vacancy_cells_mesh_correction(dataset):
    """data/si_pbe_active.extxyz (model-relaxed vacancy cells labelled afterwards, on the
    shipped 2 x 2 x 2 mesh, too low in symmetry to recompute on 4 x 4 x 4 here) carries the
    diamond step of the 64-atom lattice and the shift the PBE-relaxed cells measured from that
    mesh to 4 x 4 x 4, so the energies compare: PBE puts every model-relaxed geometry above its
    own relaxed one, which it found a minimum."""
    active = ase.io.read(DATA / "si_pbe_active.extxyz", ":")
    relaxed = [a for a in dataset if a.info["config_type"] == "vacancy_relaxed_pbe"]
    (perfect,) = [a for a in dataset if a.info["config_type"] == "crystal_diamond_64"]
    rows = [r for r in VACANCY_CHECK if r["n"] == 4 and r["config_type"] == "vacancy_relaxed_pbe"]
    shift = np.mean([r["energy_eV"] - r["label_eV"] for r in rows])
    ground = min(a.get_potential_energy() for a in relaxed)
    assert len(active) >= 2 and len(rows) == 2
    for atoms in active:
        assert atoms.info["config_type"] == "vacancy_nnp_relaxed" and len(atoms) == 63
        for key in ("dft_pw_cutoff_eV", "dft_smearing", "dft_xc"):
            assert atoms.info[key] == relaxed[0].info[key], key
        assert atoms.info["dft_kpoints"] == "density 3.0 /Angstrom^-1, even Monkhorst-Pack"
        np.testing.assert_allclose(atoms.cell.array, relaxed[0].cell.array, atol=1e-9)
        assert atoms.info[STEP_KEY] == pytest.approx(perfect.info[STEP_KEY], abs=1e-8)
        assert atoms.info["dft_defect_kmesh_shift_eV"] == pytest.approx(shift, abs=1e-9)
        assert atoms.get_potential_energy() > ground + 0.05, atoms.info["relaxed_by"]


def test_vacancy_cells_are_labelled_on_a_converged_mesh_of_their_own(dataset):
    """data/vacancy_kmesh_check.json (scripts/vacancy_kmesh_check.py, GPAW on shifted n x n x n
    meshes): the perfect 64-atom cell reproduces its raw label on the shipped 2 x 2 x 2 mesh and
    its moved label on 4 x 4 x 4 (so the step is right for it), while the PBE-relaxed vacancy
    cell sits 2.9 meV/atom above its old label on 4 x 4 x 4 (its gap levels disperse: no
    perfect-cell step can carry that) and 4 x 4 x 4 is within 0.2 meV/atom of 6 x 6 x 6. The
    relabelled cells carry their 4 x 4 x 4 energies and forces exactly."""
    rows = {(r["index"], r["n"]): r for r in VACANCY_CHECK}
    (perfect,) = [i for i, a in enumerate(dataset) if a.info["config_type"] == "crystal_diamond_64"]
    assert dataset[perfect].info["label_hash"] == rows[(perfect, 2)]["label_hash"]
    n64 = len(dataset[perfect])
    shipped = rows[(perfect, 2)]
    assert 1000 * abs(shipped["energy_eV"] - shipped["raw_label_eV"]) / n64 < 0.01
    assert 1000 * abs(rows[(perfect, 4)]["energy_eV"]
                      - dataset[perfect].get_potential_energy()) / n64 < 0.01
    relaxed = [i for i, a in enumerate(dataset) if a.info["config_type"] == "vacancy_relaxed_pbe"]
    for index in relaxed:
        atoms, row = dataset[index], rows[(index, 4)]
        assert 2.5 < 1000 * (row["energy_eV"] - row["label_eV"]) / len(atoms) < 3.2  # was off
        assert atoms.info["dft_kpoints"].startswith("4x4x4 Monkhorst-Pack (shifted)")
        assert atoms.get_potential_energy() == pytest.approx(row["energy_eV"], abs=1e-9)
        np.testing.assert_allclose(atoms.get_forces(), row["forces_eV_per_A"], atol=1e-6)
        # relaxed to 0.03 eV/Å on 2 x 2 x 2: the denser mesh barely moves the forces
        assert STEP_KEY not in atoms.info and row["max_force_eV_per_A"] < 0.04
    # the rattled 31-atom vacancy cells (2 x 2 x 1 conventional: two 10.9 Å sides on two
    # k-points, as the 63-atom cell's three) were further off, and are relabelled too
    larger = [i for i, a in enumerate(dataset)
              if a.info["config_type"] == "vacancy_rattled" and len(a) == 31]
    assert len(larger) == 3
    for index in larger:
        atoms, row = dataset[index], rows[(index, 4)]
        assert 3.0 < 1000 * (row["energy_eV"] - row["label_eV"]) / len(atoms) < 4.5
        assert atoms.get_potential_energy() == pytest.approx(row["energy_eV"], abs=1e-9)
        np.testing.assert_allclose(atoms.get_forces(), row["forces_eV_per_A"], atol=1e-6)
        assert STEP_KEY not in atoms.info
    densest = [r for (i, n), r in rows.items() if i in relaxed and n == 6]
    assert densest
    for row in densest:
        assert 1000 * abs(row["energy_eV"] - rows[(row["index"], 4)]["energy_eV"]) / 63 < 0.2
    formation = json.loads((DATA / "si_pbe_baselines.json").read_text())["vacancy64_kmesh"]
    assert formation["mesh_2x2x2_formation_eV"] == pytest.approx(3.461, abs=1e-3)
    for index in relaxed:  # the baseline's block is these rows' E(63) - 63/64 E(64)
        assert formation["formation_energy_eV_by_mesh"]["4x4x4"][str(index)] == pytest.approx(
            rows[(index, 4)]["energy_eV"] - 63 / 64 * rows[(perfect, 4)]["energy_eV"], abs=1e-9)
    members = FAMILIES["vacancy_rattled"]["members_relabelled"]
    assert sorted(int(i) for i in members) == larger
    for index in larger:
        row = rows[(index, 4)]
        assert members[str(index)]["dE_original_meV_per_atom"] == pytest.approx(
            1000 * (row["label_eV"] - row["energy_eV"]) / 31, abs=1e-9)


def _harmonic_energy(atoms) -> float:
    """−½ Σ u·F / N (eV/atom): the energy above the perfect crystal that the forces give for
    displacements u from the diamond sites of the atoms' own (strained 8-atom) cell, exact for
    a harmonic crystal."""
    sites = bulk("Si", "diamond", a=1.0, cubic=True).get_scaled_positions()
    delta = atoms.get_scaled_positions()[:, None] - sites[None]
    delta = (delta - np.round(delta)) @ atoms.cell.array
    nearest = np.argmin(np.linalg.norm(delta, axis=2), axis=1)
    u = delta[np.arange(len(atoms)), nearest]
    return float(-0.5 * np.sum(u * atoms.get_forces()) / len(atoms))


def _labelled_as_their_families(cells: list, dataset: list) -> None:
    """Every cell on its family's settings in si_pbe.extxyz, moved by a k-mesh step where the
    family is — the very step of a data cell with the same lattice, else one on the 8-atom
    cells' measured range — none a cell of the data, DFT forces summing to zero."""
    first = {}
    for atoms in dataset:
        first.setdefault(atoms.info["config_type"], atoms)
    known = {a.info["label_hash"] for a in dataset}
    for atoms in cells:
        reference = first[atoms.info["config_type"]]
        for key in ("dft_kpoints", "dft_pw_cutoff_eV", "dft_smearing", "dft_xc",
                    "dft_spin_polarized", "dft_energy_reference"):
            assert atoms.info[key] == reference.info[key], key
        assert atoms.info["label_hash"] not in known
        assert (STEP_KEY in atoms.info) == (STEP_KEY in reference.info)
        if STEP_KEY in atoms.info:
            same_lattice = [a.info[STEP_KEY] for a in dataset if STEP_KEY in a.info
                            and np.allclose(a.cell.array, atoms.cell.array, atol=1e-6)]
            assert -1.6 < 1000 * atoms.info[STEP_KEY] < -1.3
            assert all(step == pytest.approx(atoms.info[STEP_KEY], abs=1e-12)
                       for step in same_lattice)
        assert np.abs(atoms.get_forces().sum(axis=0)).max() < 0.05


def test_vacancy_and_liquid_cells_are_new_cells_labelled_as_their_families(dataset):
    """data/si_pbe_vacancy_liquid.extxyz (scripts/make_si_vacancy_liquid.py) trains beside the
    split: six 15-atom vacancy cells on the data's 15-atom vacancy lattice (so its very step)
    and four 16-atom liquid snapshots."""
    cells = ase.io.read(DATA / "si_pbe_vacancy_liquid.extxyz", ":")
    assert sorted((a.info["config_type"], len(a)) for a in cells) == (
        [("liquid", 16)] * 4 + [("vacancy_rattled", 15)] * 6)
    lattices = [a.cell.array for a in dataset if a.info["config_type"] == "vacancy_rattled"]
    assert all(any(np.allclose(a.cell.array, cell, atol=1e-6) for cell in lattices)
               for a in cells if a.info["config_type"] == "vacancy_rattled")
    _labelled_as_their_families(cells, dataset)


def test_tail_cells_are_new_cells_labelled_as_their_families(dataset):
    """data/si_pbe_tail.extxyz (scripts/make_si_tail_cells.py) trains beside the split, labelled
    as its families; the strained cells' energies agree with their forces as the family's do:
    the energy above diamond at the same volume (the data's E(V)) against −½ Σ u·F / N, slope
    1.00 on the family's 28 cells (Pearson 0.989), the new cells no further off than the
    family's."""
    tail = ase.io.read(DATA / "si_pbe_tail.extxyz", ":")
    family = "crystal_diamond_strained_rattled"
    assert {a.info["config_type"] for a in tail} == {family, "surface_100_rattled",
                                                     "surface_111_rattled"}
    _labelled_as_their_families(tail, dataset)
    diamond = np.array(sorted((a.get_volume() / len(a), a.get_potential_energy() / len(a))
                              for a in dataset if a.info["config_type"] == "crystal_diamond"))
    curve = np.polyfit(*diamond.T, 4)

    def above_and_harmonic(cells):
        cells = [a for a in cells if a.info["config_type"] == family]
        return np.array([(a.get_potential_energy() / len(a)
                          - np.polyval(curve, a.get_volume() / len(a)), _harmonic_energy(a))
                         for a in cells]).T

    above, harmonic = above_and_harmonic(dataset)
    assert len(above) == 28 and abs(np.polyfit(harmonic, above, 1)[0] - 1) < 0.05
    new_above, new_harmonic = above_and_harmonic(tail)
    # anharmonic at 0.5-1.5 eV/atom: the family's own cells miss by up to 23 %, the new 17 %
    worst = np.max(np.abs(1 - harmonic / above))
    assert len(new_above) == 8 and np.all(np.abs(1 - new_harmonic / new_above) <= worst), worst


def test_rattled_slabs_are_converged_on_denser_in_plane_meshes(dataset):
    """Rattled slabs recomputed on Γ-centred (n, n, 1) meshes (data/slab_kmesh_check.json,
    scripts/slab_kmesh_check.py): the shipped label, of the cell as it is in the data, within
    the target of its densest mesh — a (111) pair that the fits of session 24 set ~9 meV/atom
    apart, and the (100) slab that the density rule gives an 8 x 8 mesh."""
    rows = json.loads((DATA / "slab_kmesh_check.json").read_text())
    densest, meshes = {}, {}
    for row in rows:
        meshes.setdefault(row["index"], set()).add(row["n"])
        atoms = dataset[row["index"]]
        assert row["label_hash"] == atoms.info["label_hash"]
        assert row["label_per_atom"] == pytest.approx(
            atoms.get_potential_energy() / len(atoms), abs=1e-9)
        if row["n"] > densest.get(row["index"], {"n": 0})["n"]:
            densest[row["index"]] = row
    assert {dataset[i].info["config_type"] for i in densest} == {"surface_100_rattled",
                                                                 "surface_111_rattled"}
    for row in densest.values():  # each on its shipped mesh (reproduced) and a denser one
        assert len(meshes[row["index"]]) >= 2 and row["n"] >= 10
        assert abs(row["E_per_atom"] - row["label_per_atom"]) * 1000 < TOLERANCE_MEV, row
