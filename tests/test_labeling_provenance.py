"""Relabelling a labelled structure with other settings leaves no provenance of the old run."""

from __future__ import annotations

import ase.io
from ase.build import bulk
from ase.calculators.emt import EMT

from nnpcalc.labeling import label


def test_relabelled_structure_carries_only_the_new_settings(tmp_path):
    first, second = tmp_path / "first.extxyz", tmp_path / "second.extxyz"
    atoms = bulk("Cu", "fcc", 3.6)
    atoms.info["config_type"] = "crystal_fcc"
    assert label([atoms], EMT(), {"kpoint_density": 3.0}, first, progress=False)["labelled"] == 1
    old = ase.io.read(first)
    assert old.info["dft_kpoint_density"] == 3.0
    counts = label([old], EMT(), {"kpoint_density": 12.0, "kpoint_gamma": True}, second,
                   progress=False)
    assert counts["labelled"] == 1
    new = ase.io.read(second)
    assert new.info["dft_kpoint_density"] == 12.0 and new.info["dft_kpoint_gamma"]
    assert new.info["label_hash"] != old.info["label_hash"]
    assert new.info["config_type"] == "crystal_fcc"
