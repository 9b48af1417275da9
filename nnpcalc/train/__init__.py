"""Training from total energies, forces and stresses, with an invariant-point monitor."""

from nnpcalc.train.config import ConfigError, TrainConfig, load_config
from nnpcalc.train.fit import fit

__all__ = ["ConfigError", "TrainConfig", "fit", "load_config"]
