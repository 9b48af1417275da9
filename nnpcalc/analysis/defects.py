"""Point-defect formation energies with relaxation, size convergence and shell decomposition.

E_f = E(defect, relaxed) − E(perfect) − Σ_s Δn_s μ_s, with Δn_s the atoms of species s added
(+) or removed (−) and μ_s the energy per atom of the relaxed bulk for elemental crystals
(given by the caller for compounds, where it depends on growth conditions).

The ideal Si vacancy does not relax on its own (it sits on a saddle of the symmetric
configuration), so several symmetry-broken starts are tried and the lowest kept. Per-atom
energies distribute E_f over neighbour shells of the defect site; shells are taken from the
unrelaxed (perfect-crystal) positions so relaxation cannot move an atom between shells.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from ase import Atoms
from ase.build import bulk
from tqdm import tqdm

from nnpcalc.analysis.decomposition import shell_profile
from nnpcalc.analysis.eos import equation_of_state
from nnpcalc.analysis.errors import predict_many
from nnpcalc.analysis.relax import relax
from nnpcalc.plotting import plt, save_figure
from nnpcalc.sampling import diamond_supercell, interstitial
from nnpcalc.structures import StructureError

KINDS = ("vacancy", "tetrahedral", "hexagonal", "split110")
SHELL_TOLERANCE_A = 0.1  # perfect-crystal shells are sharp; 0.1 Å separates all of diamond's


def _starts(cell: Atoms, kind: str, site: np.ndarray, seed: int) -> list[Atoms]:
    """Starting configurations: as built, two random rattles, and for a vacancy the four
    nearest neighbours pushed 0.4 Å toward the empty site (last)."""
    starts = [cell.copy()]
    rng = np.random.default_rng(seed)
    for k in range(2):
        c = cell.copy()
        c.positions += rng.normal(0, 0.05 + 0.05 * k, c.positions.shape)
        starts.append(c)
    if kind == "vacancy":
        pushed = cell.copy()
        vectors = _vectors_from(pushed, site)
        near = np.argsort(np.linalg.norm(vectors, axis=1))[:4]
        for i in near:
            pushed.positions[i] -= 0.4 * vectors[i] / np.linalg.norm(vectors[i])
        pushed.positions += rng.normal(0, 0.02, pushed.positions.shape)
        starts.append(pushed)
    return starts


def _vectors_from(atoms: Atoms, site: np.ndarray) -> np.ndarray:
    """Minimum-image vectors from `site` to every atom."""
    probe = atoms + Atoms("X", positions=[site])
    return probe.get_distances(len(atoms), range(len(atoms)), mic=True, vector=True)


def antisite_cell(perfect: Atoms, index: int, symbol: str) -> tuple[Atoms, np.ndarray]:
    """Atom `index` of a multi-element supercell replaced by `symbol`, and the site."""
    if len(set(perfect.get_chemical_symbols())) < 2:
        raise ValueError("antisites need a multi-element crystal")
    if perfect[index].symbol == symbol:
        raise ValueError(f"atom {index} is already {symbol}")
    cell = perfect.copy()
    cell[index].symbol = symbol
    return cell, cell.positions[index].copy()


def point_defect(calc, perfect: Atoms, defect: Atoms, site, chemical_potentials=None,
                 fmax: float = 0.01, relax_cell: bool = False, seed: int = 0,
                 kind: str = "defect", decompose: bool = True) -> dict:
    """Relaxed formation energy of `defect` made from the supercell `perfect`.

    `perfect` is taken as relaxed (its E/N is μ for an elemental crystal);
    `chemical_potentials` {symbol: eV} is required for species whose count changes in a
    compound. With `relax_cell` the defect cell relaxes too (zero-pressure formation energy).
    """
    n_perfect, n_defect = (Counter(a.get_chemical_symbols()) for a in (perfect, defect))
    change = {s: n_defect[s] - n_perfect[s] for s in n_perfect | n_defect}
    change = {s: d for s, d in change.items() if d}
    perf = predict_many(calc, [perfect])[0]
    mu = dict(chemical_potentials or {})
    if len(n_perfect) == 1:
        mu.setdefault(next(iter(n_perfect)), perf["energy"] / len(perfect))
    missing = sorted(set(change) - set(mu))
    if missing:
        raise ValueError(f"chemical potential(s) needed for {', '.join(missing)} "
                         f"(pass chemical_potentials={{symbol: eV}})")
    shift = sum(d * mu[s] for s, d in change.items())
    runs, failures = [], []
    for start in _starts(defect, kind, np.asarray(site, float), seed):
        try:
            runs.append(relax(start, calc, fmax=fmax, steps=500))
        except StructureError as exc:  # an unstable model can pull atoms together
            failures.append(str(exc))
    if not runs:
        raise StructureError(f"every relaxation of the {kind} failed: {failures[0]}")
    energies = [r["energy_eV"] for r in runs]
    best = runs[int(np.argmin(energies))]
    fixed_cell = best["energy_eV"] - perf["energy"] - shift
    if relax_cell:  # from the best fixed-cell minimum, so the cell can only lower E_f
        best = relax(best["atoms"], calc, fmax=fmax, steps=500, cell=True)
    unrelaxed = predict_many(calc, [defect])[0]["energy"]
    result = {"kind": kind, "n_atoms": len(defect), "atoms_added": change,
              "chemical_potentials_eV": {s: mu[s] for s in change},
              "formation_energy_eV": best["energy_eV"] - perf["energy"] - shift,
              "fixed_cell_formation_energy_eV": fixed_cell,
              "unrelaxed_formation_energy_eV": unrelaxed - perf["energy"] - shift,
              "start_energies_eV": [e - perf["energy"] - shift for e in energies],
              "converged": best["converged"], "relaxed_cell": relax_cell,
              "failed_starts": failures}
    if decompose and "energies" in perf:
        result["shells"] = _shells(calc, perfect, perf, defect, best["atoms"], site, mu, change)
    result["relaxed_atoms"] = best["atoms"]
    return result


def _shells(calc, perfect, perf, defect, relaxed, site, mu, change) -> dict:
    """E_f by neighbour shell: each atom's energy minus its species' bulk atomic energy,
    grouped by the unrelaxed distance to the site; the remainder Σ Δn_s (ε_s − μ_s) (zero for
    elemental crystals) is reported as reservoir_eV so that the parts add up to E_f."""
    symbols = np.array(perfect.get_chemical_symbols())
    eps = {s: float(np.mean(np.asarray(perf["energies"])[symbols == s])) for s in set(symbols)}
    eps.update({s: mu[s] for s in change if s not in eps})  # a species new to the crystal
    res = predict_many(calc, [relaxed])[0]
    profile_atoms = defect.copy()
    profile_atoms.arrays["atomic_energy"] = np.asarray(res["energies"]) - np.array(
        [eps[s] for s in defect.get_chemical_symbols()])
    if "energies_std" in res:
        profile_atoms.arrays["atomic_energy_std"] = np.asarray(res["energies_std"])
    profile = shell_profile(profile_atoms, site, 0.0, shell_width=SHELL_TOLERANCE_A)
    profile["reservoir_eV"] = float(sum(d * (eps[s] - mu[s]) for s, d in change.items()))
    return profile


def defect_cell(kind: str, a0: float, size: int, symbol: str = "Si") -> tuple[Atoms, np.ndarray]:
    """Unrelaxed defect supercell (conventional diamond, 8·size³ sites) and the defect site."""
    if kind == "vacancy":
        cell = diamond_supercell(symbol, a0, size)
        site = cell.positions[0].copy()
        del cell[0]
        return cell, site
    cell = interstitial(kind, symbol, a0, size)
    if kind == "split110":  # the pair straddles the lattice site (¼,¼,¼)a of the builder
        return cell, np.full(3, a0 / 4)
    return cell, cell.positions[-1].copy()


def equilibrium_lattice(calc, symbol: str = "Si", guess: float = 5.43) -> float:
    """Cubic lattice parameter of the diamond crystal from the EOS (relaxed bulk)."""
    return equation_of_state(calc, bulk(symbol, "diamond", guess, cubic=True), 0.02, 9)[
        "a0_angstrom"]


def formation_energy(calc, kind: str, a0: float | None = None, size: int = 2,
                     symbol: str = "Si", fmax: float = 0.01, seed: int = 0,
                     decompose: bool = True, relax_cell: bool = False) -> dict:
    """Relaxed formation energy of a vacancy or self-interstitial in a size³ conventional
    diamond supercell; a0 defaults to the calculator's own equilibrium (μ from that bulk)."""
    if kind not in KINDS:
        raise ValueError(f"unknown defect {kind!r}; choose from {KINDS} (antisites: "
                         f"antisite_cell + point_defect)")
    if size < 1:
        raise ValueError(f"supercell size must be ≥ 1, got {size}")
    a0 = equilibrium_lattice(calc, symbol) if a0 is None else a0
    cell, site = defect_cell(kind, a0, size, symbol)
    result = point_defect(calc, diamond_supercell(symbol, a0, size), cell, site, fmax=fmax,
                          relax_cell=relax_cell, seed=seed, kind=kind, decompose=decompose)
    result.update(supercell=size, a0_angstrom=a0, mu_eV_per_atom=result[
        "chemical_potentials_eV"][symbol])
    return result


def size_convergence(calc, kind: str, a0: float | None = None, sizes=(1, 2, 3),
                     **kwargs) -> list[dict]:
    """Formation energy against supercell size (8·size³ sites), plain data per size."""
    a0 = equilibrium_lattice(calc, kwargs.get("symbol", "Si")) if a0 is None else a0
    out = []
    for size in tqdm(sizes, desc=f"{kind} sizes", disable=len(sizes) < 2):
        res = formation_energy(calc, kind, a0, size, **kwargs)
        res.pop("relaxed_atoms")
        out.append(res)
    return out


def plot_convergence(series: dict[str, list[dict]], path, reference: dict | None = None):
    """Formation energy against 1/N for each defect kind; optional {label: eV} lines."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for k, (kind, runs) in enumerate(series.items()):
        n = np.array([r["n_atoms"] for r in runs], float)
        ax.plot(1 / n, [r["formation_energy_eV"] for r in runs], "o-", color=f"C{k}",
                label=kind)
    for label, value in (reference or {}).items():
        ax.axhline(value, ls="--", color="grey", lw=0.8)
        ax.annotate(label, (0, value), fontsize=7, va="bottom")
    ax.set_xlabel("1 / atoms in supercell")
    ax.set_ylabel("formation energy (eV)")
    ax.set_xlim(left=0)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def primitive_cell_vacancy(calc, a0: float, repeat: int = 2, symbol: str = "Si") -> dict:
    """Vacancy in a repeat³ supercell of the 2-atom primitive cell (16 sites for repeat=2):
    the cell the DFT baseline affords, for like-for-like comparisons with it."""
    from ase.build import bulk

    perfect = bulk(symbol, "diamond", a0).repeat(repeat)
    defect = perfect.copy()
    del defect[0]
    result = point_defect(calc, perfect, defect, perfect.positions[0], kind="vacancy",
                          decompose=False)
    result.pop("relaxed_atoms", None)
    return result


# Relaxing from the reference's own minimum releases only what the force errors hold:
# ½ ΔFᵀ K⁻¹ ΔF ≈ ½ · 189 components · ΔF² / (10 eV/Å²) for a 63-atom Si cell: 0.02 eV at
# 0.05 eV/Å, 0.11 eV at the 0.11 eV/Å test-force RMSE of the shipped Si models. A release over
# twice the latter means the model has a minimum of its own, away from the reference's.
SPURIOUS_RELAXATION_EV = 0.25


def formation_at_reference_geometry(calc, defect: Atoms, perfect: Atoms) -> dict:
    """E(defect) − N_defect/N_perfect · E(perfect) of an elemental defect cell and its perfect
    crystal at the reference's (e.g. DFT-relaxed) geometry, by the model and, when both cells
    carry labels, by the reference: the part of a defect error that is the fit of these two
    cells, before the model relaxes anything."""
    species = set(defect.get_chemical_symbols()) | set(perfect.get_chemical_symbols())
    if len(species) != 1:
        raise ValueError(f"elemental cells only, got {sorted(species)}")
    if not np.allclose(defect.cell[:], perfect.cell[:], atol=1e-6):
        raise ValueError("the defect and perfect cells must share one cell (the same supercell "
                         f"of one lattice): {defect.cell.cellpar()} vs {perfect.cell.cellpar()}")
    ratio = len(defect) / len(perfect)
    energies = predict_many(calc, [defect, perfect])
    result = {"n_atoms": len(defect),
              "model_eV": float(energies[0]["energy"] - ratio * energies[1]["energy"])}
    if defect.calc is not None and perfect.calc is not None:
        result["reference_eV"] = float(defect.get_potential_energy()
                                       - ratio * perfect.get_potential_energy())
        result["diff_eV"] = result["model_eV"] - result["reference_eV"]
    return result


def relaxation_warning(relaxed_eV: float, at_reference_geometry_eV: float, what: str) -> str | None:
    """A sentence when the model's relaxed formation energy lies further below its value at
    the reference geometry than force errors can explain (SPURIOUS_RELAXATION_EV)."""
    release = at_reference_geometry_eV - relaxed_eV
    if not release > SPURIOUS_RELAXATION_EV:
        return None
    return (f"the model relaxes the {what} {release:.2f} eV below its own energy at the DFT "
            f"geometry (more than the {SPURIOUS_RELAXATION_EV} eV that force errors explain): "
            "it has a minimum of its own there; check the relaxed structure before trusting "
            "the number")
