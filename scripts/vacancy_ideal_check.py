"""PBE's 63-atom vacancy at the ideal sites: data/vacancy_ideal_check.json.

    OMP_NUM_THREADS=1 /usr/bin/python3 scripts/vacancy_ideal_check.py    # ~14 min of one core
    .venv/bin/python scripts/vacancy_ideal_check.py model data/si_model_e3nn.pt

Why: the 28th stage of the shipped e3nn model had the relaxed 63-atom vacancy 0.33 eV below
PBE's, and that was either the vacancy itself or its relaxation (the four neighbours move
0.16-0.18 Å). The perfect 64-atom cell of the data (index 239), scaled to the PBE-relaxed
vacancy cell's lattice (240),
minus the site that cell left empty, on the relaxed cells' mesh (4 x 4 x 4 shifted,
scripts/vacancy_kmesh_check.py) gives PBE's unrelaxed vacancy; the relaxed cell's label its
relaxed one. `model` puts a model's vacancy along the straight path between the two
geometries beside both (the venv's python). Found (session 28): the ideal-site vacancy 3.758
eV, relaxation 0.116 eV; the 28th stage 3.43 and 0.11 — its error was the vacancy's energy at
63 atoms, not its relaxation (the 30th, with a reach layer: 3.58 and 0.07). Resumable: does
nothing if the output exists.
"""

import json
import os
import sys

import ase.io
import numpy as np
from ase import Atoms
from ase.geometry import get_distances
from vacancy_kmesh_check import DATA, RELABEL_N, compute

OUT = os.path.join(os.path.dirname(DATA), "vacancy_ideal_check.json")
PERFECT, RELAXED = 239, 240  # data/si_pbe.extxyz: the 64-atom cell, a PBE-relaxed vacancy


def on_lattice(perfect: Atoms, relaxed: Atoms) -> Atoms:
    """The perfect cell scaled onto the relaxed vacancy cell's lattice."""
    sites = perfect.copy()
    sites.set_cell(relaxed.cell, scale_atoms=True)
    return sites


def ideal_vacancy(sites: Atoms, relaxed: Atoms) -> tuple[Atoms, np.ndarray]:
    """The perfect cell's `sites` (on the relaxed cell's lattice) without the site the relaxed
    cell left empty, and each remaining site's displacement to its atom there (Å)."""
    distances = get_distances(sites.positions, relaxed.positions, cell=relaxed.cell,
                              pbc=True)[1]
    empty = int(np.argmax(distances.min(axis=1)))
    keep = [k for k in range(len(sites)) if k != empty]
    atom_of_site = distances[keep].argmin(axis=1)
    if len(set(atom_of_site)) != len(keep):
        raise SystemExit(f"{DATA}:{RELAXED}: its atoms do not map one to one onto the sites")
    ideal = sites[keep]
    vectors = get_distances(ideal.positions, relaxed.positions[atom_of_site],
                            cell=relaxed.cell, pbc=True)[0]
    return ideal, vectors[np.arange(len(keep)), np.arange(len(keep))]


def model_path(model: str) -> None:
    from nnpcalc import NNPCalculator  # the venv's python only; GPAW runs without it

    with open(OUT) as handle:
        pbe = json.load(handle)
    perfect, relaxed = ase.io.read(DATA, PERFECT), ase.io.read(DATA, RELAXED)
    scaled = on_lattice(perfect, relaxed)  # the model's bulk on its vacancy cells' lattice
    ideal, displacement = ideal_vacancy(scaled, relaxed)
    path = [0.0, 0.25, 0.5, 0.75, 1.0]
    cells = [scaled]
    for fraction in path:
        cell = ideal.copy()
        cell.positions += fraction * displacement
        cells.append(cell)
    energies = [r["energy"] for r in NNPCalculator(model).predict(cells, forces=False,
                                                                    stress=False)]
    bulk = energies[0] * len(ideal) / len(perfect)
    print(f"vacancy formation energy (eV) from the ideal sites (0) to PBE's relaxed cell (1); "
          f"{model} against PBE ({OUT})")
    for fraction, energy in zip(path, energies[1:], strict=True):
        reference = {0.0: pbe["ideal_vacancy_eV"], 1.0: pbe["relaxed_vacancy_eV"]}.get(fraction)
        vacancy = energy - bulk
        against = "" if reference is None else f"  PBE {reference:.3f} ({vacancy - reference:+.3f})"
        print(f"  {fraction:4.2f}  model {vacancy:.3f}{against}")


def main() -> None:
    if sys.argv[1:2] == ["model"]:
        model_path(sys.argv[2])
        return
    if os.path.exists(OUT):
        print(OUT, "exists")
        return
    perfect, relaxed = ase.io.read(DATA, PERFECT), ase.io.read(DATA, RELAXED)
    ideal, displacement = ideal_vacancy(on_lattice(perfect, relaxed), relaxed)
    result = compute(ideal, (RELABEL_N,) * 3)
    bulk = perfect.get_potential_energy() * len(ideal) / len(perfect)
    row = {"perfect_index": PERFECT, "relaxed_index": RELAXED, "n": RELABEL_N,
           "max_displacement_A": float(np.linalg.norm(displacement, axis=1).max()),
           "ideal_energy_eV": result["energy_eV"], "nkpts": result["nkpts"],
           "seconds": result["seconds"], "max_force_eV_per_A": result["max_force_eV_per_A"],
           "ideal_vacancy_eV": result["energy_eV"] - bulk,
           "relaxed_vacancy_eV": relaxed.get_potential_energy() - bulk}
    row["relaxation_eV"] = row["ideal_vacancy_eV"] - row["relaxed_vacancy_eV"]
    tmp = f"{OUT}.{os.getpid()}.tmp"
    with open(tmp, "w") as handle:
        json.dump(row, handle, indent=1)
    os.replace(tmp, OUT)
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
