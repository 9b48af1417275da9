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
from e3nn import o3
from e3nn_factory import switch_on_layers

from nnpcalc.calculator import NNPCalculator
from nnpcalc.models.e3nn_mp import BondProjection, ChannelPairs, E3nnModel, convolution


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


def _cubic_or_antiprism(antiprism: bool) -> Atoms:
    """An atom with eight neighbours at 2.35 Å on a cube (bcc's first shell) or on a square
    antiprism (the cube's top face turned by 45°). Both have the cube's polar angle,
    cos² θ = 1/3, so their moments Σ_j Y_lm(r̂_j) of l = 1 and 2 vanish alike, and those of
    l = 3 too (inversion for the cube, the 45° improper rotation for the antiprism); l = 4 tells
    them apart. Any site of cubic symmetry (sc, bcc, fcc, diamond) has no l = 1 or 2 moment,
    the centrosymmetric ones none of l = 3 either: to a one-layer model with l_max ≤ 2 these
    crystals differ only through their distances."""
    polar = np.arccos(1 / np.sqrt(3))
    bonds = []
    for z, phase in ((1, np.pi / 4 if antiprism else 0.0), (-1, 0.0)):
        for k in range(4):
            phi = phase + np.pi / 4 + k * np.pi / 2
            bonds.append([np.sin(polar) * np.cos(phi), np.sin(polar) * np.sin(phi),
                          z * np.cos(polar)])
    return Atoms("Si9", positions=[[0, 0, 0], *(2.35 * np.array(bonds))])


@pytest.mark.parametrize("l_max, alike", [(2, True), (3, True), (4, False)])
def test_cubic_sites_need_l_above_2(l_max, alike):
    torch.manual_seed(0)
    model = E3nnModel(["Si"], cutoff=3.0, l_max=l_max, channels=4, n_layers=1, product=True)
    with torch.no_grad():
        for p in model.readout.parameters():
            p.mul_(10.0)
    calc = NNPCalculator(model, dtype="float64")
    centre = []
    for antiprism in (False, True):
        atoms = _cubic_or_antiprism(antiprism)
        atoms.calc = calc
        centre.append(float(atoms.get_potential_energies()[0]))
    assert (abs(centre[0] - centre[1]) < 1e-10) == alike, centre


def _chain_end_energy(model: E3nnModel, angle_deg: float) -> float:
    """Per-atom energy of atom 0 in a chain 0–1–2 of 2.35 Å bonds meeting at `angle_deg` at
    atom 1; atoms 0 and 2 are ≥ 4.5 Å apart, beyond the 3.0 Å cutoff, for angles ≥ 150°."""
    t = np.radians(angle_deg)
    atoms = Atoms("Si3", positions=[[0, 0, 0], [2.35, 0, 0],
                                    [2.35 * (1 - np.cos(t)), 2.35 * np.sin(t), 0]])
    atoms.calc = NNPCalculator(model, dtype="float64")
    return float(atoms.get_potential_energies()[0])


@pytest.mark.parametrize("added", [{}, {"scalar_layer": True}, {"reach_layers": 1},
                                   {"reach_layers": 1, "reach_l_max": 0}])
def test_a_second_layer_sees_the_far_end_of_a_bond(added):
    """One layer: atom 0 knows its neighbour's distance, nothing of the neighbour's other
    bonds. A second layer makes atom 0's energy change with the angle at atom 1 (same
    distances, atom 2 out of atom 0's reach): the scalar layer reads the neighbour's l > 0
    features along the bond, a reach layer its features of degree ≤ reach_l_max — degree 0
    alone too, since the first layer's squared norms at atom 1 hold the angle there."""
    torch.manual_seed(0)
    model = E3nnModel(["Si"], cutoff=3.0, l_max=2, channels=4, n_layers=1, **added)
    if added:
        switch_on_layers(model, 1)
    with torch.no_grad():
        for p in model.readout.parameters():
            p.mul_(10.0)
    energies = [_chain_end_energy(model, a) for a in (150.0, 165.0, 180.0 - 1e-3)]
    assert (np.ptp(energies) > 1e-4) == bool(added), energies


def test_reach_layers_read_the_degrees_the_first_layers_have():
    model = E3nnModel(["Si"], l_max=4, n_layers=1, reach_layers=2)
    assert model.hyper["reach_l_max"] == 2  # the default: the l_max 2 cost per reach layer
    assert [str(layer.irreps_in) for layer in model.layers[1:]] == ["16x0e+16x1o+16x2e"] * 2
    assert E3nnModel(["Si"], l_max=1, n_layers=1, reach_layers=1).hyper["reach_l_max"] == 1
    with pytest.raises(ValueError, match=r"reach_l_max \(3\) must lie in 0…l_max \(2\)"):
        E3nnModel(["Si"], l_max=2, n_layers=1, reach_layers=1, reach_l_max=3)
    with pytest.raises(ValueError, match="reach_layers and scalar_layer together"):
        E3nnModel(["Si"], l_max=2, n_layers=1, reach_layers=1, scalar_layer=True)


def test_channel_pairs_are_the_dot_products_of_every_channel_pair():
    """`ChannelPairs` (a Gram matrix read out, for speed) against its definition, Σ_m A_clm
    A_c'lm for c < c' per degree, written as loops; blocks of one channel give none."""
    irreps = o3.Irreps("1x0e+3x1o+4x2e")
    x = torch.randn(5, irreps.dim, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    expected = []
    for (mul, ir), sl in zip(irreps, irreps.slices(), strict=True):
        a = x[:, sl].reshape(-1, mul, ir.dim)
        expected += [(a[:, c] * a[:, d]).sum(-1) for c in range(mul) for d in range(c + 1, mul)]
    pairs = ChannelPairs(irreps)
    assert pairs.irreps_out == o3.Irreps("9x0e")  # 3 + 6 pairs
    assert torch.allclose(pairs(x), torch.stack(expected, dim=1), rtol=1e-14, atol=1e-14)


def test_bond_projection_is_the_scalar_paths_of_e3nns_tensor_product():
    """`BondProjection` (written out for speed) against e3nn's general tensor product on the
    same l ⊗ l → 0e paths (component-normalised harmonics, e3nn's path normalisation): equal."""
    irreps_in = o3.Irreps("3x0e+3x1o+3x2e")
    irreps_sh = o3.Irreps.spherical_harmonics(2)
    general, _ = convolution(irreps_in, irreps_sh, o3.Irreps("3x0e"))
    written = BondProjection(irreps_in, irreps_sh)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(50, irreps_in.dim, generator=generator, dtype=torch.float64)
    sh = o3.spherical_harmonics(irreps_sh, torch.randn(50, 3, generator=generator,
                                                       dtype=torch.float64), normalize=True)
    weight = torch.rand(50, written.weight_numel, generator=generator, dtype=torch.float64)
    assert general.weight_numel == written.weight_numel == 9
    assert torch.allclose(written(x, sh, weight), general.double()(x, sh, weight),
                          rtol=1e-12, atol=1e-12)


def _same_angles_other_shape() -> tuple[np.ndarray, np.ndarray]:
    """Two sets of four unit vectors with the same six angles between them, on other pairs:
    not congruent (the angles are distinct, and no relabelling of the vectors maps one set's
    pairs onto the other's). The first set was searched for (scipy, once) so that its angles,
    put on the pairs of `order`, form a Gram matrix of rank 3: the second set is that matrix's
    factor. Three-body descriptors see a multiset of (r_j, r_k, θ_jk), the same for both."""
    polar_azimuth = np.array([4.45062566048922, 0.8038563359717903, 4.1525815925821705,
                              3.119746303672121, 3.5120889960214208, 0.008763499178855622,
                              3.6923380420806335, 5.035347163413317]).reshape(4, 2)
    first = np.array([[np.sin(t) * np.cos(f), np.sin(t) * np.sin(f), np.cos(t)]
                      for t, f in polar_azimuth])
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    order = [0, 1, 5, 3, 2, 4]
    cosines = [first[i] @ first[j] for i, j in pairs]
    gram = np.eye(4)
    for (i, j), k in zip(pairs, order, strict=True):
        gram[i, j] = gram[j, i] = cosines[k]
    values, vectors = np.linalg.eigh(gram)
    assert abs(values[0]) < 1e-10 and values[1] > 0.5  # rank 3: four vectors in space
    second = vectors[:, 1:] * np.sqrt(values[1:])
    return first, second


@pytest.mark.parametrize("bispectrum", [False, True])
def test_the_bispectrum_tells_apart_what_three_body_terms_cannot(bispectrum):
    """An atom with four neighbours at 2.5 Å in two shapes with the same six bond angles: its
    squared norms and channel pairs (the full power spectrum, three-body) are the same, so
    its energy is; the channel triples (four-body) tell the shapes apart."""
    first, second = _same_angles_other_shape()
    angles = [np.sort([np.degrees(np.arccos(np.clip(u @ v, -1, 1)))
                       for u, v in zip(s[[0, 0, 0, 1, 1, 2]], s[[1, 2, 3, 2, 3, 3]],
                                       strict=True)]) for s in (first, second)]
    assert np.allclose(*angles, atol=1e-8) and np.ptp(angles[0]) > 50
    torch.manual_seed(0)
    model = E3nnModel(["Si"], cutoff=3.0, l_max=4, channels=4, n_layers=1,
                      cross_channels=True, bispectrum=bispectrum)
    with torch.no_grad():  # the grown terms start at zero: switch them on
        model.layers[0].cross_linear.weight.normal_()
        if bispectrum:
            model.layers[0].triples_linear.weight.normal_()
        for p in model.readout.parameters():
            p.mul_(10.0)
    calc = NNPCalculator(model, dtype="float64")
    centre = []
    for bonds in (first, second):
        atoms = Atoms("Si5", positions=[[0, 0, 0], *(2.5 * bonds)])
        atoms.calc = calc
        centre.append(float(atoms.get_potential_energies()[0]))
    assert (abs(centre[0] - centre[1]) > 1e-5) == bispectrum, centre  # 3e-4 and 3e-11 eV
    assert bispectrum or abs(centre[0] - centre[1]) < 1e-8


def test_the_bispectrum_asks_for_the_degrees_it_couples():
    with pytest.raises(ValueError, match="bispectrum needs l_max >= 2"):
        E3nnModel(["Si"], l_max=1, n_layers=1, bispectrum=True)
    with pytest.raises(ValueError, match="bispectrum needs product"):
        E3nnModel(["Si"], l_max=2, n_layers=1, product=False, bispectrum=True)
