"""Test helpers for e3nn models whose grown terms start at zero."""

from __future__ import annotations

import torch

from nnpcalc.models.e3nn_mp import E3nnModel


def switch_on_layers(model: E3nnModel, count: int) -> E3nnModel:
    """Random maps in the last `count` layers: the scalar and reach layers start at zero
    (adding nothing) so that a file without them can start them, and a test of what they
    compute needs them switched on."""
    with torch.no_grad():
        for layer in model.layers[-count:]:
            for module in layer.update_maps():
                module.weight.normal_()
    return model


def switch_on_outer(model: E3nnModel) -> E3nnModel:
    """Random output map for the outer radial term, which starts at zero too."""
    with torch.no_grad():
        model.outer.mlp[-1].weight.normal_()
        model.outer.mlp[-1].bias.normal_()
    return model
