"""The audit out of the box: shipped probes by default, pinned isolated atoms, probe overlap."""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from conftest import normalised_model
from structures_factory import rattled_diamond

from nnpcalc.analysis.audit import audit, coincides, default_probes
from nnpcalc.calculator import NNPCalculator
from nnpcalc.cli import main
from nnpcalc.models.model_file import save_model
from nnpcalc.sampling import crystal
from nnpcalc.teachers.dataset import label_with_teacher

DATA = Path(__file__).resolve().parents[1] / "data"
PROBES = (DATA / "si_probes.extxyz").resolve()


@pytest.fixture(scope="module")
def pbe_training():
    """The 1-2-atom structures of the shipped PBE data (isolated atom, dimers, crystals)."""
    return [a for a in ase.io.read(DATA / "si_pbe.extxyz", ":") if len(a) <= 2]


def test_default_audit_uses_the_shipped_probes(si_model, pbe_training, tmp_path, capsys):
    model = save_model(si_model, tmp_path / "model.pt")
    train = tmp_path / "train.extxyz"  # no probe file beside it: the repository's is found
    ase.io.write(train, pbe_training)
    assert main(["audit", str(model), "--data", str(train), "--out", str(tmp_path / "a")]) == 0
    printed = json.loads(capsys.readouterr().out.split("report:")[0])
    assert Path(printed["default_probes"]).resolve() == PROBES
    result = json.loads((tmp_path / "a" / "audit.json").read_text())
    n_probes = len(ase.io.read(PROBES, ":"))
    assert result["excluded_probes"] == []  # the shipped probes are not in the data
    assert result["mapping_stats_meV"]["probe"]["all"]["n_points"] == n_probes
    # A random-weight model is far from PBE totals: the specific verdict is a poor fit, and
    # it is reached because the probes give held-out invariant points.
    assert result["verdict"] == "poor fit"
    assert result["fit_energy_rmse_meV_per_atom"]["training"] > 1000
    assert main(["audit", str(model), "--data", str(train), "--no-default-probes",
                 "--out", str(tmp_path / "b")]) == 0
    assert json.loads((tmp_path / "b" / "audit.json").read_text())["verdict"] == "undetermined"


def test_default_probes_need_the_same_energy_zero(si_model, pbe_training):
    calc = NNPCalculator(si_model)
    probes, path, _ = default_probes(calc, pbe_training, [])
    assert path.resolve() == PROBES and len(probes) > 10
    teacher = label_with_teacher([crystal("diamond")])  # Stillinger-Weber labels, no DFT
    probes, path, why = default_probes(calc, teacher, [])
    assert probes == [] and path is None and "energy zero" in why


def test_anchored_isolated_atom_is_pinned_never_held_out():
    training = label_with_teacher([crystal("diamond", volume_per_atom=v)
                                   for v in (19.0, 20.45, 22.0)])
    structures = [rattled_diamond(seed=s) for s in range(3)]
    anchored = NNPCalculator(normalised_model(["Si"], structures))  # E0 = -1.5 eV
    free = NNPCalculator(normalised_model(["Si"], structures, anchor_isolated=False))
    atom = Atoms("Si", positions=[[0, 0, 0]])
    assert anchored.predict([atom])[0]["energy"] == pytest.approx(-1.5, abs=1e-12)
    isolated = {"Si": -0.8}

    result = audit(anchored, training, isolated_atom_energies=isolated)
    assert result.pinned["n_points"] == 1
    assert result.pinned["max_abs_meV"] == pytest.approx(700.0, abs=1e-6)  # -1.5 - (-0.8)
    assert result.verdict == "undetermined" and np.isnan(result.held_out_mapping_rmse_meV)
    assert "pinned" in result.explanation

    probes = label_with_teacher([crystal("fcc"), crystal("bcc")])
    with_probes = audit(anchored, training, probes=probes, isolated_atom_energies=isolated)
    probe_errors = [p.error_meV for p in with_probes.points if p.source == "probe"]
    assert with_probes.held_out_mapping_rmse_meV == pytest.approx(
        np.sqrt(np.mean(np.square(probe_errors))), rel=1e-12)

    # Without the anchor the model's isolated atom is a prediction: it is held-out evidence.
    e_free = free.predict([atom])[0]["energy"]
    unpinned = audit(free, training, isolated_atom_energies=isolated)
    assert unpinned.pinned["n_points"] == 0
    assert unpinned.held_out_mapping_rmse_meV == pytest.approx(
        abs(1000 * (e_free + 0.8)), rel=1e-9)
    forced = audit(anchored, training, isolated_atom_energies=isolated, anchored=False)
    assert forced.held_out_mapping_rmse_meV == pytest.approx(700.0, abs=1e-6)


def test_probes_equal_to_training_structures_are_dropped():
    training = label_with_teacher([crystal("diamond", volume_per_atom=v)
                                   for v in (19.0, 20.45, 22.0)])
    same = crystal("diamond", volume_per_atom=20.45).repeat((2, 1, 1))  # a supercell of one
    same.rattle(1e-5, seed=1)  # below the tolerance
    other = crystal("diamond", volume_per_atom=20.0)
    assert coincides(training[1], same) and not coincides(training[1], other)
    probes = label_with_teacher([other, same, crystal("fcc")])
    result = audit(NNPCalculator(normalised_model(["Si"], training)), training, probes=probes)
    assert result.excluded_probes == [1]
    assert result.mapping_stats_meV["probe"]["all"]["n_points"] == 2


def test_report_audits_with_the_shipped_probes_as_the_audit_command_does(si_model, pbe_training,
                                                                          tmp_path):
    model = save_model(si_model, tmp_path / "model.pt")
    train = tmp_path / "train.extxyz"
    ase.io.write(train, pbe_training)
    n_probes = len(ase.io.read(PROBES, ":"))
    for flags, expected in (([], n_probes), (["--no-default-probes"], None)):
        out = tmp_path / f"report{len(flags)}"
        assert main(["report", str(model), "--training", str(train), "--out", str(out),
                     *flags]) == 0
        stats = json.loads((out / "report.json").read_text())["audit"]["mapping_stats_meV"]
        assert stats.get("probe", {}).get("all", {}).get("n_points") == expected


def test_report_refuses_probes_without_training_data(si_model, tmp_path, capsys):
    model = save_model(si_model, tmp_path / "model.pt")
    assert main(["report", str(model), "--probes", str(PROBES), "--out",
                 str(tmp_path / "r")]) == 2
    assert "--probes needs --training" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
