"""Labelling on Dask: equal to a serial run, nothing lost when a worker dies, failures kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import ase.io
import numpy as np
import pytest

pytest.importorskip("distributed", reason="Dask (pip install distributed) is absent")

from nnpcalc.labeling import label  # noqa: E402
from nnpcalc.sampling import crystal, rattled  # noqa: E402


def _structures(n: int):
    cell = crystal("diamond").repeat(2)
    return [rattled(cell, 0.05, seed=k) for k in range(n)]


def _by_hash(path: Path) -> dict[str, float]:
    text = path.read_text()
    frames = ase.io.read(path, ":")
    hashes = re.findall(r"\blabel_hash=([0-9a-f]+)\b", text)
    return {h: a.get_potential_energy() for h, a in zip(hashes, frames, strict=True)}


@pytest.mark.slow
def test_two_workers_label_like_a_serial_run(tmp_path):
    structures = _structures(20)
    serial = label(structures, "teacher", {}, tmp_path / "serial.extxyz", progress=False)
    parallel = label(structures, "teacher", {}, tmp_path / "dask.extxyz", progress=False,
                     scheduler="local:2")
    assert serial == parallel == {"done_before": 0, "labelled": 20, "failed": 0}
    a, b = _by_hash(tmp_path / "serial.extxyz"), _by_hash(tmp_path / "dask.extxyz")
    assert a.keys() == b.keys()
    np.testing.assert_allclose([b[h] for h in a], list(a.values()), atol=1e-10)
    again = label(structures, "teacher", {}, tmp_path / "dask.extxyz", progress=False,
                  scheduler="local:2")
    assert again == {"done_before": 20, "labelled": 0, "failed": 0}


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_failures_are_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPCALC_TEST_MARKER", str(tmp_path / "killed"))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    structures = _structures(8)
    structures[3].info["config_type"] = "die"
    structures[5].info["config_type"] = "bad"
    out = tmp_path / "out.extxyz"
    counts = label(structures, "flaky_calculators:flaky", {}, out, progress=False,
                   scheduler="local:2", retries=1)
    assert (tmp_path / "killed").exists()  # a worker really died mid-task
    assert counts == {"done_before": 0, "labelled": 7, "failed": 1}
    labelled = _by_hash(out)
    assert len(labelled) == 7  # each exactly once, the killed one included
    failures = [json.loads(line) for line in
                out.with_suffix(".extxyz.failures.jsonl").read_text().splitlines()]
    assert [f["index"] for f in failures] == [5]
    assert "always fails" in failures[0]["error"]


@pytest.mark.slow
def test_properties_of_several_models_on_dask_equal_the_serial_run(tmp_path):
    """Same numbers to round-off (workers run one thread, the test process may run more; a
    random-weight model is no use here: its relaxations are chaotic)."""
    from nnpcalc.cli import main

    model = "si-pbe"
    serial, parallel = tmp_path / "serial.json", tmp_path / "dask.json"
    assert main(["properties", "teacher", model, "--out", str(serial)]) == 0
    assert main(["properties", "teacher", model, "--scheduler", "local:2",
                 "--out", str(parallel)]) == 0
    a = json.loads(serial.read_text())["properties"]
    b = json.loads(parallel.read_text())["properties"]
    assert a.keys() == b.keys() == {"teacher", model}
    for name in a:
        assert b[name] == pytest.approx(a[name], rel=1e-6)
    assert a["teacher"]["C11_GPa"] == pytest.approx(151.4, abs=1.5)  # SW's published C11
