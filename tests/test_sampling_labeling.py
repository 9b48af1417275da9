"""Candidate builders and resumable labelling (with fast in-process calculators)."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.lj import LennardJones

from nnpcalc.analysis.invariant import symmetry_dataset
from nnpcalc.labeling import label, structure_hash
from nnpcalc.sampling import (
    PHASES,
    crystal,
    deduplicate,
    diamond_supercell,
    interstitial,
    rattled,
    strained,
    surface,
    vacancy,
)

SPACE_GROUPS = {"diamond": 227, "beta-sn": 141, "sc": 221, "bcc": 229, "fcc": 225, "hcp": 194,
                "sh": 191}


@pytest.mark.parametrize("phase", PHASES)
def test_phases_have_their_space_group_and_requested_volume(phase):
    atoms = crystal(phase, volume_per_atom=17.3)
    assert atoms.get_volume() / len(atoms) == pytest.approx(17.3)
    assert symmetry_dataset(atoms).number == SPACE_GROUPS[phase]
    assert atoms.info["config_type"] == f"crystal_{phase}"


def test_defects_strain_and_surfaces():
    cell = diamond_supercell("Si", 5.43, 2)
    assert len(vacancy(cell)) == 63 and len(interstitial("hexagonal", size=2)) == 65
    d = interstitial("tetrahedral", size=2).get_all_distances(mic=True)[-1]
    assert np.sort(d)[1:5] == pytest.approx([np.sqrt(3) / 4 * 5.43] * 4)  # 4 bonds at T site
    hexa = interstitial("hexagonal", size=2).get_all_distances(mic=True)[-1]
    assert np.sort(hexa)[1:7] == pytest.approx([np.sqrt(11) / 8 * 5.43] * 6)  # 6-ring centre
    s = strained(crystal("fcc"), [0.01, 0, 0, 0, 0, 0])
    assert s.get_volume() == pytest.approx(crystal("fcc").get_volume() * 1.01)
    slab = surface("111", layers=6, vacuum=5.0)
    assert slab.info["config_type"] == "surface_111" and len(slab) == 6
    assert rattled(vacancy(cell), 0.05).info["config_type"] == "vacancy_rattled"


def test_deduplicate_drops_near_copies():
    base = diamond_supercell("Si", 5.43, 1)
    copies = [base, rattled(base, 1e-4, seed=1), rattled(base, 0.2, seed=2)]
    kept = deduplicate(copies, lambda a: a.get_all_distances(mic=True), tol=1e-2)
    assert len(kept) == 2


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
    first = label(structures[:3], Flaky(), {"xc": "LJ"}, out, progress=False)
    assert first == {"done_before": 0, "labelled": 2, "failed": 1}
    second = label(structures, Flaky(), {"xc": "LJ"}, out, progress=False)
    assert second == {"done_before": 2, "labelled": 2, "failed": 1}
    data = ase.io.read(out, ":")
    assert len(data) == 4
    failures = [json.loads(line) for line in out.with_suffix(".extxyz.failures.jsonl").open()]
    assert {f["index"] for f in failures} == {2} and "SCF" in failures[0]["error"]
    for atoms in data:
        assert atoms.info["dft_code"] == "Flaky" and atoms.info["dft_xc"] == "LJ"
        assert atoms.get_forces().shape == (8, 3)
        assert atoms.info["label_hash"] == structure_hash(atoms, {"xc": "LJ"})
