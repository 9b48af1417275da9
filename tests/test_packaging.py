"""Installed like its peers: a wheel that carries the Si model and data, models by name,
ASE conventions (per-atom properties, todict in trajectories, extxyz round trips)."""

from __future__ import annotations

import site
import subprocess
import sys
import zipfile
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from ase.io import Trajectory

from nnpcalc import NNPCalculator, __version__, load_model
from nnpcalc.models.registry import model_class
from nnpcalc.pretrained import DATA_DIR, MODELS, model_path
from nnpcalc.train import load_config
from nnpcalc.train.config import config_chain

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    """pip wheel → fresh venv (reusing this environment's torch etc. through a .pth path, not
    its editable nnpcalc) → commands run from a directory outside the checkout."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("nnpcalc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("si_model.pt", "train_si.yaml", "si_pbe.extxyz", "si_pbe_baselines.json",
                    "si_probes.extxyz"):
        assert f"nnpcalc/data/{shipped}" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], check=True, capture_output=True,
                             text=True).stdout.strip()
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--target", purelib, str(wheel)], check=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def run(*args):
        return subprocess.run([str(python), *args], cwd=outside, check=True,
                              capture_output=True, text=True).stdout

    assert run("-m", "nnpcalc", "--version").strip() == f"nnpcalc {__version__}"
    assert "si-pbe" in run("-m", "nnpcalc", "models")
    code = ("import nnpcalc; from nnpcalc import NNPCalculator; from ase.build import bulk; "
            "a = bulk('Si'); a.calc = NNPCalculator('si-pbe'); "
            "print(nnpcalc.__file__); print(a.get_potential_energy())")
    where, energy = run("-c", code).split()
    assert Path(where).is_relative_to(purelib)  # the wheel's copy, not the checkout
    reference = bulk("Si")
    reference.calc = NNPCalculator("si-pbe")
    assert float(energy) == pytest.approx(reference.get_potential_energy(), abs=1e-5)


def test_models_by_name_and_a_clear_error_for_unknown_names():
    assert model_path("si-pbe").is_file()
    calc = NNPCalculator("si-pbe")
    assert calc.todict()["model"] == "si-pbe" and len(calc.todict()["model_sha256"]) == 64
    with pytest.raises(FileNotFoundError, match="shipped model's name: si-pbe"):
        NNPCalculator("si-pbx")
    with pytest.raises(KeyError, match="known: si-pbe"):
        model_path("si-pbx")
    assert set(MODELS) >= {"si-pbe"}


def test_ase_per_atom_properties_trajectory_and_extxyz(tmp_path):
    atoms = bulk("Si", "diamond", 5.43, cubic=True)
    atoms.rattle(0.05, seed=2)
    atoms.calc = NNPCalculator("si-pbe", dtype="float64")
    energies, stresses = atoms.get_potential_energies(), atoms.get_stresses()
    assert energies.sum() == pytest.approx(atoms.get_potential_energy(), abs=1e-9)
    np.testing.assert_allclose(stresses.sum(0), atoms.get_stress(), atol=1e-12)
    with Trajectory(tmp_path / "t.traj", "w") as traj:
        traj.write(atoms)
    back = ase.io.read(tmp_path / "t.traj")
    assert back.calc.name == "nnpcalc"
    assert back.calc.parameters["model"] == "si-pbe"
    assert back.calc.parameters["model_sha256"] == atoms.calc.model_sha256
    assert back.calc.parameters["dtype"] == "float64"
    rebuilt = NNPCalculator(**back.calc.parameters)  # what a trajectory records rebuilds it
    assert rebuilt.todict() == atoms.calc.todict()
    with pytest.raises(ValueError, match="SHA-256"):
        NNPCalculator(**{**back.calc.parameters, "model_sha256": "0" * 64})
    ase.io.write(tmp_path / "a.extxyz", atoms)
    again = ase.io.read(tmp_path / "a.extxyz")
    assert again.get_potential_energy() == pytest.approx(atoms.get_potential_energy())
    np.testing.assert_allclose(again.get_forces(), atoms.get_forces(), atol=1e-6)
    np.testing.assert_allclose(again.get_potential_energies(), energies, atol=1e-6)


def test_shipped_training_configs_form_a_chain_and_describe_their_models():
    """Every shipped training config validates; each `init_from` is the `out` of another shipped
    config (a staged model can be retrained from its files alone); each shipped model's
    architecture is the one its named config asks for."""
    configs = {p.name: load_config(p) for p in sorted(DATA_DIR.glob("train_si*.yaml"))}
    staged = set()
    for entry in MODELS.values():  # every stage file of a shipped model is in its chain
        stem = entry["config"].removesuffix(".yaml")
        chain = {path.name for path, _ in config_chain(DATA_DIR / entry["config"])}
        assert chain == {entry["config"], *(p.name for p in DATA_DIR.glob(f"{stem}_stage*.yaml"))}
        staged |= chain
    assert staged == set(configs)  # and no shipped config belongs to no model
    for name, entry in MODELS.items():
        config, model = configs[entry["config"]], load_model(model_path(name))
        asked = model_class(config.model.kind).config_from_settings(
            config.model, model.species, model.config()["anchor_isolated"])
        built = model.config()
        differ = {k: (v, built.get(k)) for k, v in asked.items()
                  if v is not None and built.get(k) != v}
        assert not differ, (name, differ)
