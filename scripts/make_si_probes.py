"""Held-out invariant points for the audit: data/si_probes.extxyz, labelled with GPAW.

    OMP_NUM_THREADS=1 nohup .venv/bin/python scripts/make_si_probes.py > runs/probes.log 2>&1 &

Every probe is a Si crystal whose atoms form ONE Wyckoff orbit (checked with spglib through
nnpcalc.analysis.invariant.classify), so its atomic energy is E/N whatever partition a model
uses, and none coincides with a structure of data/si_pbe.extxyz (checked here): diamond at
volumes between and beyond the training ones, hexagonal diamond (lonsdaleite, 4f orbit of
P6_3/mmc), BC8 (16c orbit of Ia-3, primitive 8-atom cell), and β-Sn, sc, bcc, fcc, hcp, sh at
volumes outside the training range. Same PBE, PW 350 eV and Fermi-Dirac 0.05 eV as the data
(same energy zero), on converged Γ-centred meshes (density 8 k-points per Å⁻¹; 12 for the
1-2-atom metallic cells, as in the data).
Resumable through nnpcalc.labeling.label: rerun the command after a kill.
`--table` prints the table of data/README.md from the labelled file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ase.io
import yaml
from ase import Atoms

from nnpcalc import sampling as s
from nnpcalc.analysis.invariant import classify, symmetry_dataset
from nnpcalc.labeling import label, labelled_in_order, write_labels

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
OUT = DATA / "si_probes.extxyz"
A0 = 5.47  # the cell the training diamond volumes were built from (make_si_dataset.py)
V_DIAMOND = A0**3 / 8
DENSITY = 8.0
# The 1-2-atom metallic cells need density 12 to be within 1 meV/atom (data/kmesh_families.json:
# density 8 is 1.5-2.6 meV/atom off for sc, bcc, fcc and hcp); β-Sn is within 0.8 at 8.
DENSITY_METAL = 12.0
METALS = ("sc", "bcc", "fcc", "hcp", "sh")
SCRATCH = ROOT / "runs" / "probes.extxyz"


def tag(atoms: Atoms, family: str) -> Atoms:
    atoms.info.update(config_type=f"probe_{family}", probe_family=family,
                      volume_per_atom=float(atoms.get_volume() / len(atoms)))
    return atoms


def probes() -> list[Atoms]:
    out = []
    for f in (0.78, 0.92, 1.00, 1.08, 1.22):  # training: 0.82-1.18 in steps of 0.04
        out.append(tag(s.crystal("diamond", volume_per_atom=V_DIAMOND * f), "diamond"))
    for f in (0.92, 1.00, 1.08):
        out.append(tag(s.lonsdaleite(volume_per_atom=V_DIAMOND * f), "lonsdaleite"))
    for f in (1.00, 1.06):
        out.append(tag(s.bc8(volume_per_atom=s.BC8_VOLUME * f), "bc8"))
    for phase in ("beta-sn", "sc", "bcc", "fcc", "hcp", "sh"):  # training: 0.85-1.18
        for f in (0.80, 1.24):
            atoms = s.crystal(phase, volume_per_atom=s.DEFAULT_VOLUME[phase] * f)
            out.append(tag(atoms, phase))
    return out


def check(structures: list[Atoms], training: list[Atoms]) -> None:
    """Every probe one orbit, none equal to a training structure; stops the script otherwise."""
    from nnpcalc.analysis.audit import coincides

    for atoms in structures:
        info = classify(atoms, cutoff=6.0)
        sg = symmetry_dataset(atoms)
        print(f"{atoms.info['probe_family']:12s} {len(atoms)} atoms  V/N "
              f"{atoms.info['volume_per_atom']:6.2f}  {sg.international:8s} {info.reason}")
        if not (info.is_invariant and info.kind == "single_orbit_crystal"):
            sys.exit(f"not a single-orbit crystal: {atoms.info['probe_family']}")
        if any(coincides(atoms, t) for t in training):
            sys.exit(f"coincides with a training structure: {atoms.info['probe_family']}")


def table() -> None:
    """The markdown table of data/README.md, from the labelled file."""
    import json
    from collections import defaultdict

    labelled = ase.io.read(OUT, ":")
    eos = json.loads((DATA / "si_pbe_baselines.json").read_text())["eos"]
    e_min = eos["E0_eV_per_atom"]
    rows = defaultdict(list)
    for atoms in labelled:
        rows[atoms.info["probe_family"]].append(atoms)
    print("| family | space group (orbit) | atoms | V (Å³/atom) | E/N − diamond EOS minimum "
          "(meV/atom) | k-points (irreducible) | GPAW s |")
    print("|---|---|---|---|---|---|---|")
    for family, items in rows.items():
        sg = symmetry_dataset(items[0])
        print(f"| {family} | {sg.international} ({sg.wyckoffs[0]}) | {len(items[0])} | "
              + ", ".join(f"{a.get_volume() / len(a):.2f}" for a in items) + " | "
              + ", ".join(f"{1000 * (a.get_potential_energy() / len(a) - e_min):+.0f}"
                          for a in items) + " | "
              + ", ".join(str(a.info["dft_nkpts"]) for a in items) + " | "
              + f"{sum(float(a.info['wall_time_s']) for a in items):.0f} |")


def settings_for(atoms: Atoms) -> dict:
    density = DENSITY_METAL if atoms.info["probe_family"] in METALS else DENSITY
    return {**yaml.safe_load((DATA / "gpaw_settings.yaml").read_text()),
            "kpoint_density": density, "kpoint_gamma": True}


def main() -> None:
    if sys.argv[1:] == ["--table"]:
        table()
        return
    structures = probes()
    check(structures, ase.io.read(DATA / "si_pbe.extxyz", ":"))
    SCRATCH.parent.mkdir(parents=True, exist_ok=True)
    if OUT.exists() and not SCRATCH.exists():  # keep the labels already shipped
        SCRATCH.write_text(OUT.read_text())
    for atoms in structures:  # labels accumulate in the scratch file (resumable)
        label([atoms], "gpaw", settings_for(atoms), SCRATCH)
    final = labelled_in_order(structures, settings_for, SCRATCH)
    write_labels(final, OUT)
    print(f"{len(final)} probes -> {OUT}", flush=True)


if __name__ == "__main__":
    main()
