"""Physics of the core model behind NNPCalculator: derivatives, invariances, batching, files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from physics_checks import finite_difference_forces, finite_difference_stress
from structures_factory import (
    random_rotation,
    rattled_diamond,
    rattled_sic,
    si_cluster,
    small_primitive_si,
    triclinic_si,
)

from nnpcalc.calculator import NNPCalculator

CASES = {
    "rattled_diamond": (rattled_diamond, "si_model"),
    "triclinic": (triclinic_si, "si_model"),
    "two_elements": (rattled_sic, "sic_model"),
    "cell_smaller_than_cutoff": (small_primitive_si, "si_model"),
}


@pytest.fixture(params=list(CASES))
def case(request):
    build, model_fixture = CASES[request.param]
    model = request.getfixturevalue(model_fixture)
    return build(), NNPCalculator(model, dtype="float64")


def results(calc, atoms):
    atoms = atoms.copy()
    atoms.calc = calc
    stress = atoms.get_stress() if atoms.pbc.any() else None
    return atoms.get_potential_energy(), atoms.get_forces(), stress


def test_forces_match_finite_differences(case):
    atoms, calc = case
    _, forces, _ = results(calc, atoms)
    reference = finite_difference_forces(calc, atoms, delta=1e-4)
    assert np.abs(forces).max() > 1e-3  # a non-trivial check
    np.testing.assert_allclose(forces, reference, atol=2e-7)


def test_stress_matches_finite_strain(case):
    atoms, calc = case
    _, _, stress = results(calc, atoms)
    reference = finite_difference_stress(calc, atoms, delta=1e-6)
    assert np.abs(stress).max() > 1e-5
    np.testing.assert_allclose(stress, reference, rtol=1e-5, atol=1e-8)


def test_invariances(case):
    atoms, calc = case
    e0, f0, s0 = results(calc, atoms)

    moved = atoms.copy()
    moved.translate([0.37, -1.2, 2.9])
    e, f, _ = results(calc, moved)
    assert e == pytest.approx(e0, abs=1e-10)
    np.testing.assert_allclose(f, f0, atol=1e-10)

    rot = random_rotation(7)
    rotated = atoms.copy()
    rotated.set_cell(atoms.cell[:] @ rot.T, scale_atoms=False)
    rotated.positions = atoms.positions @ rot.T
    e, f, s = results(calc, rotated)
    assert e == pytest.approx(e0, abs=1e-9)
    np.testing.assert_allclose(f, f0 @ rot.T, atol=1e-9)
    full = lambda v: np.array([[v[0], v[5], v[4]], [v[5], v[1], v[3]], [v[4], v[3], v[2]]])  # noqa: E731
    np.testing.assert_allclose(full(s), rot @ full(s0) @ rot.T, atol=1e-10)

    perm = np.random.default_rng(3).permutation(len(atoms))
    permuted = atoms[perm]
    e, f, _ = results(calc, permuted)
    assert e == pytest.approx(e0, abs=1e-10)
    np.testing.assert_allclose(f, f0[perm], atol=1e-10)

    imaged = atoms.copy()
    imaged.positions += np.array([1, -2, 1]) @ atoms.cell[:] * (np.arange(len(atoms)) % 2)[:, None]
    e, f, _ = results(calc, imaged)
    assert e == pytest.approx(e0, abs=1e-10)
    np.testing.assert_allclose(f, f0, atol=1e-10)


def test_per_atom_energies_sum_to_total(case):
    atoms, calc = case
    atoms.calc = calc
    energies = calc.get_property("energies", atoms)
    assert energies.shape == (len(atoms),)
    assert energies.sum() == pytest.approx(atoms.get_potential_energy(), abs=1e-10)


def test_supercell_energy_is_extensive(si_model):
    calc = NNPCalculator(si_model, dtype="float64")
    cell = small_primitive_si()
    e1, f1, s1 = results(calc, cell)
    super_ = cell.repeat((2, 3, 1))
    e6, f6, s6 = results(calc, super_)
    assert e6 == pytest.approx(6 * e1, rel=1e-10)
    np.testing.assert_allclose(f6, np.tile(f1, (6, 1)), atol=1e-10)
    np.testing.assert_allclose(s6, s1, atol=1e-12)


def test_predict_mixed_list_equals_single_calls(si_model, sic_model):
    for model, structures in (
        (si_model, [rattled_diamond(seed=9), small_primitive_si(), si_cluster(),
                    triclinic_si(), rattled_diamond(seed=5, repeat=2)]),
        (sic_model, [rattled_sic(seed=1), bulk("Si", "diamond", 5.43), rattled_sic(seed=2)]),
    ):
        calc = NNPCalculator(model, dtype="float64", max_atoms=40)  # forces several chunks
        batched = calc.predict(structures)
        for atoms, res in zip(structures, batched, strict=True):
            e, f, _ = results(calc, atoms)
            assert res["energy"] == pytest.approx(e, abs=1e-10)
            np.testing.assert_allclose(res["forces"], f, atol=1e-10)
            if atoms.pbc.any():
                atoms.calc = calc
                np.testing.assert_allclose(res["stress"], atoms.get_stress(), atol=1e-12)
            else:
                assert "stress" not in res


def test_float32_agrees_with_float64(si_model):
    atoms = rattled_diamond(repeat=2)
    r64 = NNPCalculator(si_model, dtype="float64").predict([atoms])[0]
    r32 = NNPCalculator(si_model, dtype="float32").predict([atoms])[0]
    assert r32["energy"] == pytest.approx(r64["energy"], abs=1e-4 * len(atoms))
    np.testing.assert_allclose(r32["forces"], r64["forces"], atol=1e-4)


def test_isolated_atom_energy_is_reference(si_model, sic_model):
    for model in (si_model, sic_model):
        calc = NNPCalculator(model, dtype="float64")
        for k, symbol in enumerate(model.species):
            atom = Atoms(symbol, positions=[[0, 0, 0]])
            assert results_energy(calc, atom) == float(model.reference_energy[k])
            far = Atoms(symbol, positions=[[1, 1, 1]], cell=[20, 20, 20], pbc=True)
            assert results_energy(calc, far) == pytest.approx(
                float(model.reference_energy[k]), abs=1e-12)


def results_energy(calc, atoms):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy()


def test_energy_is_smooth_at_the_cutoff(si_model):
    """A dimer energy and force go continuously to the isolated-atom limit at the cutoff."""
    calc = NNPCalculator(si_model, dtype="float64")
    rc = calc.cutoff
    e_far = 2 * float(si_model.reference_energy[0])
    for r in (rc - 1e-3, rc - 1e-4):
        dimer = Atoms("Si2", positions=[[0, 0, 0], [r, 0, 0]])
        dimer.calc = calc
        assert abs(dimer.get_potential_energy() - e_far) < 1e-3 * (rc - r) ** 1
        assert np.abs(dimer.get_forces()).max() < 1e-2 * (rc - r) ** 0.5


def test_dtype_and_device_arguments(si_model):
    with pytest.raises(ValueError, match="dtype"):
        NNPCalculator(si_model, dtype="float16")
    calc = NNPCalculator(si_model, device=None)
    assert calc.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert calc.dtype == torch.float32
    assert {(p.device.type, p.dtype) for p in calc.model.parameters()} == {
        (calc.device.type, torch.float32)}
    assert next(si_model.parameters()).dtype == torch.float64  # the caller's model untouched
    cpu64 = NNPCalculator(si_model, device="cpu", dtype="float64")
    assert {(p.device.type, p.dtype) for p in cpu64.model.parameters()} == {
        ("cpu", torch.float64)}


def test_perfect_crystals_have_finite_zero_forces(si_model):
    """Exact zeros in bond-vector components must not poison the gradients with NaN."""
    calc = NNPCalculator(si_model, dtype="float64")
    for atoms in (bulk("Si", "diamond", 5.43, cubic=True), bulk("Si", "fcc", 3.9),
                  bulk("Si", "sc", 2.6)):
        res = calc.predict([atoms])[0]
        assert np.all(np.isfinite(res["forces"])) and np.all(np.isfinite(res["stress"]))
        np.testing.assert_allclose(res["forces"], 0.0, atol=1e-10)


def test_check_state_reports_what_ase_reports(si_model):
    """The calculator's fast state comparison against ASE's compare_atoms, change by change."""
    from ase.calculators.calculator import compare_atoms

    calc = NNPCalculator(si_model)
    atoms = bulk("Si", "diamond", 5.43, cubic=True)
    atoms.calc = calc
    atoms.get_potential_energy()
    changed = []
    for change in ("positions", "cell", "pbc", "numbers", "momenta", "none"):
        other = atoms.copy()
        if change == "positions":
            other.positions[3, 1] += 1e-9
        elif change == "cell":
            other.set_cell(other.cell * 1.001, scale_atoms=False)
        elif change == "pbc":
            other.pbc = [True, False, True]
        elif change == "numbers":
            other.numbers[0] = 6
        elif change == "momenta":
            other.set_momenta(np.ones((len(other), 3)))  # a new array: ASE's path
        got = calc.check_state(other)
        assert sorted(got) == sorted(compare_atoms(calc.atoms, other)), change
        changed.append(got)
    assert changed[0] == ["positions"] and changed[-1] == []
