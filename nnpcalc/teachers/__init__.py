"""Reference models with known atomic energies (teachers) for auditing the mapping."""

from nnpcalc.teachers.calculator import SWCalculator
from nnpcalc.teachers.stillinger_weber import StillingerWeber, SWParameters

__all__ = ["SWCalculator", "SWParameters", "StillingerWeber"]
