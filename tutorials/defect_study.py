"""Tutorial: Si point defects from an NNP (or any calculator) — formation energies with
relaxation, supercell-size convergence, and where the energy sits (atomic-energy resolved).

    python tutorials/defect_study.py [--model data/si_model.pt | teacher] [--quick]

μ is E/N of the model's own relaxed diamond crystal. The vacancy is relaxed from several
symmetry-broken starts (the symmetric one is a saddle). When the PBE baselines hold a vacancy
energy, the model is evaluated in the same 16-site DFT cell for a like-for-like comparison.
"""

from __future__ import annotations

import json

from common import DATA, setup

from nnpcalc.analysis.decomposition import plot_shell_profile
from nnpcalc.analysis.defects import plot_convergence, primitive_cell_vacancy, size_convergence


def main() -> None:
    args, out, calc, a0 = setup(__doc__, "tutorials/out/defects")
    sizes = (1, 2) if args.quick else (1, 2, 3, 4)
    kinds = ("vacancy",) if args.quick else ("vacancy", "tetrahedral", "hexagonal", "split110")
    results: dict = {"a0_angstrom": a0}
    for kind in kinds:
        series = size_convergence(calc, kind, a0, sizes)
        results[kind] = series
        for res in series:
            print(f"{kind:12s} {res['n_atoms']:4d} atoms  E_f = {res['formation_energy_eV']:.3f}"
                  f" eV (unrelaxed {res['unrelaxed_formation_energy_eV']:.3f})", flush=True)
        if "shells" in series[-1]:
            plot_shell_profile(series[-1]["shells"], out / f"{kind}_shells.png",
                               f"{kind} ({series[-1]['n_atoms']} atoms): E_f by neighbour shell")
    baselines = DATA / "si_pbe_baselines.json"
    dft = json.loads(baselines.read_text()) if baselines.is_file() else {}
    reference = {}
    if dft.get("vacancy_formation_eV") is not None:
        same_cell = primitive_cell_vacancy(calc, a0)  # the 16-site cell of the DFT baseline
        results["vs_dft_vacancy_16_sites"] = {"model": same_cell["formation_energy_eV"],
                                              "dft": dft["vacancy_formation_eV"]}
        reference[f"PBE, {dft.get('vacancy_cell_atoms', 15)} atoms"] = dft["vacancy_formation_eV"]
        print(f"vacancy in the DFT cell: model {same_cell['formation_energy_eV']:.3f} eV, "
              f"PBE {dft['vacancy_formation_eV']:.3f} eV")
    plot_convergence({k: results[k] for k in kinds}, out / "convergence.png", reference)
    (out / "defects.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
