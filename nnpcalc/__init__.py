"""nnpcalc: neural-network potentials (BP, e3nn) for ASE, audited at invariant points."""

from __future__ import annotations

from nnpcalc.version import __version__

__all__ = ["NNPCalculator", "load_model", "save_model", "__version__"]


def __getattr__(name: str):
    # Lazy imports keep `import nnpcalc` cheap for the CLI and for subprocess workers.
    if name == "NNPCalculator":
        from nnpcalc.calculator import NNPCalculator

        return NNPCalculator
    if name in ("load_model", "save_model"):
        from nnpcalc.models import model_file

        return getattr(model_file, name)
    raise AttributeError(name)
