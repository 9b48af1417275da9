"""ASE calculator for the Stillinger–Weber teacher, reporting both atomic-energy partitions."""

from __future__ import annotations

import numpy as np
import torch

from nnpcalc.calculator import NNPCalculator
from nnpcalc.teachers.stillinger_weber import StillingerWeber, SWParameters


class SWCalculator(NNPCalculator):
    """Exact SW energy, forces and stress; `energies` in the chosen partition.

    Results also carry `energies_vertex` and `energies_lammps` (both sum to the total).
    float64 by default: the teacher is a reference. It goes through the same batching,
    neighbour list and autograd path as every nnpcalc model, so it also tests that path.
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

    def _split(self, out: dict[str, torch.Tensor], batch) -> list[dict]:
        """Per-structure results plus both partitions, from the batch's own neighbour list."""
        with torch.no_grad():
            vectors = batch.edge_vectors(batch.positions, batch.cell)
            other = self._other(batch.species, batch.edge_i, batch.edge_j, vectors)
        other = other.cpu().double().numpy()
        bounds = np.cumsum([0, *batch.n_atoms.tolist()])
        results = super()._split(out, batch)
        for res, a, b in zip(results, bounds[:-1], bounds[1:], strict=True):
            res[f"energies_{self.partition}"] = res["energies"].copy()
            res[f"energies_{self._other.partition}"] = other[a:b].copy()
        return results
