"""EOS and elastic constants: an analytic EOS, ASE's EOS, cubic symmetry, Born stability."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.eos import EquationOfState

from nnpcalc.analysis.elastic import elastic_constants
from nnpcalc.analysis.eos import (
    EV_A3_TO_GPA,
    birch_murnaghan,
    equation_of_state,
    fit_birch_murnaghan,
)
from nnpcalc.teachers import SWCalculator


def test_fit_recovers_a_known_birch_murnaghan_curve():
    truth = dict(e0=-10.8, v0=40.9, b0=95.0 / EV_A3_TO_GPA, bp=4.3)
    volumes = np.linspace(36, 46, 11)
    fit = fit_birch_murnaghan(volumes, birch_murnaghan(volumes, **truth))
    assert fit["V0_A3"] == pytest.approx(40.9, rel=1e-8)
    assert fit["B_GPa"] == pytest.approx(95.0, rel=1e-7)
    assert fit["Bp"] == pytest.approx(4.3, rel=1e-6)


def test_sw_eos_agrees_with_ase_eos_and_the_potential_minimum():
    calc = SWCalculator()
    atoms = bulk("Si", "diamond", 5.40, cubic=True)
    ours = equation_of_state(calc, atoms, max_strain=0.03, n=11)
    ase_eos = EquationOfState([v * 8 for v in ours["volumes_A3_per_atom"]],
                              [e * 8 for e in ours["energies_eV_per_atom"]], eos="birchmurnaghan")
    v0, e0, b = ase_eos.fit()
    assert ours["V0_A3"] == pytest.approx(v0, rel=1e-6)
    assert ours["B_GPa"] == pytest.approx(b * EV_A3_TO_GPA, rel=1e-4)
    assert ours["a0_angstrom"] == pytest.approx(5.431, abs=2e-3)  # SW's published minimum
    assert ours["E0_eV_per_atom"] == pytest.approx(-4.3366, abs=1e-4)


def test_sw_elastic_constants_cubic_stable_and_consistent_with_eos():
    calc = SWCalculator()
    atoms = bulk("Si", "diamond", 5.431, cubic=True)
    c = np.array(elastic_constants(calc, atoms)["C_GPa"])
    res = elastic_constants(calc, atoms)
    assert np.allclose(np.diag(c)[:3], res["C11_GPa"], rtol=1e-5)
    assert np.allclose([c[0, 1], c[0, 2], c[1, 2]], res["C12_GPa"], rtol=1e-5)
    assert np.allclose(np.diag(c)[3:], res["C44_GPa"], rtol=1e-5)
    assert np.abs(c[:3, 3:]).max() < 1e-3 and abs(c[3, 4]) < 1e-3
    assert res["born_stable"]
    assert res["C11_GPa"] > abs(res["C12_GPa"]) and res["C11_GPa"] + 2 * res["C12_GPa"] > 0
    eos = equation_of_state(calc, atoms, max_strain=0.01, n=9)
    assert res["B_GPa"] == pytest.approx(eos["B_GPa"], rel=0.01)
    # Published SW values (Balamane et al., PRB 46, 2250 (1992)): 151.4, 76.4, 56.4 GPa
    assert res["C11_GPa"] == pytest.approx(151.4, abs=1.0)
    assert res["C12_GPa"] == pytest.approx(76.4, abs=1.0)
    assert res["C44_GPa"] == pytest.approx(56.4, abs=1.0)
    assert res["C44_clamped_GPa"] > res["C44_GPa"] + 20  # internal relaxation matters
