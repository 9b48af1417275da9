"""What one e3nn layer can see: distances only, or the angles at the atom (`product`).

SW's energy, and any covalent one, depends on the angle between two bonds of one atom. A
one-layer message-passing model with an invariant readout is a sum of pair terms at each atom
unless the summed messages are contracted with themselves; these tests pin that difference on
an atom whose two bonds keep their lengths while the angle between them changes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms

from nnpcalc.calculator import NNPCalculator
from nnpcalc.models.e3nn_mp import E3nnModel


def _centre_energy(model: E3nnModel, angle_deg: float) -> float:
    """Per-atom energy of atom 0 with two neighbours at 2.35 Å, `angle_deg` apart; the two
    neighbours are 2.35 Å × 2 sin(θ/2) apart, beyond the 3.0 Å cutoff for θ ≥ 80°."""
    t = np.radians(angle_deg)
    atoms = Atoms("Si3", positions=[[0, 0, 0], [2.35, 0, 0],
                                    [2.35 * np.cos(t), 2.35 * np.sin(t), 0]])
    atoms.calc = NNPCalculator(model, dtype="float64")
    return float(atoms.get_potential_energies()[0])


@pytest.mark.parametrize("l_max", [1, 2])
def test_one_layer_without_product_sees_distances_only(l_max):
    torch.manual_seed(0)
    model = E3nnModel(["Si"], cutoff=3.0, l_max=l_max, channels=4, n_layers=1, product=False)
    energies = [_centre_energy(model, a) for a in (80.0, 109.47, 150.0)]
    assert np.ptp(energies) < 1e-10


@pytest.mark.parametrize("l_max", [1, 2])
def test_product_gives_the_first_layer_the_bond_angle(l_max):
    torch.manual_seed(0)
    model = E3nnModel(["Si"], cutoff=3.0, l_max=l_max, channels=4, n_layers=1, product=True)
    with torch.no_grad():  # random readout weights can be small: make the effect measurable
        for p in model.readout.parameters():
            p.mul_(10.0)
    energies = [_centre_energy(model, a) for a in (80.0, 109.47, 150.0)]
    assert np.ptp(energies) > 1e-4
