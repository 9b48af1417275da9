"""An ASE calculator that runs GPAW in a subprocess (Debian's python), for relaxations and
phonopy/EOS workflows from the project venv, which does not have GPAW."""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from nnpcalc.labeling import run_gpaw


class GPAWSubprocess(Calculator):
    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, settings: dict, **kwargs):
        super().__init__(**kwargs)
        self.settings = dict(settings)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        res = run_gpaw(self.atoms, self.settings)
        self.results = {"energy": res["energy"], "free_energy": res["energy"],
                        "forces": np.array(res["forces"])}
        if "stress" in res:
            self.results["stress"] = np.array(res["stress"])
