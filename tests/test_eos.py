"""EOS: an analytic Birch–Murnaghan curve, ASE's EOS on the SW teacher, one batch, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.eos import EquationOfState
from ase.units import GPa

from nnpcalc.analysis.eos import (
    birch_murnaghan,
    equation_of_state,
    fit_birch_murnaghan,
)
from nnpcalc.sampling import crystal
from nnpcalc.teachers import SWCalculator


class CountingCalculator:
    """Wraps a calculator and counts its batched calls."""

    def __init__(self, calc):
        self.calc, self.calls = calc, 0

    def predict(self, structures):
        self.calls += 1
        return self.calc.predict(structures)


def test_fit_recovers_a_known_birch_murnaghan_curve():
    truth = dict(e0=-10.8, v0=40.9, b0=95.0 * GPa, bp=4.3)
    volumes = np.linspace(36, 46, 11)
    fit = fit_birch_murnaghan(volumes, birch_murnaghan(volumes, **truth))
    assert fit["V0_A3"] == pytest.approx(40.9, rel=1e-8)
    assert fit["B_GPa"] == pytest.approx(95.0, rel=1e-7)
    assert fit["Bp"] == pytest.approx(4.3, rel=1e-6)
    assert fit["E0_eV"] == pytest.approx(-10.8, abs=1e-10)


def test_sw_eos_agrees_with_ase_eos_in_one_batch():
    calc = CountingCalculator(SWCalculator())
    atoms = bulk("Si", "diamond", 5.40, cubic=True)
    ours = equation_of_state(calc, atoms, max_strain=0.03, n=11)
    assert calc.calls == 1
    ase_eos = EquationOfState([v * 8 for v in ours["volumes_A3_per_atom"]],
                              [e * 8 for e in ours["energies_eV_per_atom"]], eos="birchmurnaghan")
    v0, e0, b = ase_eos.fit()
    assert ours["V0_A3"] == pytest.approx(v0, rel=1e-6)
    assert ours["E0_eV"] == pytest.approx(e0, abs=1e-8)
    assert ours["B_GPa"] == pytest.approx(b / GPa, rel=1e-4)
    # Stillinger-Weber Si: a0 = 5.431 Å and cohesive energy 4.3366 eV (PRB 31, 5262 (1985)).
    assert ours["a0_angstrom"] == pytest.approx(5.431, abs=2e-3)
    assert ours["E0_eV_per_atom"] == pytest.approx(-4.3366, abs=1e-4)


def test_a0_is_the_same_from_primitive_and_conventional_cells():
    calc = SWCalculator()
    primitive = equation_of_state(calc, bulk("Si", "diamond", 5.45), 0.02, 9)
    conventional = equation_of_state(calc, bulk("Si", "diamond", 5.45, cubic=True), 0.02, 9)
    assert primitive["a0_angstrom"] == pytest.approx(conventional["a0_angstrom"], abs=1e-5)
    assert primitive["B_GPa"] == pytest.approx(conventional["B_GPa"], rel=1e-5)
    tetragonal = crystal("beta-sn")
    tetragonal.set_cell(tetragonal.cell[:] * 1.035, scale_atoms=True)
    assert "a0_angstrom" not in equation_of_state(calc, tetragonal, 0.04, 9)


def test_bad_input_is_named():
    v = np.linspace(36, 46, 7)
    with pytest.raises(ValueError, match="edge of the sampled volumes"):
        fit_birch_murnaghan(v, -v)  # monotonic: no minimum inside
    with pytest.raises(ValueError, match="≥5"):
        fit_birch_murnaghan(v[:3], v[:3])
    with pytest.raises(ValueError, match="NaN"):
        fit_birch_murnaghan(v, np.where(v > 40, np.nan, (v - 41) ** 2))
