"""Elastic constants of SW Si: cubic symmetry, Born stability, EOS bulk modulus, energy
curvature, LAMMPS stresses, and the published SW values."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.units import GPa
from lammps_reference import lammps_sw, requires_lammps

from nnpcalc.analysis.elastic import cubic_elastic_constants, elastic_constants
from nnpcalc.analysis.eos import equation_of_state
from nnpcalc.analysis.relax import relax
from nnpcalc.sampling import crystal, strained
from nnpcalc.teachers import SWCalculator

A0 = 5.431


@pytest.fixture(scope="module")
def full():
    return elastic_constants(SWCalculator(), bulk("Si", "diamond", A0, cubic=True))


def test_full_matrix_is_cubic_stable_and_consistent_with_the_eos(full):
    c = np.array(full["C_GPa"])
    assert np.allclose(np.diag(c)[:3], full["C11_GPa"], rtol=1e-5)
    assert np.allclose([c[0, 1], c[0, 2], c[1, 2]], full["C12_GPa"], rtol=1e-5)
    assert np.allclose(np.diag(c)[3:], full["C44_GPa"], rtol=1e-5)
    assert np.abs(c[:3, 3:]).max() < 1e-3
    assert np.abs(c[3:, 3:] - np.diag(np.diag(c)[3:])).max() < 1e-3
    assert full["max_asymmetry_GPa"] < 0.05
    assert full["born_stable"] and full["min_eigenvalue_GPa"] > 0
    eos = equation_of_state(SWCalculator(), bulk("Si", "diamond", A0, cubic=True), 0.01, 9)
    assert full["B_GPa"] == pytest.approx(eos["B_GPa"], rel=0.01)
    # Published SW values (Balamane et al., PRB 46, 2250 (1992)), loose: ±1 GPa.
    assert full["C11_GPa"] == pytest.approx(151.4, abs=1.0)
    assert full["C12_GPa"] == pytest.approx(76.4, abs=1.0)
    assert full["C44_GPa"] == pytest.approx(56.4, abs=1.0)
    assert full["C44_clamped_GPa"] > full["C44_GPa"] + 20  # internal relaxation matters


def test_cubic_strain_set_matches_the_full_matrix_from_a_primitive_cell(full):
    cubic = cubic_elastic_constants(SWCalculator(), bulk("Si", "diamond", A0))
    for key in ("C11_GPa", "C12_GPa", "C44_GPa", "C44_clamped_GPa"):
        assert cubic[key] == pytest.approx(full[key], rel=2e-3), key
    # No internal relaxation under ε1 in diamond (every atom keeps a centre of symmetry pair).
    assert cubic["C11_clamped_GPa"] == pytest.approx(cubic["C11_GPa"], rel=1e-6)
    assert cubic["born_stable"] and cubic["cubic_deviation_GPa"] < 0.05


def test_relaxed_c44_equals_the_curvature_of_the_relaxed_energy(full):
    """E(ε4) = E0 + V C44 ε4²/2 with ions relaxed: energies only, no stress involved."""
    calc, unit = SWCalculator(), bulk("Si", "diamond", A0, cubic=True)
    strains = np.array([-0.01, -0.005, 0.0, 0.005, 0.01])
    energies = [relax(strained(unit, [0, 0, 0, g, 0, 0]), calc, fmax=1e-5)["energy_eV"]
                for g in strains]
    curvature = np.polyfit(strains, energies, 4)[2] * 2
    assert curvature / unit.get_volume() / GPa == pytest.approx(full["C44_GPa"],
                                                                         rel=5e-3)


@requires_lammps
def test_clamped_ion_constants_match_lammps_stresses(full):
    class LammpsStress:
        def predict(self, structures):
            return [lammps_sw(a) for a in structures]

    ref = elastic_constants(LammpsStress(), bulk("Si", "diamond", A0, cubic=True),
                            relax_ions=False)
    np.testing.assert_allclose(ref["C_GPa"], full["C_clamped_GPa"], atol=0.05)


def test_bad_input_is_named():
    calc = SWCalculator()
    with pytest.raises(ValueError, match="cubic crystal"):
        cubic_elastic_constants(calc, crystal("beta-sn"))
    cluster = bulk("Si", "diamond", A0)
    cluster.pbc = False
    with pytest.raises(ValueError, match="periodic"):
        elastic_constants(calc, cluster)
    with pytest.raises(ValueError, match="small strain"):
        elastic_constants(calc, bulk("Si", "diamond", A0), delta=0.2)
