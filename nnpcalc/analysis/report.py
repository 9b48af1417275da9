"""`nnpcalc report`: one self-contained document comparing a model (or any calculator) with DFT.

Rows read "model | DFT | difference" for a0, B, C11/C12/C44, the Γ optical frequency, the phonon
RMSE, defect formation energies; plus parity plots on a test set, phonon bands over DFT and the
invariant-point audit. Every number also lands in report.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk

from nnpcalc.analysis.markdown import Document


def _row(name: str, model: float | None, dft: float | None, unit: str) -> list:
    diff = (model - dft) if model is not None and dft is not None else None
    rel = f"{100 * diff / dft:+.1f}%" if diff is not None and dft else "–"
    return [name, model if model is not None else "–", dft if dft is not None else "–",
            diff if diff is not None else "–", rel, unit]


# config_types of the labelled DFT-relaxed 63-atom vacancy and its perfect 64-atom crystal in
# nnpcalc's data files (scripts/make_si_dataset.py, tier 6)
REFERENCE_VACANCY = ("vacancy_relaxed_pbe", "crystal_diamond_64")


def reference_vacancy(calc, labelled: Sequence[Atoms]) -> dict | None:
    """The vacancy formation energy at the DFT geometry (model and DFT), from the labelled
    cells of REFERENCE_VACANCY (the lowest-energy defect cell), or None without them."""
    from nnpcalc.analysis.defects import formation_at_reference_geometry

    defects = [a for a in labelled if a.info.get("config_type") == REFERENCE_VACANCY[0]]
    perfect = [a for a in labelled if a.info.get("config_type") == REFERENCE_VACANCY[1]]
    if not defects or not perfect:
        return None
    defect = min(defects, key=lambda a: a.get_potential_energy())
    return formation_at_reference_geometry(calc, defect, perfect[0])


def property_table(calc, dft: dict, out_dir: Path, doc: Document, quick: bool,
                   labelled: Sequence[Atoms] = ()) -> dict:
    """EOS, elastic, phonons, defects of the model, each beside its DFT baseline; with
    `labelled` structures holding the DFT-relaxed vacancy, that vacancy at the DFT geometry
    too, and a warning when the model's own relaxation goes far below it."""
    from nnpcalc.analysis.defects import relaxation_warning
    from nnpcalc.analysis.elastic import elastic_constants
    from nnpcalc.analysis.eos import equation_of_state
    from nnpcalc.analysis.phonons import compare, phonons, plot_bands

    res: dict = {}
    a_guess = dft.get("a0_angstrom", 5.47)
    eos = equation_of_state(calc, bulk("Si", "diamond", a_guess, cubic=True), 0.03, 9)
    a0 = eos["a0_angstrom"]
    res["eos"] = eos
    res["elastic"] = elastic_constants(calc, bulk("Si", "diamond", a0), fmax=1e-3)
    supercell = (2, 2, 2) if quick else (3, 3, 3)
    phonon, ph = phonons(calc, bulk("Si", "diamond", a0), supercell, mesh=(10, 10, 10))
    res["phonons"] = {k: ph[k] for k in ("gamma_frequencies_THz", "gamma_optical_THz",
                                         "n_imaginary_band_points", "min_frequency_THz")}
    bands = {"model": ph}
    # The 16-atom set: its k-mesh is converged at every commensurate q; the 64-atom set's
    # 2x2x2 mesh is not at L (data/README.md, "l_point_check").
    phonopy_entry = dft.get("phonopy_gamma_centred") or dft.get("phonopy") or {}
    dft_yaml = Path(dft.get("_dir", ".")) / phonopy_entry.get("file", "missing")
    if dft_yaml.is_file():
        import phonopy

        from nnpcalc.analysis.phonons import analyse

        dft_phonon = phonopy.load(str(dft_yaml), produce_fc=True, log_level=0)
        dft_phonon.symmetrize_force_constants()
        bands["DFT (PBE)"] = analyse(dft_phonon, mesh=(8, 8, 8))
        res["phonon_comparison"] = compare(phonon, dft_phonon)
    plot_bands(bands, out_dir / "phonon_bands.png")
    vac_size = 1 if quick else 2
    vacancy = _defect(calc, "vacancy", a0, vac_size, decompose=True)
    res["vacancy"] = vacancy
    if not quick:
        res["interstitials"] = {kind: _defect(calc, kind, a0, 2)["formation_energy_eV"]
                                for kind in ("tetrahedral", "hexagonal", "split110")}
    rows = [
        _row("a0", a0, dft.get("a0_angstrom"), "Å"),
        _row("B", eos["B_GPa"], dft.get("B_GPa"), "GPa"),
        _row("C11", res["elastic"]["C11_GPa"], dft.get("C11_GPa"), "GPa"),
        _row("C12", res["elastic"]["C12_GPa"], dft.get("C12_GPa"), "GPa"),
        _row("C44 (relaxed ions)", res["elastic"]["C44_GPa"], dft.get("C44_GPa"), "GPa"),
        _row("Γ optical phonon", ph["gamma_optical_THz"], dft.get("gamma_optical_THz"), "THz"),
    ]
    if "phonon_comparison" in res:
        rows.append(["phonon frequency RMSE vs DFT", res["phonon_comparison"]["rmse_THz"], "–",
                     "–", "–", "THz"])
    same_as_dft64 = vacancy.get("n_atoms") == 63  # the DFT 64-site cell
    rows.append(_row(f"vacancy formation ({vacancy.get('n_atoms', '?')} atoms)",
                     vacancy["formation_energy_eV"],
                     dft.get("vacancy64_formation_eV") if same_as_dft64 else None, "eV"))
    at_geometry = reference_vacancy(calc, labelled)
    warnings = []
    if at_geometry is not None:
        res["vacancy_at_dft_geometry"] = at_geometry
        rows.append(_row(f"vacancy formation at the DFT geometry ({at_geometry['n_atoms']} atoms, "
                         "not relaxed by the model)", at_geometry["model_eV"],
                         at_geometry.get("reference_eV"), "eV"))
        if at_geometry["n_atoms"] == vacancy.get("n_atoms"):
            warnings.append(relaxation_warning(vacancy["formation_energy_eV"],
                                               at_geometry["model_eV"], "vacancy"))
    if dft.get("vacancy_formation_eV") is not None:
        from nnpcalc.analysis.defects import primitive_cell_vacancy
        from nnpcalc.structures import StructureError

        try:
            same = primitive_cell_vacancy(calc, a0)["formation_energy_eV"]
        except StructureError:
            same = float("nan")
        res["vacancy_dft_cell_eV"] = same
        rows.append(_row(f"vacancy formation (same {dft.get('vacancy_cell_atoms')}-atom cell "
                         "as DFT)", same, dft["vacancy_formation_eV"], "eV"))
    for kind, value in res.get("interstitials", {}).items():
        rows.append(_row(f"{kind} interstitial (65 atoms)", value,
                         dft.get(f"{kind}_formation_eV"), "eV"))
    doc.heading("Properties: model vs DFT")
    doc.table(["quantity", "model", "DFT", "difference", "rel.", "unit"], rows)
    res["warnings"] = [w for w in warnings if w]
    for warning in res["warnings"]:
        doc.paragraph(f"**Warning:** {warning}.")
    doc.image("phonon_bands.png", "phonon bands, model (solid) over DFT (dashed)")
    if "shells" in vacancy:
        from nnpcalc.analysis.decomposition import plot_shell_profile

        plot_shell_profile(vacancy["shells"], out_dir / "vacancy_shells.png",
                           "vacancy formation energy by neighbour shell (model atomic energies)")
        doc.image("vacancy_shells.png", "atomic-energy-resolved vacancy formation energy")
    res["table"] = rows
    return res


def _defect(calc, kind: str, a0: float, size: int, decompose: bool = False) -> dict:
    """Formation energy, or NaN with the reason when the model cannot relax the defect."""
    from nnpcalc.analysis.defects import formation_energy
    from nnpcalc.structures import StructureError

    try:
        result = formation_energy(calc, kind, a0, size=size, decompose=decompose)
    except StructureError as exc:
        return {"formation_energy_eV": float("nan"), "n_atoms": None, "error": str(exc)}
    result.pop("relaxed_atoms")
    return result


def write_report(calc, out_dir: str | Path, dft: dict | None = None,
                 test: Sequence[Atoms] = (), training: Sequence[Atoms] = (),
                 probes: Sequence[Atoms] = (), isolated_atom_energies: dict | None = None,
                 title: str = "nnpcalc model report", quick: bool = False) -> Path:
    """Write report.md, report.html, report.json and PNGs into `out_dir`."""
    from nnpcalc.analysis.audit import audit
    from nnpcalc.analysis.audit_report import audit_section
    from nnpcalc.analysis.errors import plot_parity, test_set_errors

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = Document(title)
    summary: dict = {}
    if test:
        errors = test_set_errors(calc, test)
        plot_parity(errors, out_dir / "parity.png")
        summary["test_errors"] = {k: v for k, v in errors.items()
                                  if not isinstance(v, dict) or k.endswith("_by_type")}
        summary["test_errors"].pop("config_types", None)
        doc.heading("Test-set errors")
        rows = [["energy RMSE", errors["energy_rmse_meV_per_atom"], "meV/atom"],
                ["energy MAE", errors["energy_mae_meV_per_atom"], "meV/atom"]]
        for key, label in (("periodic", "periodic cells only"), ("clusters", "clusters only")):
            for stat in ("rmse", "mae"):
                name = f"energy_{stat}_meV_per_atom_{key}"
                if name in errors:
                    rows.append([f"energy {stat.upper()}, {label}", errors[name], "meV/atom"])
        if "forces_mae_eV_per_A" in errors:
            rows.append(["force MAE", errors["forces_mae_eV_per_A"], "eV/Å"])
        if "forces_rmse_eV_per_A" in errors:
            rows.append(["force RMSE", errors["forces_rmse_eV_per_A"], "eV/Å"])
        if "stress_rmse_GPa" in errors:
            rows.append(["stress RMSE", errors["stress_rmse_GPa"], "GPa"])
        doc.table(["quantity", "value", "unit"], rows + [
            [f"energy RMSE, {k}", v, "meV/atom"]
            for k, v in errors["energy_rmse_meV_per_atom_by_type"].items()])
        doc.image("parity.png", f"parity plots on {len(test)} test structures")
    if dft is not None:
        summary["properties"] = property_table(calc, dft, out_dir, doc, quick,
                                               labelled=(*training, *test))
    if training:
        doc.heading("Invariant-point audit of the atomic-energy mapping")
        result = audit(calc, training, probes=probes, validation=test,
                       isolated_atom_energies=isolated_atom_energies)
        audit_section(doc, result, out_dir, prefix="audit_")
        summary["audit"] = {k: v for k, v in result.to_dict().items() if k != "points"}
    (out_dir / "report.json").write_text(json.dumps(summary, indent=1, default=_plain))
    return doc.write(out_dir, "report")


def _plain(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def read_baselines(path: str | Path) -> dict:
    data = json.loads(Path(path).read_text())
    data["_dir"] = str(Path(path).parent)
    return data
