"""Calculators that break physics on purpose: the conformance checks must catch them."""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes


class Broken(Calculator):
    """Energy tied to absolute positions (breaks rotation and translation), forces with the
    wrong sign, zero stress, and a pair count that jumps at the cutoff."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]
    cutoff = 3.0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        r = self.atoms.positions
        d = np.linalg.norm(r[:, None] - r[None], axis=-1)
        pairs = (np.triu(d, 1) > 0) & (np.triu(d, 1) < self.cutoff)
        energy = 1e-2 * (r[:, 0] ** 2).sum() + 0.1 * pairs.sum()
        forces = np.zeros_like(r)
        forces[:, 0] = +2e-2 * r[:, 0]
        self.results = {"energy": energy, "free_energy": energy, "forces": forces,
                        "stress": np.zeros(6)}


def factory() -> Broken:
    return Broken()
