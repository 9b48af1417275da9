"""Models map a batch to per-atom energies; `potential.evaluate` derives everything else."""

from nnpcalc.models.bpnn import BPNN
from nnpcalc.models.ensemble import Ensemble

__all__ = ["BPNN", "Ensemble"]
