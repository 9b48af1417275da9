"""Test helpers for e3nn models whose grown terms start at zero."""

from __future__ import annotations

import torch

from nnpcalc.models.e3nn_mp import E3nnModel


def switch_on_scalar_layer(model: E3nnModel) -> E3nnModel:
    """Random maps in the scalar layer, which starts at zero (adding nothing) so that a file
    without it can start it: a test of what the layer computes needs it switched on."""
    with torch.no_grad():
        for name in ("linear", "self_connection", "product_linear"):
            getattr(model.layers[-1], name).weight.normal_()
    return model


def switch_on_outer(model: E3nnModel) -> E3nnModel:
    """Random output map for the outer radial term, which starts at zero too."""
    with torch.no_grad():
        model.outer.mlp[-1].weight.normal_()
        model.outer.mlp[-1].bias.normal_()
    return model
