"""Tutorial: phonons of Si from an NNP, compared with PBE (phonopy force sets from GPAW).

    python tutorials/phonon_study.py [--model data/si_model.pt | teacher] [--quick]

Writes bands (model over DFT), DOS-derived thermal properties and the frequency RMSE to --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import phonopy
from ase.build import bulk

from nnpcalc.analysis.eos import equation_of_state
from nnpcalc.analysis.phonons import analyse, compare, phonons, plot_bands

DATA = Path(__file__).resolve().parents[1] / "data"


def calculator(name: str):
    if name == "teacher":
        from nnpcalc.teachers import SWCalculator

        return SWCalculator()
    from nnpcalc.calculator import NNPCalculator

    return NNPCalculator(name, dtype="float64")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DATA / "si_model.pt"))
    parser.add_argument("--out", default="tutorials/out/phonons")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    calc = calculator(args.model)
    # 1. Lattice parameter of the model itself: phonons at the model's own equilibrium.
    a0 = equation_of_state(calc, bulk("Si", "diamond", 5.47, cubic=True))["a0_angstrom"]
    # 2. Force constants from displaced supercells, evaluated in one batch.
    n = 2 if args.quick else 4
    phonon, res = phonons(calc, bulk("Si", "diamond", a0), (n, n, n), mesh=(12, 12, 12))
    sources = {f"model (a0 = {a0:.3f} Å)": res}
    summary = {"a0_angstrom": a0, "gamma_THz": res["gamma_frequencies_THz"],
               "imaginary_band_points": res["n_imaginary_band_points"]}
    # 3. The DFT reference: phonopy's own file, read with phonopy's own loader.
    dft_file = DATA / "phonopy_si_dft.yaml"
    if dft_file.is_file():
        dft = phonopy.load(str(dft_file), produce_fc=True, log_level=0)
        dft.symmetrize_force_constants()
        sources["PBE (GPAW, 2x2x2 primitive supercell)"] = analyse(dft, mesh=(12, 12, 12))
        summary["vs_dft"] = compare(phonon, dft)
    baselines = json.loads((DATA / "si_pbe_baselines.json").read_text())
    summary["dft_gamma_optical_THz_frozen_phonon"] = baselines.get("gamma_optical_THz")
    plot_bands(sources, out / "bands.png")
    t = res["thermal"]
    k300 = int(np.argmin(np.abs(np.array(t["temperature_K"]) - 300)))
    summary["Cv_300K_J_per_K_mol"] = t["heat_capacity_J_per_K_mol"][k300]
    (out / "phonons.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
