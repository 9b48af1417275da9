"""The demo picks the shipped model by its test errors, not by a fixed name."""

from __future__ import annotations

import torch

from nnpcalc.commands.demo import _choose
from nnpcalc.models.model_file import load_model, save_model
from nnpcalc.pretrained import data_file, model_path


def test_demo_chooses_the_model_with_the_lower_test_error(tmp_path, capsys):
    shipped = model_path("si-pbe")
    summary = torch.load(shipped, weights_only=True)["metadata"]["summary"]
    worse = load_model(shipped)
    with torch.no_grad():  # same architecture and split, deliberately perturbed weights
        for p in worse.parameters():
            p.add_(0.05 * torch.randn_like(p))
    worse_path = save_model(worse, tmp_path / "worse.pt", metadata={"summary": summary})
    for order in (("worse", "shipped"), ("shipped", "worse")):
        paths = {"worse": worse_path, "shipped": shipped}
        name, path = _choose({k: paths[k] for k in order}, data_file("si_pbe.extxyz"))
        assert name == "shipped" and path == shipped
    assert "-> shipped: the lowest test energy RMSE on periodic cells" in capsys.readouterr().out
