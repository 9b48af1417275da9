"""Data-parallel training: 2 gloo processes give the single-process run, resumes included."""

from __future__ import annotations

import json

import ase.io
import pytest
import torch
from test_train import lj_labelled

from nnpcalc.train import fit
from nnpcalc.train.distributed import launch


def _config(data, out, epochs):
    return {"data": [str(data)], "epochs": epochs, "batch_size": 5, "lr": 5e-3,
            "val_fraction": 0.2, "monitor": {"enabled": False}, "dtype": "float64",
            "loss": {"energy": 1.0, "forces": 0.5, "stress": 0.1}, "scheduler": "plateau",
            "model": {"cutoff": 4.5, "hidden": [8]}, "out": str(out)}


def _history(out):
    return [row["train_loss"] for row in json.loads((out / "log.json").read_text())]


def _weights(out):
    return torch.load(out / "model.pt", weights_only=True)["state_dict"]


@pytest.mark.slow
def test_two_processes_equal_one_and_resume(tmp_path):
    data = tmp_path / "lj.extxyz"
    ase.io.write(data, lj_labelled(14))  # 11 training structures: the last batch is odd
    fit(_config(data, tmp_path / "one", 4), progress=False)
    launch(2, fit, _config(data, tmp_path / "two", 4), False, False)
    assert _history(tmp_path / "two") == pytest.approx(_history(tmp_path / "one"), rel=1e-10)
    single, double = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    for key, value in single.items():
        torch.testing.assert_close(double[key], value, rtol=1e-10, atol=1e-12)
    # a distributed run stopped after 2 epochs and resumed equals the uninterrupted one
    launch(2, fit, _config(data, tmp_path / "resumed", 2), False, False)
    launch(2, fit, _config(data, tmp_path / "resumed", 4), True, False)
    assert _history(tmp_path / "resumed") == pytest.approx(_history(tmp_path / "two"),
                                                           rel=1e-12)
