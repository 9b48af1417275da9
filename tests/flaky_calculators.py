"""Calculators for campaign tests: one that kills its worker once, one that always fails."""

from __future__ import annotations

import os
from pathlib import Path

from nnpcalc.teachers import SWCalculator


class Flaky(SWCalculator):
    """The SW teacher, except: a structure tagged "die" kills its worker process the first
    time (a marker file remembers it), one tagged "bad" always raises."""

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        kind = (atoms or self.atoms).info.get("config_type")
        marker = Path(os.environ["NNPCALC_TEST_MARKER"])
        if kind == "die" and not marker.exists():
            marker.write_text("killed once")
            os._exit(1)  # the worker process dies mid-task, as a node failure would
        if kind == "bad":
            raise RuntimeError("this structure always fails")
        super().calculate(atoms, properties, system_changes)


def flaky() -> Flaky:
    return Flaky()
