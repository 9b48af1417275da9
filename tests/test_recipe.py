"""Training-recipe options: the linear start, loss weighting by group and size, the plateau
floor, full-batch L-BFGS."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.stress import voigt_6_to_full_3x3_stress
from test_train import config, lj_labelled

from nnpcalc import NNPCalculator
from nnpcalc.descriptors.acsf import descriptor_from
from nnpcalc.models import BPNN
from nnpcalc.models.bpnn_fit import whitening_matrices
from nnpcalc.models.potential import evaluate
from nnpcalc.train import fit
from nnpcalc.train.config import validate_config
from nnpcalc.train.data import Labelled, group_weight
from nnpcalc.train.fit import prepare
from nnpcalc.train.loop import (
    _accumulate_loss,
    _loss_terms,
    evaluate_set,
    mean_term_weights,
    new_model,
)


def _linear_teacher() -> NNPCalculator:
    """A BP model whose network output is zero: its energy is linear in the descriptors."""
    torch.manual_seed(1)
    model = BPNN(["Si"], descriptor=descriptor_from("shells", 4.0), hidden=[4],
                 linear_term=True).double()
    with torch.no_grad():
        model.nets[0][-1].weight.zero_()
        model.linears[0].weight.normal_(0, 0.02)
        model.reference_energy.fill_(-0.5)
    return NNPCalculator(model, dtype="float64")


def _labelled_by(calc, n: int) -> list:
    rng = np.random.default_rng(4)
    out = []
    for k in range(n):
        atoms = bulk("Si", "diamond", 5.43 * rng.uniform(0.95, 1.05), cubic=True)
        atoms.rattle(0.1, seed=k)
        res = calc.predict([atoms])[0]
        atoms.calc = SinglePointCalculator(atoms, energy=res["energy"], forces=res["forces"])
        out.append(atoms)
    return out


@pytest.mark.parametrize(("whitening", "anchor"), [(False, True), (True, True), (False, False)])
def test_linear_start_reproduces_a_linear_teacher(tmp_path, whitening, anchor):
    """Energy and forces of a model linear in the descriptors are recovered at epoch 0, in
    the standardised or the whitened feature basis, anchored or with a fitted intercept."""
    teacher = _linear_teacher()
    data = _labelled_by(teacher, 12)
    path = tmp_path / "linear.extxyz"
    ase.io.write(path, data)
    cfg = validate_config(config(path, tmp_path, val_fraction=0.0, isolated_atom_energies={
        "Si": -0.5}, model={"cutoff": 4.0, "hidden": [4], "descriptor": "shells",
                            "linear_term": True, "whitening": whitening,
                            "anchor_isolated": anchor}))
    prep = prepare(cfg)
    student = NNPCalculator(new_model(prep, seed=0)[0], dtype="float64")
    probe = _labelled_by(teacher, 14)[-2:]
    for atoms, res in zip(probe, student.predict(probe), strict=True):
        # exact up to the tiny ridge term of the fit (energies ~ -3.7 eV, forces ~ 0.1 eV/Å)
        assert res["energy"] == pytest.approx(atoms.get_potential_energy(), abs=1e-3)
        np.testing.assert_allclose(res["forces"], atoms.get_forces(), atol=1e-3)


def test_group_weights_take_the_first_matching_pattern():
    item = Labelled(bulk("Si"), 0.0, None, None, 1.0, "x:0")
    item.atoms.info["config_type"] = "vacancy_rattled"
    assert group_weight(item, "config_type", {"dimer": 0.1, "vacancy*": 3.0, "*": 2.0}) == 3.0
    assert group_weight(item, "config_type", {"dimer": 0.1}) == 1.0
    assert group_weight(item, "missing_key", {"*": 0.5}) == 0.5


def test_sqrt_atoms_weighs_large_cells_by_their_size(dataset, tmp_path):
    """Per structure, (ΔE/N)² weighs N/mean N under sqrt_atoms, 1 under per_atom."""
    cfg = validate_config(config(dataset, tmp_path, loss={"energy": 1.0, "forces": 0.0,
                                                          "energy_size": "sqrt_atoms"}))
    prep = prepare(cfg)
    batch, labels = prep.train.batch([0, 1], torch.float64, "cpu")
    labels.size = torch.tensor([1.0, 3.0], dtype=torch.float64)  # as if sizes differ 1:3
    out = {"energy": labels.energy + torch.tensor([0.8, 0.8], dtype=torch.float64)}
    n = batch.n_atoms.double()
    de2 = (0.8 / n) ** 2
    got = _loss_terms(out, labels, batch, cfg)["energy"]
    assert float(got) == pytest.approx(float((de2 * labels.size).sum() / 4.0))
    flat = _loss_terms(out, labels, batch, validate_config({**cfg.model_dump(), "loss": {
        "energy_size": "per_atom"}}))["energy"]
    assert float(flat) == pytest.approx(float(de2.mean()))


@pytest.mark.parametrize("normalise", ["batch", "data"])
def test_data_normalisation_gives_the_weighted_mean_at_any_batch_size(dataset, tmp_path,
                                                                    normalise):
    """Under `normalise: data` an epoch of mini-batches has the loss Σ w ΔE² / Σ w of the whole
    set at batch size 1 as at 16, so a weight of 100 counts 100x; under "batch" a batch of one
    structure divides by its own weight, and the epoch ignores the weights altogether."""
    cfg = validate_config(config(dataset, tmp_path, val_fraction=0.0, loss={
        "energy": 1.0, "forces": 0.0, "normalise": normalise}))
    prep = prepare(cfg)
    weights = np.where(np.arange(len(prep.train)) % 5 == 0, 100.0, 1.0)
    for item, w in zip(prep.train.items, weights, strict=True):
        item.weight = w
    model = new_model(prep, seed=0)[0]
    batch, labels = prep.train.batch(range(len(prep.train)), torch.float64, "cpu")
    energy = evaluate(model, batch, forces=False)["energy"].detach()
    de2 = (((energy - labels.energy) / batch.n_atoms) ** 2).numpy()
    idle = torch.optim.SGD(model.parameters(), lr=0.0)
    means = mean_term_weights(prep.train, cfg)
    losses = {}
    for size in (1, len(prep.train)):
        prep.config.batch_size = size
        losses[size] = float(_accumulate_loss(model, prep, list(range(len(prep.train))), idle,
                                              means=means))
    weighted = float(np.sum(weights * de2) / np.sum(weights))
    assert losses[len(prep.train)] == pytest.approx(weighted, rel=1e-9)
    single = weighted if normalise == "data" else float(np.mean(de2))
    assert losses[1] == pytest.approx(single, rel=1e-9)
    assert abs(weighted - float(np.mean(de2))) > 0.1 * weighted  # the weights matter here
    if normalise == "data":  # the validation loss, in chunks of any size, is the same mean
        for chunk in (1, 16):
            got = evaluate_set(model, prep.train, cfg, torch.float64, "cpu", chunk=chunk)
            assert got["loss"] == pytest.approx(weighted, rel=1e-9)


def test_stress_groups_weigh_the_stress_term_alone(tmp_path):
    """A stress group weight of 0 on one of two structures leaves the energy and force terms
    as they were and makes the stress term the other structure's squared virial error alone;
    3 on it weighs it 3:1."""
    data = lj_labelled(8)
    for k, atoms in enumerate(data):
        atoms.info["config_type"] = "strained" if k % 2 else "rattled"
    path = tmp_path / "typed.extxyz"
    ase.io.write(path, data)

    def terms(stress_groups):
        cfg = validate_config(config(path, tmp_path, val_fraction=0.0, loss={
            "energy": 1.0, "forces": 0.5, "stress": 1.0, "stress_groups": stress_groups}))
        prep = prepare(cfg)
        types = [it.atoms.info["config_type"] for it in prep.train.items]
        pair = [types.index("strained"), types.index("rattled")]
        batch, labels = prep.train.batch(pair, torch.float64, "cpu")
        full = torch.as_tensor(voigt_6_to_full_3x3_stress(labels.stress.numpy()))
        shift = torch.tensor([1e-3, 2e-3], dtype=torch.float64)
        out = {"energy": labels.energy + 0.1, "forces": labels.forces + 0.01,
               "stress": full + shift[:, None, None]}  # every component off by the shift
        virial2 = (shift * batch.volume / batch.n_atoms) ** 2
        return _loss_terms(out, labels, batch, cfg), virial2

    plain, virial2 = terms({})
    assert float(plain["stress"]) == pytest.approx(float(virial2.mean()))
    off, _ = terms({"strained": 0.0})
    assert float(off["stress"]) == pytest.approx(float(virial2[1]))
    three, _ = terms({"strain*": 3.0})
    assert float(three["stress"]) == pytest.approx(float((3 * virial2[0] + virial2[1]) / 4))
    for name in ("energy", "forces"):
        assert float(off[name]) == float(plain[name]) == float(three[name])


def test_plateau_floor_stops_training(dataset, tmp_path):
    """With no progress possible (lr at its floor, effectively zero) training stops once the
    plateau patience runs out, long before `epochs`."""
    fit(config(dataset, tmp_path, epochs=200, lr=1e-14, lr_min=1e-14, scheduler="plateau",
               plateau_patience=3, patience=200), progress=False)
    history = json.loads((tmp_path / "run" / "log.json").read_text())
    assert len(history) <= 6


def test_full_batch_lbfgs_lowers_the_loss(dataset, tmp_path):
    fit(config(dataset, tmp_path, epochs=4, optimizer="lbfgs", lr=1.0, scheduler="none"),
        progress=False)
    history = json.loads((tmp_path / "run" / "log.json").read_text())
    assert history[-1]["train_loss"] < 0.1 * history[0]["train_loss"]


def test_negative_group_weight_is_refused(dataset, tmp_path):
    with pytest.raises(Exception, match="groups"):
        validate_config(config(dataset, tmp_path, loss={"groups": {"dimer": -1.0}}))


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "lj.extxyz"
    ase.io.write(path, lj_labelled(16))
    return path


def test_a_fitted_start_is_kept_when_training_only_makes_it_worse(tmp_path):
    """Epoch 0 (the linear start) competes for best model: a ruinous learning rate cannot
    replace an exact start."""
    teacher = _linear_teacher()
    path = tmp_path / "linear.extxyz"
    ase.io.write(path, _labelled_by(teacher, 12))
    fit(config(path, tmp_path, epochs=3, lr=0.5, isolated_atom_energies={"Si": -0.5},
               model={"cutoff": 4.0, "hidden": [4], "descriptor": "shells",
                      "linear_term": True}), progress=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    history = json.loads((tmp_path / "run" / "log.json").read_text())
    assert [row["epoch"] for row in history] == [0, 1, 2, 3]
    assert history[1]["val_loss"] > 100 * history[0]["val_loss"]
    assert summary["best_epochs"] == [0]
    assert summary["validation"]["energy_rmse_meV_per_atom"] < 0.05


def test_whitened_features_are_decorrelated():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(5, 5))
    x = torch.as_tensor(rng.normal(size=(4000, 5)) @ mixing)
    species = torch.zeros(4000, dtype=torch.long)
    w = whitening_matrices(x, species, 1)
    y = (x - x.mean(0)) @ w[0]
    np.testing.assert_allclose((y.T @ y / 3999).numpy(), np.eye(5), atol=1e-8)


def test_resume_with_weight_averaging_reproduces_an_uninterrupted_run(dataset, tmp_path):
    full = config(dataset, tmp_path, out=str(tmp_path / "full"), epochs=4, ema_decay=0.9)
    fit(full, progress=False)
    part = {**full, "out": str(tmp_path / "part"), "epochs": 2}
    fit(part, progress=False)
    fit({**part, "epochs": 4}, resume=True, progress=False)
    a = torch.load(tmp_path / "full" / "last.ckpt", weights_only=True)
    b = torch.load(tmp_path / "part" / "last.ckpt", weights_only=True)
    for key, value in a["averaged"].items():
        assert torch.equal(value, b["averaged"][key]), key
    # the averaged weights are not the raw ones: the average is what gets evaluated
    assert any(not torch.equal(a["averaged"][k], a["model"][k]) for k in a["model"])
    history = json.loads((tmp_path / "full" / "log.json").read_text())
    assert history[-1]["train_loss"] < history[0]["train_loss"]
