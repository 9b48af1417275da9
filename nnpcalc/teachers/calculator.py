"""ASE calculator for the Stillinger–Weber teacher, reporting both atomic-energy partitions."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from ase import Atoms

from nnpcalc.calculator import NNPCalculator
from nnpcalc.models.potential import evaluate
from nnpcalc.teachers.stillinger_weber import StillingerWeber, SWParameters


class SWCalculator(NNPCalculator):
    """Exact SW energy, forces and stress; `energies` in the chosen partition.

    Results also carry `energies_vertex` and `energies_lammps` (both sum to the total).
    float64 by default: the teacher is a reference.
    """

    implemented_properties = [*NNPCalculator.implemented_properties, "energies_vertex",
                              "energies_lammps"]

    def __init__(self, partition: str = "vertex", params: SWParameters | None = None,
                 dtype: str = "float64", device=None, **kwargs):
        super().__init__(StillingerWeber(params, partition), device=device, dtype=dtype,
                         min_distance=kwargs.pop("min_distance", 0.5), **kwargs)
        other = "lammps" if partition == "vertex" else "vertex"
        self._other = StillingerWeber(params, other).to(device=self.device, dtype=self.dtype)
        self.partition = partition

    def predict(self, structures: Sequence[Atoms], forces: bool = True,
                stress: bool = True) -> list[dict]:
        results = super().predict(structures, forces=forces, stress=stress)
        other = self._other.partition
        for start in range(0, len(structures), 64):
            chunk = list(structures[start:start + 64])
            batch = self._batch(chunk, first=start)
            with torch.no_grad():
                out = evaluate(self._other, batch, forces=False, stress=False)
            energies = out["energies"].cpu().double().numpy()
            bounds = [0, *torch.cumsum(batch.n_atoms, 0).tolist()]
            for k in range(len(chunk)):
                res = results[start + k]
                res[f"energies_{other}"] = energies[bounds[k]:bounds[k + 1]].copy()
                res[f"energies_{self.partition}"] = res["energies"].copy()
        return results
