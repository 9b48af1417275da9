"""Tutorial: lattice dynamics of Si from an NNP (or any calculator), compared with PBE.

    python tutorials/phonon_study.py [--model data/si_model.pt | teacher] [--quick]

1. The model's own equilibrium (EOS) and elastic constants (clamped and relaxed ions).
2. Force constants from displaced supercells, all evaluated in one batched call, symmetrised.
3. Bands on the standard path, DOS, F/S/Cv(T); imaginary modes counted, never hidden.
4. Against DFT (data/si_pbe_baselines.json, data/phonopy_si_dft.yaml when present): a
   model | DFT | difference table, bands overlaid, frequency RMSE over path and random q.
"""

from __future__ import annotations

import json
import time

import numpy as np
from ase.build import bulk
from common import DATA, setup

from nnpcalc.analysis.elastic import cubic_elastic_constants
from nnpcalc.analysis.eos import equation_of_state
from nnpcalc.analysis.phonons import (
    analyse,
    compare,
    load_phonopy,
    phonons,
    plot_bands,
    plot_dos_thermal,
)


def main() -> None:
    start = time.perf_counter()
    args, out, calc, a0 = setup(__doc__, "tutorials/out/phonons")
    unit = bulk("Si", "diamond", a0)
    eos = equation_of_state(calc, unit, max_strain=0.02, n=9)
    elastic = cubic_elastic_constants(calc, unit, fmax=1e-3)
    n = 2 if args.quick else 4
    mesh = (8, 8, 8) if args.quick else (20, 20, 20)
    phonon, res = phonons(calc, unit, (n, n, n), mesh=mesh)
    t = res["thermal"]
    k300 = int(np.argmin(np.abs(np.array(t["temperature_K"]) - 300)))
    model = {"a0_angstrom": a0, "B_GPa": eos["B_GPa"], "Bp": eos["Bp"],
             **{k: elastic[k] for k in ("C11_GPa", "C12_GPa", "C44_GPa", "C44_clamped_GPa")},
             "gamma_optical_THz": res["gamma_optical_THz"]}
    summary = {"model": model, "gamma_THz": res["gamma_frequencies_THz"],
               "imaginary_band_points": res["n_imaginary_band_points"],
               "imaginary_mesh_modes": res["n_imaginary_mesh_modes"],
               "Cv_300K_J_per_K_mol": t["heat_capacity_J_per_K_mol"][k300],
               "supercell": f"{n}x{n}x{n} primitive"}
    sources = {f"model (a0 = {a0:.3f} Å)": res}
    baselines = DATA / "si_pbe_baselines.json"
    dft = json.loads(baselines.read_text()) if baselines.is_file() else {}
    summary["vs_dft"] = {k: {"model": v, "dft": dft[k], "difference": v - dft[k]}
                         for k, v in model.items() if isinstance(dft.get(k), float)}
    dft_file = DATA / "phonopy_si_dft.yaml"
    if dft_file.is_file():  # phonopy's own file: force sets from GPAW
        reference = load_phonopy(dft_file)
        sources["PBE (phonopy force sets)"] = analyse(reference, mesh=mesh)
        summary["vs_dft_phonopy"] = compare(phonon, reference)
    plot_bands(sources, out / "bands.png")
    plot_dos_thermal(sources, out / "dos_thermal.png")
    summary["elapsed_s"] = round(time.perf_counter() - start, 1)
    (out / "phonons.json").write_text(json.dumps(summary, indent=1))
    for key, row in summary["vs_dft"].items():
        print(f"{key:20s} model {row['model']:9.3f}   DFT {row['dft']:9.3f}   "
              f"diff {row['difference']:+8.3f}")
    if "vs_dft_phonopy" in summary:
        print(f"phonon RMSE vs PBE: {summary['vs_dft_phonopy']['rmse_THz']:.3f} THz over "
              f"{summary['vs_dft_phonopy']['n_qpoints']} q-points")
    print(f"imaginary: {res['n_imaginary_band_points']} band points, "
          f"{res['n_imaginary_mesh_modes']} mesh modes; wrote {out}")


if __name__ == "__main__":
    main()
