"""Tutorial: phonons of Si from an NNP, compared with PBE (phonopy force sets from GPAW).

    python tutorials/phonon_study.py [--model data/si_model.pt | teacher] [--quick]

Writes bands (model over DFT), DOS-derived thermal properties and the frequency RMSE to --out.
"""

from __future__ import annotations

import json

import numpy as np
import phonopy
from ase.build import bulk
from common import DATA, setup

from nnpcalc.analysis.phonons import analyse, compare, phonons, plot_bands


def main() -> None:
    args, out, calc, a0 = setup(__doc__, "tutorials/out/phonons")
    # Force constants from displaced supercells, evaluated in one batch.
    n = 2 if args.quick else 4
    phonon, res = phonons(calc, bulk("Si", "diamond", a0), (n, n, n), mesh=(12, 12, 12))
    sources = {f"model (a0 = {a0:.3f} Å)": res}
    summary = {"a0_angstrom": a0, "gamma_THz": res["gamma_frequencies_THz"],
               "imaginary_band_points": res["n_imaginary_band_points"]}
    # The DFT reference: phonopy's own file, read with phonopy's own loader.
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
