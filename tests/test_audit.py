"""The audit gives each verdict to a calculator built to deserve it, with numbers computed here."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from nnpcalc.analysis.audit import audit
from nnpcalc.analysis.audit_report import write_audit_report
from nnpcalc.analysis.invariant import probe_families
from nnpcalc.neighbors import neighbor_list
from nnpcalc.sampling import crystal, vacancy
from nnpcalc.teachers import SWCalculator

DELTA = 0.05  # eV


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


def test_works_for_calculators_without_descriptors_or_predict(data):
    from ase.calculators.calculator import Calculator, all_changes

    class Plain(Calculator):
        implemented_properties = ["energy", "energies", "forces"]
        cutoff = 3.77

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            res = SWCalculator().predict([self.atoms])[0]
            self.results = {k: res[k] for k in ("energy", "energies", "forces")}

    training, probes = data
    result = audit(Plain(), training, probes=probes[:4])
    assert result.verdict == "physical"
    assert all(np.isfinite(p.coverage_distance) for p in result.points)
