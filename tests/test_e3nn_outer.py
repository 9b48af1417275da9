"""The e3nn kind's outer radial term (`outer_cutoff`): what reads the pairs beyond `cutoff`.

The graphs of a model with the term reach its outer cutoff. The convolutions' radial functions
and start statistics must keep `cutoff` (else a grown model would not start as its file), the
pairs beyond it are dropped before the convolutions (they would add only zeros, at ~2× the
cost), and the term must read the rest smoothly out to its own cutoff and nothing beyond.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from e3nn_factory import switch_on_outer

from nnpcalc.batch import structure_graph
from nnpcalc.calculator import NNPCalculator
from nnpcalc.models.contract import TrainingData
from nnpcalc.models.e3nn_mp import E3nnModel

E0 = -0.8


def _model(outer_cutoff: float | None) -> E3nnModel:
    torch.manual_seed(0)
    model = E3nnModel(["Si"], cutoff=4.0, l_max=2, channels=4, n_layers=1,
                      outer_cutoff=outer_cutoff).double()
    model.reference_energy.fill_(E0)
    model.mean_neighbours.fill_(12.0)
    return model


def _dimer_energy(model: E3nnModel, distance: float) -> float:
    atoms = Atoms("Si2", positions=[[0, 0, 0], [distance, 0, 0]])
    atoms.calc = NNPCalculator(model, dtype="float64")
    return float(atoms.get_potential_energy())


def test_a_pair_between_the_cutoffs_is_read_by_the_outer_term_alone():
    plain, outer = _model(None), switch_on_outer(_model(6.0))
    for distance in (4.5, 5.5):  # beyond 4 Å: the convolutions see two isolated atoms
        assert _dimer_energy(plain, distance) == pytest.approx(2 * E0, abs=1e-12)
        assert abs(_dimer_energy(outer, distance) - 2 * E0) > 1e-6
    # the term's envelope takes it smoothly to nothing at 6 Å, and nothing reads beyond
    assert _dimer_energy(outer, 5.999) == pytest.approx(2 * E0, abs=1e-9)
    assert _dimer_energy(outer, 6.2) == pytest.approx(2 * E0, abs=1e-12)


def test_the_convolutions_read_only_the_pairs_within_the_cutoff():
    """The same weights with and without the (zero-started) term give the same per-atom
    energies and forces on a crystal whose graph at 6 Å has ~3× the pairs of that at 4 Å, and
    the convolution receives the 4 Å pairs only."""
    plain, outer = _model(None), _model(6.0)
    outer.load_state_dict(plain.state_dict(), strict=False)
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.rattle(0.05, seed=3)
    pairs = []
    for model in (plain, outer):  # edge_i, the convolution's third argument
        model.layers[0].register_forward_pre_hook(lambda _, args: pairs.append(len(args[2])))
    results = []
    for model in (plain, outer):
        a = atoms.copy()
        a.calc = NNPCalculator(model, dtype="float64")
        results.append((a.get_potential_energies(), a.get_forces()))
    np.testing.assert_allclose(results[0][0], results[1][0], atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-12)
    # (the anchor's call on a lone atom has no pairs) 4 + 12 neighbours within 4 Å
    assert {n for n in pairs if n} == {8 * 16}


def test_the_outer_cutoff_must_lie_beyond_the_cutoff():
    with pytest.raises(ValueError, match="outer_cutoff .* must exceed cutoff"):
        E3nnModel(["Si"], cutoff=5.0, outer_cutoff=5.0)


def test_the_start_statistics_count_the_convolutions_pairs_only():
    """A fresh model fits its message normalisation (mean neighbour count) and coordination
    start from graphs that reach the outer cutoff: both must come out as from graphs at
    `cutoff`, or the convolutions of a model with the term would start scaled otherwise."""
    crystals = [bulk("Si", "diamond", a=a, cubic=True) for a in (5.3, 5.43, 5.6)]
    for atoms in crystals:
        atoms.rattle(0.05, seed=1)
    residual = np.array([-4.6, -4.5, -4.4])
    fitted = []
    for outer_cutoff in (None, 6.0):
        model = _model(outer_cutoff)
        graphs = [structure_graph(a, ["Si"], max(4.0, outer_cutoff or 0.0)) for a in crystals]
        model.fit_statistics(TrainingData(["Si"], graphs, residual, [None] * 3, {"Si": E0},
                                          1.0, True))
        fitted.append((float(model.mean_neighbours), model.coordination_weight.tolist()))
    assert fitted[0][0] == pytest.approx(fitted[1][0], rel=1e-12)
    assert fitted[0][1] == pytest.approx(fitted[1][1], rel=1e-9)
    assert 10 < fitted[0][0] <= 16  # diamond: 4 + 12 within 4 Å, 46 within 6 Å
