"""Tutorial: Si point defects from an NNP — formation energies, size convergence, and where
the energy sits (atomic-energy resolved), compared with the PBE vacancy in data/.

    python tutorials/defect_study.py [--model data/si_model.pt | teacher] [--quick]
"""

from __future__ import annotations

import json

from common import DATA, setup

from nnpcalc.analysis.decomposition import plot_shell_profile
from nnpcalc.analysis.defects import formation_energy


def main() -> None:
    args, out, calc, a0 = setup(__doc__, "tutorials/out/defects")
    sizes = (1, 2) if args.quick else (1, 2, 3)
    kinds = ("vacancy",) if args.quick else ("vacancy", "tetrahedral", "hexagonal", "split110")
    results = {}
    for kind in kinds:
        series = []
        for size in sizes:
            res = formation_energy(calc, kind, a0, size)
            res.pop("relaxed_atoms")
            series.append(res)
            print(f"{kind:12s} {res['n_atoms']:4d} atoms  E_f = {res['formation_energy_eV']:.3f}"
                  f" eV (unrelaxed {res['unrelaxed_formation_energy_eV']:.3f})", flush=True)
            if "shells" in res and size == sizes[-1]:
                plot_shell_profile(res["shells"], out / f"{kind}_shells.png",
                                   f"{kind}: formation energy by neighbour shell")
        results[kind] = series
    dft = json.loads((DATA / "si_pbe_baselines.json").read_text())
    if "vacancy_formation_eV" in dft:
        results["dft_vacancy"] = {"formation_energy_eV": dft["vacancy_formation_eV"],
                                  "cell_atoms": dft.get("vacancy_cell_atoms")}
        print(f"PBE vacancy ({dft.get('vacancy_cell_atoms')} atoms): "
              f"{dft['vacancy_formation_eV']:.3f} eV")
    (out / "defects.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
