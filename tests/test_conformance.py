"""The conformance suite (nnpcalc.testing) on every model kind, and proof that it can fail."""

from __future__ import annotations

import json

import ase.io
import pytest
import torch
from broken_calculators import Broken, FalselyLocal, WrongFastDerivatives
from e3nn_factory import switch_on_layers, switch_on_outer
from structures_factory import rattled_diamond

from nnpcalc.calculator import NNPCalculator
from nnpcalc.cli import main
from nnpcalc.models import Ensemble
from nnpcalc.models.e3nn_mp import E3nnModel
from nnpcalc.teachers import SWCalculator
from nnpcalc.testing import CHECKS, run_checks


def _kinds(si_model, sic_model) -> dict:
    from conftest import normalised_model

    other = normalised_model(["Si"], [rattled_diamond(seed=s) for s in range(3)], seed=1)
    torch.manual_seed(0)
    e3nn = E3nnModel(["Si", "C"], cutoff=4.0, l_max=2, channels=4, n_layers=2,
                      readout_hidden=[8, 6], scalars=6)
    e3nn.reference_energy.copy_(torch.tensor([-0.8, -1.3]))
    e3nn.mean_neighbours.fill_(12.0)
    cross = E3nnModel(["Si", "C"], cutoff=4.0, l_max=2, channels=4, n_layers=2,
                      cross_channels=True)
    with torch.no_grad():  # the channel-pair terms start at zero: switch them on
        for layer in cross.layers:
            layer.cross_linear.weight.normal_()
    cross.mean_neighbours.fill_(12.0)
    bispectrum = E3nnModel(["Si", "C"], cutoff=4.0, l_max=3, channels=4, n_layers=1,
                           bispectrum=True)
    with torch.no_grad():  # the channel triples start at zero too
        bispectrum.layers[0].triples_linear.weight.normal_()
    bispectrum.mean_neighbours.fill_(12.0)
    torch.manual_seed(1)
    outer = switch_on_outer(E3nnModel(["Si", "C"], cutoff=3.5, l_max=2, channels=4,
                                      n_layers=1, outer_cutoff=5.0))
    outer.mean_neighbours.fill_(12.0)
    scalar = switch_on_layers(E3nnModel(["Si", "C"], cutoff=4.0, l_max=2, channels=4,
                                        n_layers=1, scalar_layer=True), 1)
    scalar.mean_neighbours.fill_(12.0)
    reach = switch_on_layers(E3nnModel(["Si", "C"], cutoff=4.0, l_max=3, channels=4,
                                       n_layers=1, reach_layers=1, cross_channels=True), 1)
    reach.mean_neighbours.fill_(12.0)
    return {
        "e3nn": NNPCalculator(e3nn, dtype="float64"),
        "e3nn_cross_channels": NNPCalculator(cross, dtype="float64"),
        "e3nn_scalar_layer": NNPCalculator(scalar, dtype="float64"),
        "e3nn_reach": NNPCalculator(reach, dtype="float64"),
        "e3nn_bispectrum": NNPCalculator(bispectrum, dtype="float64"),
        "e3nn_outer": NNPCalculator(outer, dtype="float64"),
        "bpnn": NNPCalculator(si_model, dtype="float64"),
        "bpnn_two_species": NNPCalculator(sic_model, dtype="float64"),
        "stillinger_weber": SWCalculator(),
        "ensemble": NNPCalculator(Ensemble([si_model, other]), dtype="float64"),
    }


KINDS = ["bpnn", "bpnn_two_species", "stillinger_weber", "ensemble", "e3nn",
         "e3nn_cross_channels", "e3nn_scalar_layer", "e3nn_reach", "e3nn_bispectrum",
         "e3nn_outer"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("check", list(CHECKS))
def test_every_kind_passes_every_check(kind, check, si_model, sic_model):
    calc = _kinds(si_model, sic_model)[kind]
    (result,) = run_checks(calc, names=[check])
    if check == "local_chunks" and not getattr(calc.model, "local", False):
        assert result.status == "n/a"  # message passing: an atom's energy sees n_layers × r_c
        return
    assert result.status == "pass", (result.name, result.deviation, result.tolerance)


def test_local_and_fast_derivative_checks_can_fail():
    wrong = {name: r.status for name, r in zip(CHECKS, run_checks(
        NNPCalculator(WrongFastDerivatives(), dtype="float64")), strict=True)}
    assert wrong["first_derivatives"] == "FAIL" and wrong["forces"] == "FAIL"
    assert wrong["local_chunks"] == "n/a"
    (chunks,) = run_checks(NNPCalculator(FalselyLocal(), dtype="float64"), names=["local_chunks"])
    assert chunks.status == "FAIL"


def test_the_checks_catch_a_broken_calculator():
    results = {name: r.status for name, r in zip(CHECKS, run_checks(Broken()), strict=True)}
    for name in ("forces", "stress", "rotation", "translation", "cutoff"):
        assert results[name] == "FAIL", name
    # what the calculator does not offer is reported, not passed
    for name in ("energies_sum", "stresses_sum", "batched", "save_load", "isolated_atom"):
        assert results[name] == "n/a", name


def test_check_command_prints_a_table_and_sets_the_exit_code(tmp_path, capsys):
    out = tmp_path / "check.json"
    assert main(["check", "teacher", "--only", "forces", "rotation", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "forces = -dE/dR" in text and "pass" in text
    assert [r["status"] for r in json.loads(out.read_text())] == ["pass", "pass"]
    assert main(["check", "broken_calculators:factory", "--only", "forces"]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert main(["check", "no_such_module:factory"]) == 2
    cell = tmp_path / "cell.extxyz"
    ase.io.write(cell, rattled_diamond(seed=4))
    assert main(["check", "teacher", "--structure", str(cell), "--only", "stress"]) == 0
