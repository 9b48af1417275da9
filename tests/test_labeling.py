"""Resumable labelling: skips finished work, records failures, keeps provenance (fast LJ/EMT)."""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from nnpcalc.cli import main as cli_main
from nnpcalc.labeling import gpaw_available, label, labelled_in_order, structure_hash, write_labels
from nnpcalc.sampling import diamond_supercell, dimer, rattled, vacancy


class Flaky(Calculator):
    """LJ, but fails on structures with an odd number of atoms (a stand-in for a crashed SCF)."""

    implemented_properties = ["energy", "forces", "stress"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if len(self.atoms) % 2:
            raise RuntimeError("SCF did not converge")
        lj = LennardJones(sigma=2.0, epsilon=0.5, rc=4.5)
        self.results = {p: lj.get_property(p, self.atoms) for p in self.implemented_properties}


def test_labelling_resumes_records_failures_and_provenance(tmp_path):
    structures = [rattled(diamond_supercell("Si", 5.43, 1), 0.05, seed=k) for k in range(4)]
    structures.insert(2, vacancy(structures[0]))  # 7 atoms: fails
    out = tmp_path / "labelled.extxyz"
    first = label(structures[:3], Flaky(), {"xc": "LJ"}, out, progress=False)  # "killed" here
    assert first == {"done_before": 0, "labelled": 2, "failed": 1}
    second = label(structures, Flaky(), {"xc": "LJ"}, out, progress=False)
    assert second == {"done_before": 2, "labelled": 2, "failed": 1}
    data = ase.io.read(out, ":")
    assert len(data) == 4
    failures = [json.loads(line) for line in out.with_suffix(".extxyz.failures.jsonl").open()]
    assert {f["index"] for f in failures} == {2} and "SCF" in failures[0]["error"]
    lj = LennardJones(sigma=2.0, epsilon=0.5, rc=4.5)
    for atoms, source in zip(data, [structures[i] for i in (0, 1, 3, 4)], strict=True):
        assert atoms.info["dft_code"] == "Flaky" and atoms.info["dft_xc"] == "LJ"
        assert atoms.info["label_hash"] == structure_hash(atoms, {"xc": "LJ"})
        assert atoms.get_potential_energy() == pytest.approx(lj.get_potential_energy(source))
        assert atoms.get_stress() == pytest.approx(lj.get_stress(source))


@pytest.mark.parametrize("digits", ["1684154152028947", "12e4567890123456"])
def test_rerun_skips_hashes_that_extxyz_reads_as_numbers(tmp_path, monkeypatch, digits):
    """A hash of only digits (or digits around one 'e') was read back as a number, never
    matched, and the structure was labelled again on every rerun (found in the Si data)."""
    import nnpcalc.labeling as labeling

    monkeypatch.setattr(labeling, "structure_hash", lambda atoms, settings: digits)
    out = tmp_path / "labelled.extxyz"
    calc = LennardJones(sigma=2.0, epsilon=0.5, rc=4.5)
    assert label([diamond_supercell()], calc, {}, out, progress=False)["labelled"] == 1
    again = label([diamond_supercell()], calc, {}, out, progress=False)
    assert again == {"done_before": 1, "labelled": 0, "failed": 0}
    assert len(ase.io.read(out, ":")) == 1
    assert len(labelled_in_order([diamond_supercell()], {}, out)) == 1  # found by its hash


def test_labels_come_back_in_the_callers_order(tmp_path):
    """Workers append labels as they finish; a script finds its structures by hash. The file
    is written in reverse order here; a structure never labelled, or labelled with other
    settings, must be named as missing."""
    out = tmp_path / "labelled.extxyz"
    calc = LennardJones(sigma=2.0, epsilon=0.5, rc=4.5)
    structures = [dimer("Si", d) for d in (2.2, 2.5, 2.8)]
    label(structures[::-1], calc, {"xc": "LJ"}, out, progress=False)
    back = labelled_in_order(structures, {"xc": "LJ"}, out)
    assert [a.get_distance(0, 1) for a in back] == pytest.approx([2.2, 2.5, 2.8])
    assert [a.get_potential_energy() for a in back] == pytest.approx(
        [calc.get_potential_energy(a) for a in structures])
    with pytest.raises(LookupError, match=r"structure 1 \(dimer, 2 atoms"):
        labelled_in_order([structures[0], dimer("Si", 3.1)], {"xc": "LJ"}, out)
    with pytest.raises(LookupError, match="structure 0"):
        labelled_in_order(structures, {"xc": "other"}, out)
    # settings per structure: one file, two settings, each structure found under its own
    label([dimer("Si", 3.1)], calc, {"xc": "other"}, out, progress=False)
    mixed = [structures[0], dimer("Si", 3.1)]

    def by_distance(atoms):
        return {"xc": "other"} if atoms.get_distance(0, 1) > 3 else {"xc": "LJ"}

    back = labelled_in_order(mixed, by_distance, out)
    assert [a.get_distance(0, 1) for a in back] == pytest.approx([2.2, 3.1])
    with pytest.raises(LookupError, match="structure 1"):
        labelled_in_order(mixed, lambda a: {"xc": "LJ"}, out)


def test_write_labels_replaces_the_file_or_leaves_it(tmp_path, monkeypatch):
    """A relabelled data file is rewritten whole; a write that dies half-way must leave the
    old file as it was, and no temporary file beside it once a write succeeds."""
    import nnpcalc.labeling as labeling

    path = tmp_path / "data.extxyz"
    write_labels([dimer("Si", 2.2)], path)
    before = path.read_bytes()

    def dies(filename, images, **kwargs):
        Path(filename).write_text("half a frame")
        raise OSError("disk full")

    monkeypatch.setattr(labeling.ase.io, "write", dies)
    with pytest.raises(OSError, match="disk full"):
        write_labels([dimer("Si", 2.5), dimer("Si", 2.8)], path)
    assert path.read_bytes() == before
    monkeypatch.undo()
    write_labels([dimer("Si", 2.5), dimer("Si", 2.8)], path)
    assert [a.get_distance(0, 1) for a in ase.io.read(path, ":")] == pytest.approx([2.5, 2.8])
    assert [p.name for p in tmp_path.iterdir()] == ["data.extxyz"]


def test_hash_depends_on_geometry_and_settings():
    cell = diamond_supercell()
    moved = cell.copy()
    moved.positions[0, 0] += 1e-4
    assert structure_hash(cell, {"a": 1}) != structure_hash(moved, {"a": 1})
    assert structure_hash(cell, {"a": 1}) != structure_hash(cell, {"a": 2})
    assert structure_hash(cell, {"a": 1, "b": 2}) == structure_hash(cell, {"b": 2, "a": 1})


def test_clusters_get_no_stress(tmp_path):
    out = tmp_path / "d.extxyz"
    label([dimer("Cu", 2.5)], EMT(), {}, out, progress=False)
    stored = ase.io.read(out)
    assert "stress" not in stored.calc.results and stored.get_forces().shape == (2, 3)


def test_bad_calculator_or_settings_fail_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="vasp"):
        label([diamond_supercell()], "vasp", {}, tmp_path / "x.extxyz")
    with pytest.raises(ValueError, match="kpoint_density"):
        label([diamond_supercell()], "gpaw", {"pw_cutoff_eV": 300, "smearing_eV": 0.1},
              tmp_path / "x.extxyz")
    assert not (tmp_path / "x.extxyz").exists()


def test_label_command_with_emt(tmp_path):
    src = tmp_path / "in.extxyz"
    ase.io.write(src, [rattled(diamond_supercell("Cu", 3.61 * 2**0.5, 1), 0.02, seed=k)
                       for k in range(2)])
    out = tmp_path / "out.extxyz"
    assert cli_main(["label", str(src), "--calculator", "emt", "--out", str(out)]) == 0
    assert cli_main(["label", str(src), "--calculator", "emt", "--out", str(out)]) == 0
    assert len(ase.io.read(out, ":")) == 2  # second run skipped both


@pytest.mark.gpaw
@pytest.mark.skipif(not gpaw_available(), reason="GPAW is absent from /usr/bin/python3")
def test_gpaw_relaxation_resumes_from_its_trajectory(tmp_path):
    from ase.build import bulk

    from nnpcalc.labeling import run_gpaw

    cheap = {"pw_cutoff_eV": 200, "kpoint_density": 1.5, "smearing_eV": 0.1,
             "kpoint_gamma": True}
    cell = bulk("Si", "diamond", 5.47)
    cell.positions[0] += [0.08, 0.03, 0.0]
    traj = tmp_path / "relax.traj"
    first = run_gpaw(cell, cheap, relax={"fmax": 0.01, "steps": 1, "trajectory": traj})
    assert not first["converged"] and first["steps"] == 1
    second = run_gpaw(cell, cheap, relax={"fmax": 0.01, "steps": 30, "trajectory": traj})
    assert second["converged"] and second["steps"] > 1 and second["energy"] < first["energy"]
    relaxed = cell.copy()
    relaxed.positions = second["positions"]
    assert relaxed.get_distance(0, 1, mic=True) == pytest.approx(np.sqrt(3) / 4 * 5.47,
                                                                 abs=0.01)  # back to the bond


def testworker_input_keeps_geometry_and_flags_only(tmp_path):
    """A relaxed frame carries old results (in info and on its calculator); writing them for
    the GPAW worker failed in the extxyz writer and could pass stale labels on."""
    from ase.calculators.singlepoint import SinglePointCalculator

    from nnpcalc.labeling import worker_input

    atoms = rattled(diamond_supercell(), 0.05, seed=3)
    atoms.info.update(energy=-1.0, stress=np.eye(3), gamma_only=True, config_type="x")
    atoms.calc = SinglePointCalculator(atoms, energy=-2.0, forces=np.ones((8, 3)))
    ase.io.write(tmp_path / "in.extxyz", worker_input(atoms), format="extxyz")
    back = ase.io.read(tmp_path / "in.extxyz")
    assert back.calc is None and back.info == {"gamma_only": True}
    np.testing.assert_allclose(back.positions, atoms.positions, atol=1e-8)
    np.testing.assert_allclose(back.cell[:], atoms.cell[:], atol=1e-8)
