"""The diamond-crystal property set compared with DFT: a0, B, C11/C12/C44, Γ optical, vacancy.

One function, one plain dict with units in the keys, for any ASE calculator — used by the
accuracy benchmark and by `nnpcalc properties` (which can run several models on Dask).
"""

from __future__ import annotations

from ase.build import bulk

from nnpcalc.analysis.defects import formation_energy
from nnpcalc.analysis.elastic import elastic_constants
from nnpcalc.analysis.eos import equation_of_state
from nnpcalc.analysis.phonons import phonons


def diamond_properties(calc, symbol: str = "Si", guess_a0: float = 5.47,
                       vacancy_size: int = 2) -> dict:
    """EOS (a0, B), relaxed-ion elastic constants, Γ optical phonon (2×2×2 primitive
    supercell) and the relaxed vacancy formation energy in a size³ conventional supercell."""
    eos = equation_of_state(calc, bulk(symbol, "diamond", guess_a0, cubic=True), 0.03, 9)
    a0 = eos["a0_angstrom"]
    elastic = elastic_constants(calc, bulk(symbol, "diamond", a0), fmax=1e-3)
    _, ph = phonons(calc, bulk(symbol, "diamond", a0), (2, 2, 2), mesh=(4, 4, 4))
    vacancy = formation_energy(calc, "vacancy", a0, size=vacancy_size, symbol=symbol)
    return {"a0_angstrom": a0, "B_GPa": eos["B_GPa"], "C11_GPa": elastic["C11_GPa"],
            "C12_GPa": elastic["C12_GPa"], "C44_GPa": elastic["C44_GPa"],
            "gamma_optical_THz": ph["gamma_optical_THz"],
            f"vacancy{8 * vacancy_size**3}_formation_eV": vacancy["formation_energy_eV"]}


def properties_of(spec: str, vacancy_size: int = 2) -> dict:
    """`diamond_properties` of a calculator named on the command line (a Dask task)."""
    from nnpcalc.resolve import calculator_from

    return diamond_properties(calculator_from(spec), vacancy_size=vacancy_size)
