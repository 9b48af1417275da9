"""The demo picks the shipped model by its test errors, not by a fixed name."""

from __future__ import annotations

import ase.io
import torch

from nnpcalc.commands.demo import _choose, _common_test
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
    structures = ase.io.read(data_file("si_pbe.extxyz"), ":")
    for order in (("worse", "shipped"), ("shipped", "worse")):
        paths = {"worse": worse_path, "shipped": shipped}
        name, path = _choose({k: paths[k] for k in order}, structures)
        assert name == "shipped" and path == shipped
    assert "-> shipped: the lowest test energy RMSE on periodic cells" in capsys.readouterr().out


def test_models_with_different_splits_are_scored_on_what_none_of_them_has_seen(tmp_path):
    shipped = model_path("si-pbe")
    summary = torch.load(shipped, weights_only=True)["metadata"]["summary"]
    sources = summary["split_sources"]
    moved = sources["test"][:3]  # the other model trained on three of the shipped test cells
    other_sources = {**sources, "train": sources["train"] + moved, "test": sources["test"][3:]}
    other = save_model(load_model(shipped), tmp_path / "other.pt",
                       metadata={"summary": {**summary, "split_sources": other_sources}})
    unseen = set(_common_test({"shipped": shipped, "other": other}))
    index = {name: {int(s.rsplit(":", 1)[1]) for s in items} for name, items in sources.items()}
    assert not unseen & (index["train"] | index["validation"])
    assert not unseen & {int(s.rsplit(":", 1)[1]) for s in moved}
    assert index["test"] - {int(s.rsplit(":", 1)[1]) for s in moved} <= unseen
    # one model alone is scored on its own test split, as its report is
    assert _common_test({"shipped": shipped}) == sorted(index["test"])
