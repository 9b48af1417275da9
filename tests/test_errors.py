"""Test-set error metrics: clusters are reported apart from periodic cells."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

from nnpcalc.analysis.errors import test_set_errors as errors_of


def _labelled(atoms: Atoms, shift_per_atom: float) -> Atoms:
    """A copy labelled with EMT's own energy shifted by a known amount per atom."""
    atoms = atoms.copy()
    atoms.calc = EMT()
    energy = atoms.get_potential_energy() + shift_per_atom * len(atoms)
    forces = atoms.get_forces()
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
    return atoms


def test_periodic_and_cluster_errors_are_split():
    crystal = bulk("Cu", "fcc", 3.6, cubic=True)
    dimer = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.4]])
    data = [_labelled(crystal, 0.002), _labelled(crystal.repeat(2), -0.004),
            _labelled(dimer, 0.100)]
    result = errors_of(EMT(), data)
    assert result["energy_rmse_meV_per_atom_periodic"] == pytest.approx(
        np.sqrt((2.0**2 + 4.0**2) / 2))
    assert result["energy_mae_meV_per_atom_periodic"] == pytest.approx(3.0)
    assert result["energy_rmse_meV_per_atom_clusters"] == pytest.approx(100.0)
    assert (result["n_clusters"], result["n_isolated_atoms"]) == (1, 0)
    one_atom_cell = bulk("Cu", "fcc", 3.6)  # periodic: not an isolated atom
    lone = errors_of(EMT(), [*data, _labelled(Atoms("Cu"), 0.0), _labelled(one_atom_cell, 0.0)])
    assert (lone["n_clusters"], lone["n_isolated_atoms"]) == (2, 1)
    assert result["energy_rmse_meV_per_atom"] == pytest.approx(
        np.sqrt((2.0**2 + 4.0**2 + 100.0**2) / 3))
    assert result["forces_mae_eV_per_A"] == pytest.approx(0.0, abs=1e-12)


def test_signed_mean_error_per_config_type():
    """Offsets keep their sign per family (an RMSE would hide which way a family sits)."""
    crystal = bulk("Cu", "fcc", 3.6, cubic=True)
    dimer = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.4]])
    data = [_labelled(crystal, 0.002), _labelled(crystal.repeat(2), -0.004),
            _labelled(dimer, -0.100)]
    for atoms, kind in zip(data, ("bulk", "bulk", "dimer"), strict=True):
        atoms.info["config_type"] = kind
    bias = errors_of(EMT(), data)["energy_mean_error_meV_per_atom_by_type"]
    assert bias == pytest.approx({"bulk": (-2.0 + 4.0) / 2, "dimer": 100.0})
