"""Symmetry functions against a direct triplet sum (numpy, written independently of the moment
expansion the model uses)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ase.build import bulk

from nnpcalc.batch import collate, structure_graph
from nnpcalc.descriptors.acsf import ACSF, ACSFParameters, descriptor_from


def _direct_features(atoms, params: ACSFParameters) -> np.ndarray:
    """G2 and G5 by explicit loops over neighbours and neighbour pairs (single species)."""
    from ase.neighborlist import neighbor_list

    i, d = neighbor_list("iD", atoms, params.cutoff)
    rc = params.cutoff
    out = []
    for atom in range(len(atoms)):
        vec = d[i == atom]
        r = np.linalg.norm(vec, axis=1)
        fc = 0.5 * (np.cos(np.pi * r / rc) + 1)
        row = [np.sum(np.exp(-eta * (r - rs) ** 2) * fc) for eta, rs in params.radial]
        cos = (vec @ vec.T) / np.outer(r, r)
        for eta, zeta, lam, rs, eta2, rs2 in params.angular:
            g1 = np.exp(-eta * (r - rs) ** 2) * fc
            g2 = np.exp(-eta2 * (r - rs2) ** 2) * fc
            pair = 0.5 * (np.outer(g1, g2) + np.outer(g2, g1)) * (1 + lam * cos) ** zeta
            np.fill_diagonal(pair, 0.0)
            row.append(2.0 ** (1 - zeta) * pair.sum())
        out.append(row)
    return np.array(out)


def _features(atoms, params: ACSFParameters) -> np.ndarray:
    graph = structure_graph(atoms, ["Si"], params.cutoff)
    batch = collate([graph], torch.float64)
    vectors = batch.edge_vectors(batch.positions, batch.cell)
    acsf = ACSF(params, ["Si"])
    return acsf(batch.species, batch.edge_i, batch.species[batch.edge_j], vectors).numpy()


@pytest.mark.parametrize("preset", ["default_si", "shells", "shells_cross", "default_si_shells"])
def test_moment_expansion_equals_triplet_sum(preset):
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.rattle(0.15, seed=3)
    params = descriptor_from(preset, 4.2)
    expected = _direct_features(atoms, params)
    got = _features(atoms, params)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max())


def test_shifted_shell_peaks_at_its_radius():
    """A G5 row on the first diamond shell outweighs one centred on a far shell."""
    atoms = bulk("Si", "diamond", a=5.43)
    first = 5.43 * math.sqrt(3) / 4
    params = ACSFParameters(cutoff=4.0, radial=((0.0, 0.0),),
                            angular=((8.0, 1, 1, first), (8.0, 1, 1, 3.6)))
    g5 = _features(atoms, params)[0, 1:]
    assert g5[0] > 100 * g5[1]


def test_old_three_column_angular_rows_load_as_centred():
    params = ACSFParameters.from_dict({"cutoff": 5.0, "radial": [[1.0, 0.0]],
                                       "angular": [[0.1, 2, -1]]})
    assert params.angular == ((0.1, 2, -1, 0.0, 0.1, 0.0),)


def test_default_si_shells_is_default_si_then_shells():
    both, first, second = (descriptor_from(name, 6.0) for name in
                           ("default_si_shells", "default_si", "shells"))
    assert both.radial == first.radial + second.radial
    assert both.angular == first.angular + second.angular
    assert len(both.radial) + len(both.angular) == 137


def test_unknown_preset_names_the_choices():
    with pytest.raises(ValueError, match="default_si"):
        descriptor_from("nope", 5.0)


def test_two_species_cross_shell_rows_are_symmetric_in_the_pair():
    """For unlike neighbours, a cross-shell row counts both assignments of the two shells."""
    from ase import Atoms

    atoms = Atoms("SiCCSi", positions=[[0, 0, 0], [1.9, 0, 0], [0, 2.3, 0.2], [0.3, 0.1, 2.6]])
    row = (0.5, 1, 1, 2.0, 2.0, 2.6)
    swapped = (2.0, 1, 1, 2.6, 0.5, 2.0)
    values = []
    for angular in ((row,), (swapped,)):
        params = ACSFParameters(cutoff=4.0, radial=((0.0, 0.0),), angular=angular)
        graph = structure_graph(atoms, ["C", "Si"], 4.0)
        batch = collate([graph], torch.float64)
        vectors = batch.edge_vectors(batch.positions, batch.cell)
        values.append(ACSF(params, ["C", "Si"])(batch.species, batch.edge_i,
                                                 batch.species[batch.edge_j],
                                                 vectors).numpy())
    np.testing.assert_allclose(values[0], values[1], rtol=1e-12)
    assert np.abs(values[0][:, 2:]).max() > 1e-3  # the C–Si row is not trivially zero


@pytest.mark.parametrize("preset", ["default_si", "shells_cross"])
def test_hand_written_backward_equals_autograd(preset):
    """The fast force path (analytic backward of the neighbour sums) against plain autograd,
    for a random weighting of every feature, two species, float64."""
    from ase import Atoms

    from nnpcalc.autodiff import first_derivatives_only

    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.rattle(0.2, seed=5)
    atoms = Atoms(["Si", "C"] * 4, positions=atoms.positions, cell=atoms.cell, pbc=True)
    graph = structure_graph(atoms, ["C", "Si"], 4.2)
    batch = collate([graph], torch.float64)
    acsf = ACSF(descriptor_from(preset, 4.2), ["C", "Si"]).double()
    weights = torch.randn(len(atoms), acsf.n_features, dtype=torch.float64,
                          generator=torch.Generator().manual_seed(0))
    grads = []
    for fast in (False, True):
        vectors = batch.edge_vectors(batch.positions, batch.cell).requires_grad_(True)
        with first_derivatives_only(fast):
            g = acsf(batch.species, batch.edge_i, batch.species[batch.edge_j], vectors)
            grads.append(torch.autograd.grad((g * weights).sum(), vectors)[0])
    assert grads[0].abs().max() > 1e-3
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-11, atol=1e-11)
