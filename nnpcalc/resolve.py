"""Calculators by name, as commands and campaigns take them on the command line.

    teacher            the Stillinger–Weber teacher (vertex partition); teacher:lammps for the
                       LAMMPS ⅓ three-body partition
    emt, lj            ASE's EMT and Lennard-Jones (tests and toy campaigns)
    module:factory     any importable callable returning an ASE calculator (another MLIP's)
    PATH               an nnpcalc model file
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ase.calculators.calculator import Calculator

from nnpcalc.calculator import NNPCalculator


def calculator_from(spec: str, dtype: str = "float64") -> Calculator:
    """An ASE calculator from a command-line spec (see the module docstring)."""
    if spec in ("teacher", "teacher:vertex", "teacher:lammps"):
        from nnpcalc.teachers import SWCalculator

        return SWCalculator(partition=spec.partition(":")[2] or "vertex", dtype=dtype)
    if spec in ("emt", "lj"):
        from ase.calculators.emt import EMT
        from ase.calculators.lj import LennardJones

        return EMT() if spec == "emt" else LennardJones()
    if ":" in spec and not Path(spec).exists():
        module_name, _, factory = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ValueError(f"calculator {spec!r}: cannot import {module_name!r}: {exc}") from exc
        if not callable(getattr(module, factory, None)):
            raise ValueError(f"calculator {spec!r}: {module_name} has no callable {factory!r}")
        return getattr(module, factory)()
    return NNPCalculator(spec, dtype=dtype)
