"""Atom-centred descriptors: per-atom feature vectors computed from a pair list."""

from nnpcalc.descriptors.acsf import ACSF, ACSFParameters

__all__ = ["ACSF", "ACSFParameters"]
