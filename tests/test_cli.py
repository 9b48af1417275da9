"""The command line end to end on teacher data: train → audit → report."""

from __future__ import annotations

import json

import ase.io
import pytest

from nnpcalc.analysis.invariant import probe_families
from nnpcalc.analysis.report import REFERENCE_VACANCY
from nnpcalc.cli import main
from nnpcalc.pretrained import data_file
from nnpcalc.sampling import crystal, rattled, vacancy
from nnpcalc.teachers.dataset import label_with_teacher


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli")
    cell = crystal("diamond").repeat(2)
    train = [crystal("diamond", volume_per_atom=v) for v in (19.5, 20.45, 21.5)]
    train += [rattled(cell, 0.1, seed=k) for k in range(6)] + [vacancy(cell, 0)]
    ase.io.write(path / "train.extxyz", label_with_teacher(train))
    ase.io.write(path / "probes.extxyz", label_with_teacher(
        probe_families("Si", volume_factors=(1.0,), phases=("diamond", "fcc"))))
    (path / "cfg.yaml").write_text(
        f"data: [{path / 'train.extxyz'}]\nepochs: 3\nbatch_size: 4\n"
        "model: {cutoff: 4.0, hidden: [8]}\nisolated_atom_energies: {Si: 0.0}\n"
        f"out: {path / 'run'}\n")
    assert main(["train", str(path / "cfg.yaml"), "--quiet"]) == 0
    return path


def test_train_cli_override_and_bad_key(workdir, capsys):
    assert (workdir / "run" / "model.pt").is_file()
    bad = workdir / "bad.yaml"
    bad.write_text("data: [x.extxyz]\nepoch: 3\n")
    assert main(["train", str(bad)]) == 2
    assert "unknown config key 'epoch'" in capsys.readouterr().err


def test_audit_cli_writes_report(workdir, capsys):
    out = workdir / "audit"
    assert main(["audit", str(workdir / "run" / "model.pt"), "--data",
                 str(workdir / "train.extxyz"), "--probes", str(workdir / "probes.extxyz"),
                 "--isolated-energy", "Si=0.0", "--out", str(out)]) == 0
    result = json.loads((out / "audit.json").read_text())
    # Three epochs of an 8-neuron network cannot fit totals to 10 meV/atom: a poor fit, judged
    # before the mapping (the probes make the held-out side non-empty).
    assert result["fit_energy_rmse_meV_per_atom"]["training"] > 10.0
    n_probes = len(ase.io.read(workdir / "probes.extxyz", ":"))
    # the diamond probe at 20.45 Å^3/atom is also a training crystal: dropped, not held out
    assert result["excluded_probes"] == [0]
    assert result["mapping_stats_meV"]["probe"]["all"]["n_points"] == n_probes - 1
    assert result["verdict"] == "poor fit"
    assert (out / "audit.md").is_file() and (out / "energy_vs_volume.png").is_file()
    assert "verdict" in capsys.readouterr().out


def test_report_cli_quick(workdir):
    baselines = workdir / "baselines.json"
    baselines.write_text(json.dumps({"a0_angstrom": 5.47, "B_GPa": 88.0, "C11_GPa": 153.0,
                                     "C12_GPa": 57.0, "C44_GPa": 75.0,
                                     "gamma_optical_THz": 15.1}))
    out = workdir / "report"
    # the shipped PBE-relaxed 63-atom vacancy and its perfect crystal among the test data: the
    # report gives the vacancy at that geometry, with the labels' value
    pbe_vacancy = workdir / "pbe_vacancy.extxyz"
    ase.io.write(pbe_vacancy, [a for a in ase.io.read(data_file("si_pbe.extxyz"), ":")
                               if a.info["config_type"] in REFERENCE_VACANCY])
    assert main(["report", str(workdir / "run" / "model.pt"), "--dft", str(baselines),
                 "--data", str(workdir / "probes.extxyz"), str(pbe_vacancy), "--out", str(out),
                 "--quick"]) == 0
    summary = json.loads((out / "report.json").read_text())
    names = [row[0] for row in summary["properties"]["table"]]
    assert names[:3] == ["a0", "B", "C11"]
    at_geometry = summary["properties"]["vacancy_at_dft_geometry"]
    # the labels' E(63) - 63/64 E(64) is the baseline (the relaxed cells relabelled on 4x4x4)
    shipped = json.loads(data_file("si_pbe_baselines.json").read_text())
    assert at_geometry["reference_eV"] == pytest.approx(shipped["vacancy64_formation_eV"],
                                                        abs=1e-3)
    assert any(name.startswith("vacancy formation at the DFT geometry (63 atoms")
               for name in names)
    assert (out / "report.html").read_text().count("data:image/png;base64") >= 2
