"""CLI for analyses: `nnpcalc phonons`, `nnpcalc defects` (and `nnpcalc report`).

MODEL is a model file (loaded with NNPCalculator) or "teacher" for Stillinger–Weber. Each
command writes PNG figures and one JSON of plain results into --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

MODEL_HELP = "model file (.pt), or 'teacher' for the Stillinger-Weber teacher"


def register(subparsers) -> None:
    p = subparsers.add_parser("phonons", help="phonon bands, DOS, thermal properties (diamond)")
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--symbol", default="Si")
    p.add_argument("--a0", type=float, help="lattice parameter in Å (default: model's EOS)")
    p.add_argument("--supercell", type=int, default=3, help="n for an n×n×n supercell")
    p.add_argument("--mesh", type=int, default=16, help="q-mesh n×n×n for DOS and thermal")
    p.add_argument("--compare", help="phonopy.yaml of a reference (e.g. DFT) to overlay")
    p.add_argument("--out", default="phonons")
    p.set_defaults(func=run_phonons)
    d = subparsers.add_parser("defects", help="vacancy/interstitial formation energies "
                                              "(diamond) over supercell sizes")
    d.add_argument("model", help=MODEL_HELP)
    d.add_argument("--symbol", default="Si")
    d.add_argument("--a0", type=float, help="lattice parameter in Å (default: model's EOS)")
    d.add_argument("--kinds", nargs="+", default=["vacancy", "tetrahedral", "hexagonal",
                                                  "split110"])
    d.add_argument("--sizes", nargs="+", type=int, default=[2, 3],
                   help="n for n³ conventional cells (8n³ sites)")
    d.add_argument("--relax-cell", action="store_true", help="zero-pressure formation energy")
    d.add_argument("--out", default="defects")
    d.set_defaults(func=run_defects)


def _setup(args: argparse.Namespace):
    """Calculator, lattice parameter (the model's own unless given), output directory."""
    from nnpcalc.analysis.defects import equilibrium_lattice
    from nnpcalc.resolve import calculator_from

    calc = calculator_from(args.model)
    a0 = args.a0 or equilibrium_lattice(calc, args.symbol)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return calc, a0, out


def run_phonons(args: argparse.Namespace) -> int:
    from ase.build import bulk

    from nnpcalc.analysis.phonons import (
        analyse,
        compare,
        load_phonopy,
        phonons,
        plot_bands,
        plot_dos_thermal,
    )

    calc, a0, out = _setup(args)
    n, m = args.supercell, args.mesh
    phonon, res = phonons(calc, bulk(args.symbol, "diamond", a0), (n, n, n), mesh=(m, m, m))
    res["a0_angstrom"] = a0
    sources = {"model": res}
    if args.compare:
        reference = load_phonopy(args.compare)
        sources["reference"] = analyse(reference, mesh=(m, m, m))
        res["vs_reference"] = compare(phonon, reference)
    plot_bands(sources, out / "bands.png")
    plot_dos_thermal(sources, out / "dos_thermal.png")
    (out / "phonons.json").write_text(json.dumps(res))
    keys = ("a0_angstrom", "gamma_frequencies_THz", "n_imaginary_band_points",
            "n_imaginary_mesh_modes", "vs_reference")
    print(json.dumps({k: res[k] for k in keys if k in res}, indent=1))
    return 0


def run_defects(args: argparse.Namespace) -> int:
    from nnpcalc.analysis.decomposition import plot_shell_profile
    from nnpcalc.analysis.defects import plot_convergence, size_convergence

    calc, a0, out = _setup(args)
    results = {k: size_convergence(calc, k, a0, args.sizes, symbol=args.symbol,
                                   relax_cell=args.relax_cell) for k in args.kinds}
    plot_convergence(results, out / "convergence.png")
    for kind, series in results.items():
        if "shells" in series[-1]:
            plot_shell_profile(series[-1]["shells"], out / f"{kind}_shells.png",
                               f"{kind} ({series[-1]['n_atoms']} atoms): E_f by shell")
        print(kind, [(r["n_atoms"], round(r["formation_energy_eV"], 3)) for r in series])
    (out / "defects.json").write_text(json.dumps({"a0_angstrom": a0, **results}, indent=1))
    return 0
