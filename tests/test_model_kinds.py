"""The model registry: kinds are built, trained, saved and loaded by name, never by isinstance."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
import torch
from test_train import lj_labelled

from nnpcalc.calculator import NNPCalculator
from nnpcalc.models.e3nn_mp import E3nnModel
from nnpcalc.models.model_file import ModelFileError, load_model, save_model
from nnpcalc.models.registry import known_kinds, model_class, register_kind
from nnpcalc.teachers import StillingerWeber
from nnpcalc.train import ConfigError, fit, load_config


@pytest.fixture(scope="module")
def lj_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("kinds") / "lj.extxyz"
    ase.io.write(path, lj_labelled(12))
    return path


def _config(path, out, **model):
    return {"data": [str(path)], "epochs": 6, "batch_size": 4, "lr": 2e-2,
            "monitor": {"enabled": False}, "loss": {"energy": 1.0, "forces": 1.0},
            "isolated_atom_energies": {"Si": 0.0}, "dtype": "float64", "out": str(out),
            "model": model}


def test_e3nn_kind_trains_saves_and_loads(lj_file, tmp_path):
    model = fit(_config(lj_file, tmp_path / "run", kind="e3nn", cutoff=4.5, l_max=1,
                        channels=4, n_layers=2, readout_hidden=[6, 5], scalars=5),
                progress=False)
    history = json.loads((tmp_path / "run" / "log.json").read_text())
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    loaded = load_model(tmp_path / "run" / "model.pt")
    assert loaded.kind == "e3nn" and loaded.config() == model.config()
    assert float(loaded.mean_neighbours) > 10  # fitted from the training graphs
    atoms = lj_labelled(1, seed=7)[0]
    a = NNPCalculator(model, dtype="float64").predict([atoms])[0]
    b = NNPCalculator(tmp_path / "run" / "model.pt", dtype="float64").predict([atoms])[0]
    assert a["energy"] == b["energy"]
    np.testing.assert_array_equal(a["forces"], b["forces"])


def test_e3nn_files_older_than_the_width_options_keep_their_shapes():
    # files written before `readout_hidden` and `scalars` existed: one readout layer and
    # every irrep of `channels`
    old = {"species": ["Si"], "cutoff": 4.0, "l_max": 1, "channels": 4, "n_layers": 1}
    shapes = {k: v.shape for k, v in E3nnModel.from_config(old).state_dict().items()}
    explicit = E3nnModel.from_config({**old, "readout_hidden": [4], "scalars": 4}).state_dict()
    assert shapes == {k: v.shape for k, v in explicit.items()}


def test_replicas_of_any_kind_make_an_ensemble(lj_file, tmp_path):
    cfg = {**_config(lj_file, tmp_path / "ens", kind="e3nn", cutoff=4.5, l_max=0, channels=4,
                     n_layers=1), "epochs": 2, "replicas": 2}
    fit(cfg, progress=False)
    calc = NNPCalculator(tmp_path / "ens" / "model.pt", dtype="float64")
    assert calc.model.kind == "ensemble"
    assert [m.kind for m in calc.model.members] == ["e3nn", "e3nn"]
    res = calc.predict(lj_labelled(1, seed=8))[0]
    assert res["energy_std"] > 0


def test_teacher_saves_and_loads_like_any_model(tmp_path):
    path = save_model(StillingerWeber(partition="lammps"), tmp_path / "sw.pt")
    model = load_model(path)
    assert model.kind == "stillinger_weber" and model.partition == "lammps"


def test_unknown_and_untrainable_kinds_are_named(tmp_path, si_model):
    with pytest.raises(ValueError, match=r"unknown model kind 'mace'.*bpnn.*e3nn"):
        model_class("mace")
    with pytest.raises(ConfigError, match=r"'stillinger_weber' cannot be trained.*bpnn"):
        load_config(None, {"data": ["x"], "model": {"kind": "stillinger_weber"}})
    with pytest.raises(ConfigError, match=r"unknown config key 'model.hidden'.*channels"):
        load_config(None, {"data": ["x"], "model": {"kind": "e3nn", "hidden": [8]}})
    payload = torch.load(save_model(si_model, tmp_path / "m.pt"), weights_only=True)
    payload["kind"] = "mace"
    torch.save(payload, tmp_path / "foreign.pt")
    with pytest.raises(ModelFileError, match=r"unknown model kind 'mace'; known kinds"):
        load_model(tmp_path / "foreign.pt")


class HarmonicPairs(torch.nn.Module):
    """A kind from outside the package: ½k(r − r0)² per pair, halves to each atom."""

    kind = "test_harmonic"

    def __init__(self, k: float = 1.0, r0: float = 2.35, cutoff: float = 3.0):
        super().__init__()
        self.species, self.k, self.r0, self._cutoff = ["Si"], k, r0, cutoff

    @property
    def cutoff(self) -> float:
        return self._cutoff

    def config(self) -> dict:
        return {"k": self.k, "r0": self.r0, "cutoff": self._cutoff}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def forward(self, species, edge_i, edge_j, vectors, batch):
        r = torch.linalg.norm(vectors, dim=1)
        pair = 0.25 * self.k * (r - self.r0) ** 2 * (1 - r / self._cutoff) ** 2
        return vectors.new_zeros(len(species)).index_add(0, edge_i, pair)


def test_a_registered_outside_kind_is_saved_loaded_and_calculated(tmp_path):
    register_kind(HarmonicPairs)
    assert "test_harmonic" in known_kinds()
    path = save_model(HarmonicPairs(k=2.0), tmp_path / "h.pt")
    calc = NNPCalculator(path, dtype="float64")
    atoms = lj_labelled(1)[0]
    atoms.calc = calc
    assert calc.model.k == 2.0 and atoms.get_potential_energy() > 0
    with pytest.raises(TypeError, match="lacks"):
        register_kind(type("NoContract", (torch.nn.Module,), {"kind": "x"}))
