"""Tutorials run at small scale (the full runs are documented in each script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, tmp_path: Path, *args: str) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tutorials" / script), "--quick",
                           "--out", str(tmp_path), *args], capture_output=True, text=True,
                          timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_phonon_study_with_the_teacher(tmp_path):
    run("phonon_study.py", tmp_path, "--model", "teacher")
    summary = json.loads((tmp_path / "phonons.json").read_text())
    assert summary["imaginary_band_points"] == 0 and (tmp_path / "bands.png").is_file()
    assert max(summary["gamma_THz"]) == pytest.approx(17.83, abs=0.05)  # SW Si at Γ


def test_defect_study_with_the_teacher(tmp_path):
    run("defect_study.py", tmp_path, "--model", "teacher")
    vacancy = json.loads((tmp_path / "defects.json").read_text())["vacancy"]
    assert vacancy[-1]["n_atoms"] == 63
    assert 2.6 < vacancy[-1]["formation_energy_eV"] < 3.0


def test_invariant_points_tutorial_quick(tmp_path):
    run("invariant_points.py", tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"a_cutoff_3.77", "b_liquid_only"}
    assert (tmp_path / "results.md").is_file() and (tmp_path / "summary.png").is_file()
