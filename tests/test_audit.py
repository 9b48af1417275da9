"""The audit gives each verdict to a calculator built to deserve it, with numbers computed here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.neighborlist import neighbor_list as ase_neighbor_list

from nnpcalc.analysis.audit import audit
from nnpcalc.analysis.audit_report import write_audit_report
from nnpcalc.analysis.invariant import probe_families
from nnpcalc.neighbors import neighbor_list
from nnpcalc.sampling import crystal, vacancy
from nnpcalc.teachers import SWCalculator

DELTA = 0.05  # eV
ZERO_SUM = 1.0  # eV per unit of s_i in ZeroSumSW


class ShiftedSW(SWCalculator):
    """SW plus a per-atom shift on over-coordinated atoms (≥ 8 neighbours within 2.9 Å).

    Diamond-like training cells never have such atoms, so their totals stay exact; close-packed
    probes get every atomic energy shifted by DELTA — a wrong mapping the totals cannot see.
    """

    def predict(self, structures, forces=True, stress=True):
        results = super().predict(structures, forces, stress)
        for atoms, res in zip(structures, results, strict=True):
            nl = neighbor_list(atoms, 2.9)
            coordination = np.bincount(nl.i, minlength=len(atoms))
            shift = np.where(coordination >= 8, DELTA, 0.0)
            res["energies"] = res["energies"] + shift
            res["energy"] = float(res["energy"] + shift.sum())
        return results


class ZeroSumSW(SWCalculator):
    """SW with E_i += ZERO_SUM·(s_i − mean s), s_i = Σ_j exp(−r_ij) over neighbours within 3 Å.

    Every total stays exact and every invariant point keeps E_i = E/N (all s_i equal there),
    yet the atomic energies of rattled and defective cells are wrong. Only a non-local model
    can do this (the mean runs over the structure); the audit must call it physical and show
    the damage only in the hidden-partition comparison.
    """

    def predict(self, structures, forces=True, stress=True):
        results = super().predict(structures, forces, stress)
        for atoms, res in zip(structures, results, strict=True):
            nl = neighbor_list(atoms, 3.0)
            s = np.bincount(nl.i, weights=np.exp(-nl.distances), minlength=len(atoms))
            res["energies"] = res["energies"] + ZERO_SUM * (s - s.mean())
        return results


class ScaledSW(SWCalculator):
    def predict(self, structures, forces=True, stress=True):
        results = super().predict(structures, forces, stress)
        for res in results:
            res["energies"] = 1.1 * res["energies"]
            res["energy"] = 1.1 * res["energy"]
        return results


def labelled(structures):
    for atoms, res in zip(structures, SWCalculator().predict(structures), strict=True):
        atoms.calc = SinglePointCalculator(atoms, energy=res["energy"], forces=res["forces"])
        atoms.arrays["energies_vertex"] = res["energies_vertex"]
    return structures


@pytest.fixture(scope="module")
def data():
    cell = bulk("Si", "diamond", 5.43, cubic=True)
    training = [crystal("diamond", volume_per_atom=v) for v in (19.0, 20.45, 22.0)]
    for k in range(3):
        r = cell.copy()
        r.rattle(0.08, seed=k)
        training.append(r)
    training.append(vacancy(cell.repeat((2, 1, 1)), 0))
    probes = probe_families("Si", volume_factors=(0.95, 1.05),
                            phases=("diamond", "fcc", "bcc", "hcp"), include_isolated=False)
    return labelled(training), labelled(probes)


def test_teacher_audited_against_itself_is_physical(data, tmp_path):
    training, probes = data
    result = audit(SWCalculator(), training, probes=probes, isolated_atom_energies={"Si": 0.0})
    assert result.verdict == "physical"
    assert result.held_out_mapping_rmse_meV == pytest.approx(0.0, abs=1e-6)
    assert result.energy_rmse_meV_per_atom["training"] == pytest.approx(0.0, abs=1e-6)
    assert result.hidden_partition_rmse_meV["training/vacancy"] == pytest.approx(0.0, abs=1e-6)
    def coverage(family):
        return [p.coverage_distance for p in result.points
                if p.source == "probe" and p.family == family]

    # diamond probes sit between training volumes; close-packed phases are far from all data
    assert max(coverage("diamond")) < 0.5 * min(coverage("fcc") + coverage("hcp"))
    path = write_audit_report(result, tmp_path)
    assert "physical" in path.read_text() and (tmp_path / "audit.html").is_file()


def test_hidden_mis_mapping_at_probes_is_flagged_ad_hoc(data):
    training, probes = data
    result = audit(ShiftedSW(), training, probes=probes)
    assert result.energy_rmse_meV_per_atom["training"] == pytest.approx(0.0, abs=1e-6)
    # Expected: fcc, bcc and hcp probes (6 of 8 crystal probes; coordination 12/8/12) are off
    # by DELTA, diamond probes and dimers are exact.
    n_shifted = sum(1 for a in probes if a.info["probe_family"] in ("fcc", "bcc", "hcp"))
    n_held = sum(1 for p in result.points if p.source == "probe")
    expected = 1000 * DELTA * np.sqrt(n_shifted / n_held)
    assert result.held_out_mapping_rmse_meV == pytest.approx(expected, rel=1e-6)
    assert result.mapping_rmse_meV_by_family["fcc"] == pytest.approx(1000 * DELTA, rel=1e-6)
    assert result.mapping_rmse_meV_by_family["diamond"] == pytest.approx(0.0, abs=1e-6)
    assert result.verdict == "ad hoc mapping"


def test_hidden_mis_mapping_per_source_family_and_coverage(data):
    training, probes = data
    rattled_fcc = crystal("fcc", volume_per_atom=14.5).repeat(2)
    rattled_fcc.rattle(0.05, seed=5)
    validation = labelled([crystal("fcc", volume_per_atom=14.5), rattled_fcc])
    result = audit(ShiftedSW(), training, probes=probes, validation=validation)
    stats = result.mapping_stats_meV
    assert stats["training"]["all"]["max_abs_meV"] == pytest.approx(0.0, abs=1e-6)
    assert stats["validation"]["fcc"] == pytest.approx(
        {"rmse_meV": 1000 * DELTA, "max_abs_meV": 1000 * DELTA, "n_points": 1})
    assert stats["probe"]["bcc"]["max_abs_meV"] == pytest.approx(1000 * DELTA)
    assert stats["probe"]["dimer"]["n_points"] == 3
    # both validation cells are off by DELTA per atom (every fcc atom has 12 neighbours < 2.9 Å)
    assert result.energy_rmse_meV_per_atom["validation"] == pytest.approx(1000 * DELTA)
    # the perfect fcc cell is an invariant point: its error counts on the mapping side only;
    # the rattled one is a general structure, so it spoils the fit
    assert result.fit_energy_rmse_meV_per_atom["validation_non_invariant"] == pytest.approx(
        1000 * DELTA)
    assert result.verdict == "poor fit"
    only_crystal = audit(ShiftedSW(), training, probes=probes, validation=validation[:1])
    assert "validation_non_invariant" not in only_crystal.fit_energy_rmse_meV_per_atom
    assert only_crystal.verdict == "ad hoc mapping"
    # diamond probes interpolate between training volumes: covered, and exact there
    covered = result.held_out_by_coverage["covered"]
    assert covered["n_points"] >= 2 and covered["max_abs_meV"] == pytest.approx(0, abs=1e-6)
    far = result.held_out_by_coverage["extrapolated"]
    assert far["rmse_meV"] == pytest.approx(1000 * DELTA * np.sqrt(7 / far["n_points"]))


def test_non_local_zero_sum_shift_is_invisible_at_invariant_points(data):
    training, probes = data
    result = audit(ZeroSumSW(), training, probes=probes, isolated_atom_energies={"Si": 0.0})
    assert result.verdict == "physical"
    assert result.held_out_mapping_max_meV == pytest.approx(0.0, abs=1e-6)
    assert result.energy_rmse_meV_per_atom["training"] == pytest.approx(0.0, abs=1e-6)

    def expected(structures):  # independent neighbour list (ASE's), same shift definition
        diffs = []
        for atoms in structures:
            i, d = ase_neighbor_list("id", atoms, 3.0)
            s = np.bincount(i, weights=np.exp(-d), minlength=len(atoms))
            diffs.append(1000 * ZERO_SUM * (s - s.mean()))
        return np.sqrt(np.mean(np.concatenate(diffs) ** 2))

    rattled = [a for a in training if "config_type" not in a.info]
    vacancies = [a for a in training if a.info.get("config_type") == "vacancy"]
    hidden = result.hidden_partition_rmse_meV
    assert hidden["training/all"] == pytest.approx(expected(rattled), rel=1e-9)
    assert hidden["training/vacancy"] == pytest.approx(expected(vacancies), rel=1e-9)
    assert hidden["training/all"] > 5.0 and hidden["training/crystal_diamond"] < 1e-6


def test_near_invariant_atoms_are_compared_with_their_crystal():
    calc = SWCalculator()
    training = [crystal("diamond", volume_per_atom=v) for v in (19.0, 20.45, 22.0)]
    nudged = crystal("diamond", volume_per_atom=20.45).repeat(2)
    nudged.positions[0] += [0.01, 0.004, -0.006]
    training = labelled([*training, nudged])
    result = audit(calc, training)
    near = result.near_invariant["by_family"]
    assert list(near) == ["training/diamond"] and near["training/diamond"]["n_atoms"] == 16
    res = calc.predict([nudged, training[1]])
    deviation = 1000 * (res[0]["energies"] - res[1]["energy"] / len(training[1]))
    assert near["training/diamond"]["rmse_meV"] == pytest.approx(
        np.sqrt(np.mean(deviation**2)), rel=1e-9)
    assert 0 < near["training/diamond"]["mean_distance"] < 0.05


def test_bad_input_is_named(data):
    training, _ = data
    unlabelled = [crystal("diamond")]
    with pytest.raises(ValueError, match="no energy label"):
        audit(SWCalculator(), unlabelled)
    with pytest.raises(ValueError, match="needs the training structures"):
        audit(SWCalculator(), [])


def test_wrong_totals_are_a_poor_fit(data):
    training, probes = data
    result = audit(ScaledSW(), training, probes=probes)
    assert result.verdict == "poor fit"
    expected = 1000 * 0.1 * np.sqrt(np.mean([(a.get_potential_energy() / len(a)) ** 2
                                             for a in training]))
    assert result.energy_rmse_meV_per_atom["training"] == pytest.approx(expected, rel=1e-6)


def test_without_held_out_points_the_verdict_is_undetermined(data):
    training, _ = data
    result = audit(SWCalculator(), training)
    assert result.verdict == "undetermined"
    assert result.mapping_rmse_meV["training"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("with_energies", [True, False])
def test_works_for_calculators_without_descriptors_or_predict(data, with_energies):
    from ase.calculators.calculator import Calculator, all_changes

    keys = ("energy", "energies", "forces") if with_energies else ("energy", "forces")

    class Plain(Calculator):
        implemented_properties = list(keys)

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            res = SWCalculator().predict([self.atoms])[0]
            self.results = {k: res[k] for k in keys}

    training, probes = data
    with pytest.raises(ValueError, match="cutoff"):
        audit(Plain(), training, probes=probes[:4])
    result = audit(Plain(), training, probes=probes[:4], cutoff=3.77)
    assert result.verdict == "physical"
    assert all(np.isfinite(p.coverage_distance) for p in result.points)
    # totals alone still audit invariant points (E_i = E/N there) but no atom off them
    assert (result.near_invariant["n_atoms"] > 0) == with_energies


def test_cli_matches_the_library(data, si_model, tmp_path, capsys):
    import ase.io

    from nnpcalc.calculator import NNPCalculator
    from nnpcalc.cli import main
    from nnpcalc.models.model_file import save_model

    training, probes = data
    model_path = save_model(si_model, tmp_path / "model.pt")
    for name, items in (("train", training[3:]), ("val", training[:3]), ("probes", probes)):
        ase.io.write(tmp_path / f"{name}.extxyz", items)
    assert main(["audit", str(model_path), "--data", str(tmp_path / "train.extxyz"),
                 "--validation", str(tmp_path / "val.extxyz"),
                 "--probes", str(tmp_path / "probes.extxyz"), "--isolated-energy", "Si=0.0",
                 "--out", str(tmp_path / "out")]) == 0
    written = json.loads((tmp_path / "out" / "audit.json").read_text())
    direct = audit(NNPCalculator(model_path), training[3:], probes=probes,
                   validation=training[:3], isolated_atom_energies={"Si": 0.0})
    assert written["verdict"] == direct.verdict
    assert written["held_out_mapping_rmse_meV"] == pytest.approx(
        direct.held_out_mapping_rmse_meV, rel=1e-6)
    assert set(written["mapping_stats_meV"]) == {"validation", "probe", "isolated"}
    assert "report:" in capsys.readouterr().out


def test_two_legitimate_partitions_agree_at_invariant_points_only(data):
    """SW's LAMMPS partition (3-body term on the vertex's neighbours) against vertex labels:
    same totals, same E/N at every invariant point, different atomic energies elsewhere."""
    training, probes = data
    result = audit(SWCalculator(partition="lammps"), training, probes=probes,
                   isolated_atom_energies={"Si": 0.0})
    assert result.verdict == "physical"
    assert result.held_out_mapping_max_meV == pytest.approx(0.0, abs=1e-6)
    rattled = [a for a in training if "config_type" not in a.info]
    res = SWCalculator().predict(rattled)
    gap = np.concatenate([r["energies_lammps"] - r["energies_vertex"] for r in res])
    assert result.hidden_partition_rmse_meV["training/all"] == pytest.approx(
        1000 * np.sqrt(np.mean(gap**2)), rel=1e-9)
    assert result.hidden_partition_rmse_meV["training/all"] > 5.0
