"""Bad structures give a clear exception naming the problem, never a silent NaN energy."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from nnpcalc.calculator import NNPCalculator
from nnpcalc.structures import StructureError


@pytest.fixture
def calc(si_model):
    return NNPCalculator(si_model, dtype="float64")


def energy_of(calc, atoms):
    atoms.calc = calc
    return atoms.get_potential_energy()


def test_unknown_element(calc):
    with pytest.raises(StructureError, match=r"element\(s\) Ge not known.*knows Si"):
        energy_of(calc, bulk("Ge", "diamond", 5.65))


def test_no_atoms(calc):
    with pytest.raises(StructureError, match="no atoms"):
        energy_of(calc, Atoms(cell=[5, 5, 5], pbc=True))
    assert calc.predict([]) == []


def test_overlapping_atoms_and_configurable_minimum(si_model):
    atoms = Atoms("Si2", positions=[[0, 0, 0], [0.3, 0, 0]])
    with pytest.raises(StructureError, match=r"atoms 0 and 1 are 0.300 Å apart"):
        energy_of(NNPCalculator(si_model), atoms)
    relaxed = NNPCalculator(si_model, min_distance=0.1)
    assert np.isfinite(energy_of(relaxed, atoms.copy()))


def test_non_finite_positions_and_cell(calc):
    atoms = bulk("Si", "diamond", 5.43)
    atoms.positions[1, 2] = np.nan
    with pytest.raises(StructureError, match=r"non-finite positions for atoms \[1\]"):
        energy_of(calc, atoms)
    atoms = bulk("Si", "diamond", 5.43)
    atoms.cell[0, 0] = np.inf
    with pytest.raises(StructureError, match="cell contains NaN or inf"):
        energy_of(calc, atoms)


def test_zero_volume_periodic_cell(calc):
    atoms = Atoms("Si2", positions=[[0, 0, 0], [1.2, 1.2, 1.2]],
                  cell=[[2.7, 2.7, 0], [2.7, 2.7, 0], [0, 2.7, 2.7]], pbc=True)
    with pytest.raises(StructureError, match="zero volume"):
        energy_of(calc, atoms)


def test_error_names_the_structure_in_a_batch(calc):
    good = bulk("Si", "diamond", 5.43)
    bad = bulk("Si", "diamond", 5.43)
    bad.positions[0, 0] = np.inf
    with pytest.raises(StructureError, match="structure 2:"):
        calc.predict([good, good, bad])
