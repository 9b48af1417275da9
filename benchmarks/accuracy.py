"""Training recipes compared on two data sets; one row per recipe, seed fixed, wall time stated.

    python benchmarks/accuracy.py                       # every recipe of both suites
    python benchmarks/accuracy.py --suite sw --only sw_shells,sw_shells_silu
    python benchmarks/accuracy.py --table               # just rewrite docs/accuracy_results.md

Suite "sw": a Stillinger–Weber teacher (exact atomic energies hidden from training), model
cutoff = SW's 3.77 Å, trained on the tutorial's diverse set (crystals over volume, rattled
diamond, liquid, amorphous, hot crystal, vacancy/interstitial/surface MD). Held out: vacancy,
surface and amorphous cells plus liquid and hot-crystal snapshots; crystal probes at volumes
between the training ones. Columns: held-out totals and forces, atomic energies vs the vertex
partition, crystal-probe invariant error.

Suite "dft": the shipped GPAW PBE data with the shipped config's fixed test split (seed 0):
energy RMSE/MAE with and without clusters (non-periodic: dimers, trimers, the atom), forces, stress.

Each recipe is the previous row's winner with ONE change (see RECIPES). Each finished row is
kept as JSON in --rows (committed, so the table can be rewritten on any checkout; a finished row
is not retrained); models and logs go to --out. docs/accuracy_results.md is rewritten from the
rows; rows of sessions 2-4, whose JSON was not kept, are in docs/accuracy_results_2026-11.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import ase.io
import numpy as np

from nnpcalc.analysis.audit import audit, default_probes
from nnpcalc.analysis.errors import test_set_errors
from nnpcalc.analysis.properties import diamond_properties
from nnpcalc.analysis.report import reference_vacancy
from nnpcalc.analysis.targets import TARGETS
from nnpcalc.calculator import NNPCalculator
from nnpcalc.descriptors.acsf import ACSFParameters
from nnpcalc.models.model_file import read_payload, save_model
from nnpcalc.plotting import grouped_bars
from nnpcalc.pretrained import sha256
from nnpcalc.teachers.dataset import label_with_teacher, snapshots
from nnpcalc.train import fit
from nnpcalc.train.checkpoint import last_epoch_model
from nnpcalc.train.data import read_sources

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tutorials"))
from invariant_points import TEACHER_CUTOFF, datasets  # noqa: E402

SW_BASE = {
    "val_fraction": 0.15, "seed": 0, "epochs": 400, "batch_size": 8, "lr": 3e-3,
    "scheduler": "cosine", "patience": 400, "loss": {"energy": 1.0, "forces": 0.1},
    "isolated_atom_energies": {"Si": 0.0}, "early_stopping": "val_loss",
    "model": {"cutoff": TEACHER_CUTOFF, "hidden": [30, 30]},
}
# The v7 recipe (data/train_si.yaml until session 30; the row dft256_wide_clusters), frozen
# here because the shipped config moves on: every dft row descends from it.
V7 = {"data": ["data/si_pbe.extxyz"], "val_fraction": 0.1, "test_fraction": 0.1, "seed": 0,
      "epochs": 600, "batch_size": 8, "lr": 0.003, "scheduler": "cosine", "patience": 600,
      "loss": {"energy": 1.0, "forces": 0.1, "stress": 0.1, "energy_size": "sqrt_atoms",
               "groups": {"dimer": 3.0, "trimer": 3.0}},
      "isolated_atom_energies": {"Si": -0.8424340015306861}, "early_stopping": "combined",
      "model": {"cutoff": 6.0, "hidden": [128, 128]}, "out": "runs/si_pbe"}
# The v6 recipe: a 60-60 network, no group weights.
V6 = {**V7, "model": {**V7["model"], "hidden": [60, 60]},
      "loss": {k: v for k, v in V7["loss"].items() if k != "groups"}}
# The first dft rows (on 244 structures, before the sheared tier) started from the v5 recipe,
# i.e. v6 with per-atom energy weighting; the dft256 rows start from v6 on the 256-structure
# data.
DFT_BASE = {**V6, "loss": {**V6["loss"], "energy_size": "per_atom"}}
# (the first e3nn rows ran before the coordination and product options existed: off there)
E3NN_SW = {"kind": "e3nn", "cutoff": TEACHER_CUTOFF, "l_max": 1, "channels": 16,
           "product": False}
E3NN_DFT = {"kind": "e3nn", "cutoff": 4.5, "l_max": 1, "channels": 16, "n_layers": 2,
            "coordination_start": False, "product": False}


def _table(*sets: ACSFParameters) -> dict:
    """The rows of parameter sets as a config's `descriptor` table (lists, as YAML writes)."""
    return {"radial": [list(r) for p in sets for r in p.radial],
            "angular": [list(a) for p in sets for a in p.angular]}


UNION_6A = _table(ACSFParameters.default_si(6.0), ACSFParameters.shells(6.0))
# the shells set with cross-shell terms at zeta 1, 2 and 4 (cos^4: the angles up to l = 4 that
# the e3nn model's channel pairs resolve), where `shells_cross` pairs shells at zeta 1, 2 only
CROSS4_6A = _table(ACSFParameters.shells(6.0, cross_zetas=(1, 2, 4)))

# name: (suite, parent recipe, the one change as a nested dict of config overrides)
# the labelled additions trained beside the split from session 20 on (data/README.md)
BESIDE_SPLIT = ["data/si_pbe_active.extxyz", "data/si_pbe_bc8.extxyz",
                "data/si_pbe_dimers.extxyz"]
# what the shipped e3nn recipe (stages 24 on) trains beside the split
E3NN_BESIDE_SPLIT = [*BESIDE_SPLIT, "data/si_pbe_polytypes.extxyz", "data/si_pbe_tail.extxyz",
                     "data/si_pbe_metal_perfect.extxyz"]
# cells labelled by the shipped e3nn model (session 30), for BP students
DISTIL = "data/si_e3nn_distil.extxyz"

RECIPES: dict[str, tuple[str, str | None, dict]] = {
    "sw_tutorial": ("sw", None, {}),
    # one change each against the tutorial recipe: which lever moves the fit?
    "sw_shells": ("sw", "sw_tutorial", {"model": {"descriptor": "shells"}}),
    "sw_forces1": ("sw", "sw_tutorial", {"loss": {"forces": 1.0}}),
    "sw_silu": ("sw", "sw_tutorial", {"model": {"activation": "silu"}}),
    "sw_60x60": ("sw", "sw_tutorial", {"model": {"hidden": [60, 60]}}),
    "sw_plateau": ("sw", "sw_tutorial", {"scheduler": "plateau", "epochs": 2000,
                                         "patience": 2000, "lr_min": 1e-5}),
    "sw_float64": ("sw", "sw_tutorial", {"dtype": "float64"}),
    # the shells set is near-linear for SW: a linear term started at a ridge fit
    "sw_linear": ("sw", "sw_shells", {"model": {"linear_term": True}}),
    "sw_linear_lr1e-3": ("sw", "sw_linear", {"lr": 1e-3}),
    "sw_linear_forces1": ("sw", "sw_linear", {"loss": {"forces": 1.0}}),
    "sw_linear_silu": ("sw", "sw_linear", {"model": {"activation": "silu"}}),
    # cross-shell angular terms span SW's separable three-body weight
    "sw_cross": ("sw", "sw_linear", {"model": {"descriptor": "shells_cross"}}),
    "sw_cross_lr1e-4": ("sw", "sw_cross", {"lr": 1e-4}),
    "dft_shipped": ("dft", None, {}),
    # lr 3e-3 with 236 inputs was unstable (train E/N 58-370 meV/atom at epochs 50-350)
    "dft_cross_lr1e-3": ("dft", "dft_shipped", {"model": {"descriptor": "shells_cross"},
                                                "lr": 1e-3}),
    # anchoring E(G=0) = E0 ties every bulk energy to the network's value at a point far from
    # the data; free references start at the per-species mean energy instead
    # (free references did not calm it: val E/N 20-160 meV/atom at epochs 300-416, stopped)
    # (full-batch L-BFGS, float64, from the linear start: 14 s per 20-iteration epoch and
    # val E/N 49 -> 52-60 meV/atom in 4 epochs; stopped)
    "dft_whitened": ("dft", "dft_shipped", {"model": {"whitening": True}}),
    # mini-batch noise moves every energy of a cell together: evaluate an average of weights
    "dft_ema": ("dft", "dft_shipped", {"ema_decay": 0.99}),
    # SIMPLE-NN trains at 1e-4; 3e-3 spikes (train E/N 36 -> 229 meV/atom within 25 epochs)
    "dft_ema_lr3e-4": ("dft", "dft_ema", {"lr": 3e-4}),
    "dft_shells": ("dft", "dft_shipped", {"model": {"descriptor": "shells"}}),
    "dft_sqrt_atoms": ("dft", "dft_shipped", {"loss": {"energy_size": "sqrt_atoms"}}),
    "dft_sqrt_atoms_shells": ("dft", "dft_sqrt_atoms", {"model": {"descriptor": "shells"}}),
    # 256 structures (sheared tier added); the shipped v6 config is the parent
    "dft256_shipped": ("dft256", None, {}),
    "dft256_forces1": ("dft256", "dft256_shipped", {"loss": {"forces": 1.0}}),
    "dft256_silu": ("dft256", "dft256_shipped", {"model": {"activation": "silu"}}),
    "dft256_wide": ("dft256", "dft256_shipped", {"model": {"hidden": [128, 128]}}),
    # the wide network fits periodic cells best and clusters worst (dimer 97 meV/atom);
    # this row is the shipped v7 (data/train_si.yaml)
    "dft256_wide_clusters": ("dft256", "dft256_wide", {"loss": {"groups": {"dimer": 3.0,
                                                                           "trimer": 3.0}}}),
    "dft256_wide_clusters_long": ("dft256", "dft256_wide_clusters", {"epochs": 1200,
                                                                      "patience": 1200}),
    "dft256_plateau": ("dft256", "dft256_shipped", {"scheduler": "plateau", "lr": 1e-3,
                                                    "epochs": 2000, "patience": 2000,
                                                    "plateau_patience": 40}),
    # the e3nn kind (a `model` block with a `kind` replaces the parent's block): same data,
    # losses and schedule as the shipped BP recipe; reach = n_layers × cutoff
    "dft256_e3nn": ("dft256", "dft256_shipped", {"model": E3NN_DFT}),
    # start from a fitted coordination term (40-epoch probe: val forces 0.36 vs 0.51 eV/Å)
    "dft256_e3nn_coord": ("dft256", "dft256_e3nn", {"model": {"coordination_start": True}}),
    # session 5: v7 (dft256_wide_clusters) is the parent. Three seeds of it first: how far
    # apart are seeds on this 26-structure test split, and what does averaging them give?
    "dft256_v7_ensemble3": ("dft256", "dft256_wide_clusters", {"replicas": 3}),
    # force and virial terms outweigh the energy term ~10x at v7's errors (0.1·(0.1 eV/Å)²
    # vs (10 meV/atom)²): let energies pull harder
    "dft256_v7_forces0.03": ("dft256", "dft256_wide_clusters", {"loss": {"forces": 0.03}}),
    # suite dft256r: the same 256 structures after the session-5 relabelling of the slab and
    # interstitial families on converged meshes (data/README.md, k-point table)
    "dft256r_v7": ("dft256r", "dft256_wide_clusters", {}),
    # v7 fits the stresses of the strained 2-atom diamond cells to only 0.55 GPa RMS (labels
    # 3.5 GPa; C11 −14 %), though its labels are consistent (P = −dE/dV within 0.2 GPa)
    "dft256r_stress1": ("dft256r", "dft256r_v7", {"loss": {"stress": 1.0}}),
    # the finer `shells` set got C11, C12 and the vacancy right on the 244-structure data
    "dft256r_shells": ("dft256r", "dft256r_v7", {"model": {"descriptor": "shells"}}),
    # both sets side by side (137 inputs): the 64 ACSF fit energies and clusters better,
    # the shells the elastic constants and the vacancy
    "dft256r_union": ("dft256r", "dft256r_v7", {"model": {"descriptor": UNION_6A}}),
    # suite dft256f: the final labels (hexagonal and split-<110> interstitials relabelled too)
    "dft256f_v7": ("dft256f", "dft256_wide_clusters", {}),
    # a 2 % shear changes E/N by only ~2 meV/atom (C44 = 74 GPa): inside the energy noise. The
    # elastic constants and the Gamma phonon live in the near-diamond cells' stresses and
    # forces, so let those cells (energies, forces and stresses alike) pull harder
    "dft256f_diamond5": ("dft256f", "dft256f_v7", {"loss": {"groups": {"crystal_diamond*": 5.0}}}),
    # Adam's mini-batch noise stops v7 at train E/N ~20 meV/atom; full-batch L-BFGS (float64,
    # 20 iterations per epoch, strong Wolfe line search) continues from v7's weights
    "dft256f_v7_lbfgs": ("dft256f", "dft256f_v7", {"init_from": "{out}/dft256f_v7/model.pt",
                                                   "optimizer": "lbfgs", "lr": 1.0,
                                                   "dtype": "float64", "scheduler": "none",
                                                   "epochs": 30, "patience": 30}),
    # 30 L-BFGS epochs took periodic test cells 10.5 -> 6.9 meV/atom and were still improving
    "dft256f_v7_lbfgs120": ("dft256f", "dft256f_v7_lbfgs", {"epochs": 120, "patience": 120}),
    # suite dft270: + tier 8 (frozen Γ phonons, internal-strain scans at fixed shear; data/README):
    # the models above relax far too much under shear (clamped C44 86-91 GPa, relaxed 40-47
    # against PBE 73.9). The split is redrawn over 270 structures: compare properties.
    "dft270_v7": ("dft270", "dft256_wide_clusters", {}),
    # With Adam the 14 tier-8 cells (28 of ~4000 atoms) changed nothing (C44 40.8 GPa). Two
    # changes at once, for lack of time: the L-BFGS refinement of dft256f_v7_lbfgs120 and the
    # tier-8 cells weighted 10x (their forces ~6 % of the force term)
    "dft270_v7_lbfgs_tier8x10": ("dft270", "dft270_v7", {
        "init_from": "{out}/dft270_v7/model.pt", "optimizer": "lbfgs", "lr": 1.0,
        "dtype": "float64", "scheduler": "none", "epochs": 60, "patience": 60,
        "loss": {"groups": {"crystal_diamond_optical": 10.0,
                            "crystal_diamond_sheared_internal": 10.0}}}),
    # the 64 ACSF cannot fit the tier-8 internal-strain forces even weighted 10x (0.218 vs
    # 0.183 eV/Å at the clamped shear): does the union set, which resolves the first shells
    # (C11, C12 inside 10 % in dft256r_union), fit them?
    "dft270_union": ("dft270", "dft270_v7", {"model": {"descriptor": UNION_6A}}),
    # (early stopping on the validation loss: in dft270_v7_lbfgs_tier8x10 one held-out dimer
    # went from +8 to -148 meV/atom while the periodic cells improved, and the combined rule,
    # which counts it twice (energy and invariant point), kept the epoch-0 model)
    "dft270_union_lbfgs_tier8x10": ("dft270", "dft270_union", {
        "init_from": "{out}/dft270_union/model.pt", "optimizer": "lbfgs", "lr": 1.0,
        "dtype": "float64", "scheduler": "none", "epochs": 60, "patience": 60,
        "early_stopping": "val_loss",
        "loss": {"groups": {"crystal_diamond_optical": 10.0,
                            "crystal_diamond_sheared_internal": 10.0}}}),
    # session 9: rows now carry the out-of-the-box audit (shipped probes). It corrects session
    # 6's reading: v7's "12.8" came from the demo's audit without the probe file; with it v7 is
    # 13.5 / 28.7 and the L-BFGS refinement dft256f_v7_lbfgs120 (7.2 / 20.8) improved both.
    # The plain refinement on the current split, then the same with a proximal pull towards
    # the Adam weights (does it keep what transfers while the totals tighten?)
    "dft270_v7_lbfgs": ("dft270", "dft270_v7", {
        "init_from": "{out}/dft270_v7/model.pt", "optimizer": "lbfgs", "lr": 1.0,
        "dtype": "float64", "scheduler": "none", "epochs": 30, "patience": 30,
        "early_stopping": "val_loss"}),
    # the refinement halved the training loss (0.0021 -> 0.0010) by moving the weights
    # Σ(w - w_start)² = 1.5 (of |w|² = 278) and left the held-out invariant points where they
    # were (24.0 -> 27.3 meV/atom): a pull that costs half that gain at the same distance
    "dft270_v7_lbfgs_prox": ("dft270", "dft270_v7_lbfgs", {"proximal": 3e-4}),
    # 3e-4 kept the totals under the audit's 10 and took the held-out points 27.3 -> 21.4: pull
    # harder
    "dft270_v7_lbfgs_prox1e-3": ("dft270", "dft270_v7_lbfgs_prox", {"proximal": 1e-3}),
    "sw_e3nn_1layer": ("sw", "sw_tutorial", {"model": {**E3NN_SW, "n_layers": 1}}),
    "sw_e3nn_2layers": ("sw", "sw_e3nn_1layer", {"model": {"n_layers": 2}}),
    "sw_e3nn_3layers": ("sw", "sw_e3nn_1layer", {"model": {"n_layers": 3}}),
    # underfit at 400 epochs (train 46 meV/atom, 0.46 eV/Å): a 4× longer schedule
    "sw_e3nn_2layers_long": ("sw", "sw_e3nn_2layers", {"epochs": 1600, "patience": 1600}),
    # session 7: SW's angular factor (cos θ + 1/3)² needs P2, i.e. l = 2, and a three-body sum
    # at atom i (per-channel squared norms of the summed messages, `product`). Full-batch Adam
    # probes on the training cells, 300 steps at lr 1e-2: l_max 1 without product stalls at
    # forces 0.48 eV/Å, l_max 2 with product reaches 0.13 and falls; at lr 3e-3 the first 40
    # epochs left energies at 650 meV/atom. Two changes at once, both from those probes
    "sw_e3nn_l2_1layer": ("sw", "sw_e3nn_1layer", {"model": {"l_max": 2, "product": True},
                                                   "lr": 1e-2}),
    "sw_e3nn_l2_2layers": ("sw", "sw_e3nn_l2_1layer", {"model": {"n_layers": 2}}),
    "sw_e3nn_l2_3layers": ("sw", "sw_e3nn_l2_1layer", {"model": {"n_layers": 3}}),
    # one layer with the product expresses SW exactly (a pair sum plus Σ_l c_l |A_l|² with
    # R = SW's radial factor), yet fits it to 15 meV/atom in 400 epochs: the schedule? (session 8)
    "sw_e3nn_l2_1layer_long": ("sw", "sw_e3nn_l2_1layer", {"epochs": 1600, "patience": 1600}),
    # does the deeper model's ad hoc partition survive a tighter fit of the totals?
    "sw_e3nn_l2_2layers_long": ("sw", "sw_e3nn_l2_1layer_long", {"model": {"n_layers": 2}}),
    # the same model form on the PBE data (suite dft270): one layer with the angular product is
    # a local many-body model like BP's, with learned radial functions; 5 Å (the cost grows
    # with the neighbours: ~2.2 s per epoch on one core); lr 1e-2 as on SW
    "dft270_e3nn_l2_1layer": ("dft270", "dft256_e3nn_coord", {
        "model": {"l_max": 2, "product": True, "n_layers": 1, "cutoff": 5.0}, "lr": 1e-2}),
    # it fits forces (test MAE 0.063 eV/Å) and Γ (14.96 THz) but leaves whole families offset
    # on its training cells (sc −74, β-Sn +30, diamond +12 meV/atom), as Adam left v7; unlike
    # v7 it does not yield to full-batch L-BFGS (init_from, float64, val_loss stopping: train
    # E/N 41.4 -> 38.0 meV/atom in 7 epochs of ~50 s, val 30-32; stopped): capacity? One
    # readout of 16 hidden units on 16 channels x 3 degrees against BP's 128-128 on 64 inputs
    "dft270_e3nn_l2_1layer_c32": ("dft270", "dft270_e3nn_l2_1layer", {
        "model": {"channels": 32}, "epochs": 300, "patience": 300}),
    # session 8: 32 channels widened the equivariant part too and did not help. The energy of
    # the one-layer row passes a 16-wide bottleneck: 64 invariants (16 summed scalars + 48
    # squared norms) -> 16 gated scalars -> 16 hidden -> 1, where BP has 64 -> 128 -> 128 -> 1.
    # One lever, the invariant width: 64 scalar channels and a 64-64 readout
    "dft270_e3nn_l2_1layer_wide": ("dft270", "dft270_e3nn_l2_1layer", {
        "model": {"scalars": 64, "readout_hidden": [64, 64]}}),
    # wider was worse again (near-diamond families +12..+18 meV/atom, periodic test 41 / 28)
    # while forces stay ~0.065 eV/A: the loss, not the capacity. At these errors the force
    # and virial terms outweigh the energy term ~10x, and a uniform +12 meV/atom on the
    # near-diamond majority costs almost nothing; energy weighted 10x
    "dft270_e3nn_l2_1layer_energy10": ("dft270", "dft270_e3nn_l2_1layer", {
        "loss": {"energy": 10.0}}),
    # energy 10x traded forces for energies (periodic test 33.6 -> 22.8 meV/atom, forces MAE
    # 0.063 -> 0.107 eV/A) and still left diamond +9, sc -24, trimer +132: the model form.
    # BP sees 6 A (diamond's 4th and 5th shells at 5.43 and 5.92 A); this form saw 5 A
    "dft270_e3nn_l2_1layer_6A": ("dft270", "dft270_e3nn_l2_1layer", {"model": {"cutoff": 6.0}}),
    # 6 A was worse as well (periodic test 47 / 36, diamond +29, sc -117 meV/atom). Every row
    # ends with training E/N MAE 22-34 meV/atom while one layer with the product can express
    # SW exactly and still fits it only to 15: is it the schedule? 2.5x the epochs
    "dft270_e3nn_l2_1layer_long": ("dft270", "dft270_e3nn_l2_1layer", {"epochs": 1500,
                                                                         "patience": 1500}),
    # session 9: the long row leaves the metals offset (sc -54, fcc -22..-32, bcc -22 meV/atom
    # on training cells) while near-diamond families sit within +-2.4: l <= 2 resolves the
    # angles at an atom only through P0, P1, P2, where BP's (1 + cos)^16 reaches P16. One
    # lever, the angular resolution: l_max 3 (1.2 s per epoch against 0.85)
    "dft270_e3nn_l3_1layer_long": ("dft270", "dft270_e3nn_l2_1layer_long", {
        "model": {"l_max": 3}}),
    # a site of cubic symmetry has no l = 1, 2 moment and a centrosymmetric one (sc, bcc, fcc)
    # no l = 3 either (tests/test_e3nn_angles.py): l = 4 is the lowest degree that sees their
    # angles at all (1.8 s per epoch)
    "dft270_e3nn_l4_1layer_long": ("dft270", "dft270_e3nn_l2_1layer_long", {
        "model": {"l_max": 4}}),
    # l = 4 took the periodic test cells from 26.3 / 16.8 to 10.9 / 6.5 meV/atom; the training
    # error still jumps by 2x between epochs at the high rates: finish it with full-batch
    # L-BFGS as v7 was (float64, early stopping on the validation loss)
    "dft270_e3nn_l4_1layer_lbfgs": ("dft270", "dft270_e3nn_l4_1layer_long", {
        "init_from": "{out}/dft270_e3nn_l4_1layer_long/model.pt", "optimizer": "lbfgs",
        "lr": 1.0, "dtype": "float64", "scheduler": "none", "epochs": 20, "patience": 20,
        "early_stopping": "val_loss"}),
    # session 10: the l = 4 model still passes its energy through a 16-wide bottleneck (16
    # summed scalars + 80 squared norms -> 16 gated scalars -> 16 hidden -> 1). Session 8's
    # wider readout was measured blind to the cubic angles (l_max 2); one lever again, now
    # that the angles are there: 64 scalar channels and a 64-64 readout
    "dft270_e3nn_l4_1layer_wide": ("dft270", "dft270_e3nn_l4_1layer_long", {
        "model": {"scalars": 64, "readout_hidden": [64, 64]}}),
    # (session 12: forces MAE 0.064 -> 0.060 but periodic test energies 10.9 -> 19.8 meV/atom,
    # every family offset grown: the capacity went to the forces; rejected as a first stage)
    # does the second stage (energy 10x) turn the wider model's better forces into better
    # energies? The shipped second stage, started from the wide first stage instead. (Its
    # frozen data copy was taken when it first ran: the session-12 labels, sha256 adafea98...,
    # not the dft270 labels its first stage saw; since session 14 a rerun would continue its
    # first stage's labels, see _labels_source)
    "dft270_e3nn_l4_wide_stage2": ("dft270", "dft270_e3nn_l4_stage2", {
        "init_from": "{out}/dft270_e3nn_l4_1layer_wide/model.pt",
        "model": {"scalars": 64, "readout_hidden": [64, 64]}}),
    # every model sits high on the perfect diamond cells (shipped BP +6..+9, e3nn l4 +1..+8
    # meV/atom, growing with volume) and within 1 on the relaxed 63-atom vacancy: at the PBE
    # geometry that alone takes 63 x (0.5 - 5.9) meV = -0.34 eV off BP's vacancy formation
    # energy. The perfect cells are 11 of 216 training structures, mostly 2-atom cells that
    # sqrt_atoms weighting counts ~5x less than an average cell: weight them 10x
    "dft270_v7_diamond10": ("dft270", "dft270_v7", {
        "loss": {"groups": {"crystal_diamond": 10.0, "crystal_diamond_64": 10.0}}}),
    # 10x moved the perfect cells' offset by less than 1 meV/atom (5.7 -> 5.0): not the
    # weight. Across all dft270 rows the vacancy formation energy follows 63 x (training offset
    # of the relaxed 63-atom vacancy - that of the 64-atom crystal): v7 -7.4 meV -> 2.65 eV,
    # union +3.2 -> 3.63 (PBE 3.46). Every vacancy cell sits low in v7 (rattled -4.3, relaxed
    # -3.5 meV/atom): the atoms next to a vacancy, 4 of 63, are fitted too low. Weight every
    # vacancy cell 5x
    "dft270_v7_vacancy5": ("dft270", "dft270_v7", {"loss": {"groups": {"vacancy*": 5.0}}}),
    # both kinds underfit the energies of their own training cells by family (e3nn l4: hcp
    # +20, bcc +12, surface (100) -33, dimer -38, trimer +75 meV/atom) while the forces fit
    # (slope of predicted on PBE forces 0.99-1.01 in every bulk family): at these errors the
    # force term outweighs the energy term ~10x. A second stage in the manner of MACE's:
    # continue from the l = 4 model (= data/si_model_e3nn.pt) with the energy weighted 10x
    # at a tenth of the rate, 300 epochs
    "dft270_e3nn_l4_stage2": ("dft270", "dft270_e3nn_l4_1layer_long", {
        "init_from": "{out}/dft270_e3nn_l4_1layer_long/model.pt", "loss": {"energy": 10.0},
        "lr": 1e-3, "epochs": 300, "patience": 300}),
    # suite dft270k (session 11): the same 270 structures, split and recipes; only the labels
    # moved. Every diamond-lattice supercell (8-64 atoms: rattled, sheared, strained, hot,
    # vacancy cells) sat 1.32-1.54 meV/atom above the converged mesh that the 2-atom diamond
    # cells are on, and is moved by its perfect cell's k-mesh step (data/diamond_mesh_step.json);
    # the 2-atom strained cells (-1.3 below density 8 on the shifted mesh) are relabelled on a
    # Γ-centred density-5 mesh. Does the perfect-diamond offset, and with it the near-diamond
    # test error and the vacancy at the PBE geometry, go with the labels' step?
    "dft270k_v7": ("dft270k", "dft270_v7", {}),
    "dft270k_v7_lbfgs": ("dft270k", "dft270_v7_lbfgs", {
        "init_from": "{out}/dft270k_v7/model.pt"}),
    # e3nn: the second stage (energy 10x) on the new labels, from the shipped first stage
    "dft270k_e3nn_l4_stage2": ("dft270k", "dft270_e3nn_l4_stage2", {}),
    # session 14: the wide second stage (dft270_e3nn_l4_wide_stage2, on these labels) is the
    # first model with C11/C12/C44 all within 10 % and Γ within 0.02 THz, but its clusters are
    # far off (training trimers +110, test dimer RMSE 141 meV/atom), which the sqrt_atoms
    # weighting counts least. A third stage from it with the clusters weighted 3x, as BP's v7
    "dft270k_e3nn_l4_wide_clusters": ("dft270k", "dft270_e3nn_l4_wide_stage2", {
        "init_from": "{out}/dft270_e3nn_l4_wide_stage2/model.pt",
        "loss": {"groups": {"dimer": 3.0, "trimer": 3.0}}}),
    # (training E/N RMSE 23.5 -> 16.5 meV/atom, the validation's 24.3 -> 31.3 at the last
    # epoch and never below the start: early stopping kept epoch 0, the starting model. The
    # wide readout fits the 14 training clusters and misplaces the held-out ones.)
    # The shipped second stage ends its cosine schedule at training E/N MAE 4.5 meV/atom, its
    # mini-batch validation error jumping 12-20 between epochs: finish it with full-batch
    # L-BFGS on the same loss, as v7 was finished (float64, stopping on the validation loss;
    # not run yet: session 14's CPU went to the GPAW checks)
    "dft270k_e3nn_l4_stage2_lbfgs": ("dft270k", "dft270k_e3nn_l4_stage2", {
        "init_from": "{out}/dft270k_e3nn_l4_stage2/model.pt", "optimizer": "lbfgs",
        "lr": 1.0, "dtype": "float64", "scheduler": "none", "epochs": 20, "patience": 20,
        "early_stopping": "val_loss"}),
    # session 15: the one-layer product keeps one squared norm per channel and degree,
    # Σ_jk R_c(r_ij) R_c(r_ik) P_l: the diagonal of the power spectrum, which on SW was the
    # limit of the BP basis until the cross-shell terms came in. The cross-channel products
    # (600 invariants at 16 channels, l_max 4) start at zero, so a third stage from the
    # shipped second stage starts as it; the control row is the same third stage without them
    "dft270k_e3nn_l4_cross": ("dft270k", "dft270k_e3nn_l4_stage2", {
        "init_from": "{out}/dft270k_e3nn_l4_stage2/model.pt",
        "model": {"cross_channels": True}}),
    "dft270k_e3nn_l4_stage3": ("dft270k", "dft270k_e3nn_l4_stage2", {
        "init_from": "{out}/dft270k_e3nn_l4_stage2/model.pt"}),
    # with the channel pairs the training E/N RMSE fell 12.0 -> 6.9 meV/atom while the
    # validation error jumped 9.5-17 between epochs at lr 1e-3 (mini-batches of 8): evaluate
    # an exponential moving average of the weights (0.99 per step, ~4 epochs), as MACE does
    "dft270k_e3nn_l4_cross_ema": ("dft270k", "dft270k_e3nn_l4_cross", {"ema_decay": 0.99}),
    # (periodic test cells 5.6 / 4.7 -> 4.7 / 3.3 meV/atom.) The channel pairs took the training
    # offsets of most families down (beta-Sn +10.4 -> +3.4, trimer +26 -> +21 meV/atom against
    # the control) but not the test dimer (42 -> 44; the second stage: 25): the dimers and
    # trimers weighted 3x, as BP's v7 weights them
    "dft270k_e3nn_l4_cross_ema_clusters": ("dft270k", "dft270k_e3nn_l4_cross_ema", {
        "loss": {"groups": {"dimer": 3.0, "trimer": 3.0}}}),
    # the weight average on the BP recipe of today (128-128, clusters 3x); on the early 64-ACSF
    # recipe at lr 3e-3 it changed nothing measurable (session 2)
    "dft270k_v7_ema": ("dft270k", "dft270k_v7", {"ema_decay": 0.99}),
    # session 16: the shipped e3nn model (cross_ema) has C11 -16 %, C12 +20 % while the 16
    # strained 2-atom training cells' own PBE stresses give C11 / C12 = 152 / 59 GPa (fitted
    # by linear elasticity, 0.4 GPa residual) and the model's 130 / 72: it underfits the
    # deviatoric stress of its training cells (virial RMSE 50-83 meV/atom on the strained
    # families, 7-10 on the sheared ones). At stress weight 0.1 the stress term is the
    # smallest of the three; weighted 1.0 it is of the energy term's size
    "dft270k_e3nn_l4_cross_ema_stress1": ("dft270k", "dft270k_e3nn_l4_cross_ema", {
        "loss": {"stress": 1.0}}),
    # (the combined validation metric never beat epoch 0, the start: the row's model is the
    # second stage's. The last epoch's weights: training stress RMSE 0.51 -> 0.40 GPa, the
    # validation's 0.63 -> 0.62, validation E/N 11.1 against the parent's 9.7 meV/atom; the
    # strained cells' C11 / C12 by the same fit 130 / 72 -> 140 / 66 GPa: the right way, slowly,
    # at the energies' cost.)
    # Both shipped models relax the 63-atom vacancy 0.5-0.8 eV below their energy at the PBE
    # geometry: the e3nn model pulls the four neighbours 0.45 A in (PBE 0.16), where GPAW puts
    # the cell 0.31 eV above the PBE minimum and the model 1.03 eV below GPAW. Those cells,
    # labelled (data/si_pbe_active.extxyz: each model's relaxed vacancy and the e3nn one's
    # halfway point), train beside the split data (`train_only`: same test split)
    "dft270k_e3nn_l4_cross_ema_vacancy": ("dft270k", "dft270k_e3nn_l4_cross_ema", {
        "train_only": ["data/si_pbe_active.extxyz"]}),
    "dft270k_v7_vacancy": ("dft270k", "dft270k_v7", {
        "train_only": ["data/si_pbe_active.extxyz"]}),
    # (e3nn: relaxed vacancy 2.65 -> 2.90 eV, still 0.56 low; the model still puts its own
    # relaxed cell, now a training cell, 0.68 eV below PBE, and relaxes to nearly the same
    # geometry (neighbours 1.94 A from the site, PBE 2.21): it underfits the three cells
    # among 216. Weighted 5x, as a group)
    "dft270k_e3nn_l4_cross_ema_vacancy_w5": ("dft270k", "dft270k_e3nn_l4_cross_ema_vacancy", {
        "loss": {"groups": {"vacancy_nnp_relaxed": 5.0}}}),
    # (kept epoch 0: the combined validation metric never beat the start. Its last epoch:
    # validation E/N 10.0, relaxed vacancy 3.02 eV - 0.1 eV more than unweighted, still the
    # collapse; the e3nn model's vacancy is not a matter of three cells' weight.)
    # session 17: the stage-2 model is not kept between sessions, so rows now continue the
    # shipped third stage itself (a fourth stage: 100 epochs at lr 3e-4), each against this
    # control. The strained training cells' deviatoric stress is 40 % soft in both strained
    # families (C11 - C12 from the labels' stresses 93 / 59 GPa, the model's 58 / 33), while
    # the stress loss is spent on the largest virial errors (hcp rattled 170, surfaces
    # 106-116 meV/atom): the strained families weighted 5x
    "dft270k_e3nn_l4_stage4": ("dft270k", "dft270k_e3nn_l4_cross_ema", {
        "init_from": "{out}/dft270k_e3nn_l4_cross_ema/model.pt", "epochs": 100,
        "patience": 100, "lr": 3e-4}),
    "dft270k_e3nn_l4_stage4_strained": ("dft270k", "dft270k_e3nn_l4_stage4", {
        "loss": {"groups": {"crystal_diamond_strained*": 5.0}}}),
    # (C11 / C12 128 / 68 -> 131 / 66 GPa, periodic test cells 4.7 / 3.3 -> 4.9 / 3.3. The
    # shipped model fine-tuned on the 16 strained 2-atom cells alone, stress weight 1, 60
    # epochs, reaches 92 % of their C11 - C12 (from 62 %): the form can. The stress term of
    # those cells alone weighted, 30x: 3.0 against the energy's 10)
    "dft270k_e3nn_l4_stage4_stress_strained": ("dft270k", "dft270k_e3nn_l4_stage4", {
        "loss": {"stress_groups": {"crystal_diamond_strained*": 30.0}}}),
    # (kept epoch 0; its last epoch's C11 - C12 on the 2-atom / rattled 8-atom strained cells
    # 58 / 33 -> 64 / 38 GPa, where the labels' stresses give 93 / 59: the rattled 8-atom
    # cells, labelled on the density-3 shifted mesh, disagree with the 2-atom ones on density
    # 5. The 2-atom cells' stress alone, 30x)
    "dft270k_e3nn_l4_stage4_stress_strained2": ("dft270k", "dft270k_e3nn_l4_stage4", {
        "loss": {"stress_groups": {"crystal_diamond_strained": 30.0}}}),
    # (kept epoch 0; last epoch 58 -> 63 / 36 GPa: the rattled cells were not what held it.
    # The 2-atom cells' stress term is already of the energy term's size at 30x and moves
    # C11 - C12 slowly; at 300x it dominates the loss ten to one)
    "dft270k_e3nn_l4_stage4_stress_strained2_x300": ("dft270k", "dft270k_e3nn_l4_stage4", {
        "loss": {"stress_groups": {"crystal_diamond_strained": 300.0}}}),
    # Adam's step does not grow with a term's weight once the term dominates; the rate does.
    # The fourth stage at stage 3's rate (1e-3), without and with the 2-atom stress term 30x
    "dft270k_e3nn_l4_stage4_lr": ("dft270k", "dft270k_e3nn_l4_stage4", {"lr": 1e-3}),
    "dft270k_e3nn_l4_stage4_lr_stress_strained2": ("dft270k", "dft270k_e3nn_l4_stage4_lr", {
        "loss": {"stress_groups": {"crystal_diamond_strained": 30.0}}}),
    # (C11 / C12 129 / 68 -> 134 / 65 GPa with validation E/N 9.2 -> 9.0 and the periodic test
    # cells 4.6 / 3.3 -> 4.8 / 3.4 meV/atom: C11 - C12 grows ~7 GPa per 100 epochs. 300 epochs)
    "dft270k_e3nn_l4_stage4_lr_stress_strained2_300": (
        "dft270k", "dft270k_e3nn_l4_stage4_lr_stress_strained2", {"epochs": 300,
                                                                  "patience": 300}),
    # (C11 / C12 / C44 138 / 63 / 71 GPa, validation 9.3 -> 8.3, periodic test cells 4.6 /
    # 3.3 as before.) And the three labelled vacancy collapses beside the split data, as
    # `_vacancy` (session 16) added them to the third stage
    "dft270k_e3nn_l4_stage4_lr_stress_strained2_300_vacancy": (
        "dft270k", "dft270k_e3nn_l4_stage4_lr_stress_strained2_300", {
            "train_only": ["data/si_pbe_active.extxyz"]}),
    # (C11 / C12 / C44 140 / 61 / 72 GPa, all three inside 10 %; relaxed vacancy 2.69 -> 2.95
    # eV; periodic test cells 5.3 / 3.9 meV/atom. Shipped as si-pbe-e3nn, the fourth stage.)
    # Its vacancy at the PBE geometry is 0.20 eV low from two training offsets of opposite
    # sign: the perfect 64-atom cell +1.5, the two PBE-relaxed 63-atom cells -2.0 meV/atom (63 x
    # 3.5 meV). A fifth stage, 100 epochs, with those three training cells weighted 10x
    "dft270k_e3nn_l4_stage5_vacancy_cells": (
        "dft270k", "dft270k_e3nn_l4_stage4_lr_stress_strained2_300_vacancy", {
            "init_from": "{out}/dft270k_e3nn_l4_stage4_lr_stress_strained2_300_vacancy/model.pt",
            "epochs": 100, "patience": 100,
            "loss": {"groups": {"crystal_diamond_64": 10.0, "vacancy_relaxed_pbe": 10.0}}}),
    # (kept epoch 0; its last epoch moved the offsets +2.4 / -0.8 -> +2.2 / -1.0 meV/atom and
    # left the vacancy at the PBE geometry at 3.26 eV.)
    # session 18: steps were the lever of session 17 (C11 - C12 +7 GPa per 100 epochs while
    # validation E/N fell). The shipped fourth stage continued, nothing else changed: a fifth
    # stage of 300 more epochs on the same recipe (a warm restart of the cosine at 1e-3)
    "dft270k_e3nn_l4_stage5": (
        "dft270k", "dft270k_e3nn_l4_stage4_lr_stress_strained2_300_vacancy", {
            "init_from": "{out}/dft270k_e3nn_l4_stage4_lr_stress_strained2_300_vacancy/model.pt"}),
    # (shipped as si-pbe-e3nn, the fifth stage.) session 19: the audit's held-out error, 12.0
    # meV/atom, is the two BC8 probes (34; the other 20 probes 6.5), which the audit puts beyond
    # the data. A sixth stage of 150 epochs, without (control) and with 9 rattled BC8 cells
    # beside the split (data/si_pbe_bc8.extxyz, scripts/make_si_bc8.py; the probes stay out)
    "dft270k_e3nn_l4_stage6": ("dft270k", "dft270k_e3nn_l4_stage5", {
        "init_from": "{out}/dft270k_e3nn_l4_stage5/model.pt", "epochs": 150, "patience": 150}),
    "dft270k_e3nn_l4_stage6_bc8": ("dft270k", "dft270k_e3nn_l4_stage6", {
        "train_only": ["data/si_pbe_active.extxyz", "data/si_pbe_bc8.extxyz"]}),
    # (both kept their start, epoch 0 / 1: at the warm restart the validation E/N rose 8.07 ->
    # 8.7 meV/atom and ended at 8.65 / 8.67, while their last epochs improved the periodic test
    # cells 5.04 / 3.80 -> 4.66 / 3.49 and 4.69 / 3.42 (`--last`). The BC8 row again, keeping
    # its last epoch, the end of the annealed cosine
    "dft270k_e3nn_l4_stage6_bc8_last": ("dft270k", "dft270k_e3nn_l4_stage6_bc8", {
        "early_stopping": "last"}),
    # (the last epoch of its parent to 1e-4: held-out invariant points 12.0 -> 7.2 meV/atom,
    # "physical"; BC8 probes 34 -> 1.6; periodic test cells 4.70 / 3.42; but Γ 14.99 -> 14.94
    # THz, the edge of issue 10's 0.2, and in the demo's audit the 2.9 A test dimer (+50
    # meV/atom in every stage) keeps the held-out points at 10.2.) Twice the epochs, as the
    # fifth stage had
    "dft270k_e3nn_l4_stage6_bc8_last_300": ("dft270k", "dft270k_e3nn_l4_stage6_bc8_last", {
        "epochs": 300, "patience": 300}),
    # (periodic test cells 4.51 / 3.39, C11 / C12 / C44 145 / 59 / 71 GPa, held-out invariant
    # points 7.5, "physical"; Γ still 14.94 THz, lonsdaleite probes 13 -> 20 meV/atom at the
    # smallest volume. Shipped as si-pbe-e3nn, the sixth stage.)
    # session 20: the test split's 2.9 A dimer, +50 meV/atom in every stage, sits in a 0.8 A
    # gap of the training dimers (2.7 -> 3.5, a validation cell). A seventh stage of 150
    # epochs, without (control) and with dimers at 3.1 and 3.3 A beside the split
    # (data/si_pbe_dimers.extxyz, scripts/make_si_dimers.py)
    "dft270k_e3nn_l4_stage7": ("dft270k", "dft270k_e3nn_l4_stage6_bc8_last_300", {
        "init_from": "{out}/dft270k_e3nn_l4_stage6_bc8_last_300/model.pt", "epochs": 150,
        "patience": 150}),
    "dft270k_e3nn_l4_stage7_dimers": ("dft270k", "dft270k_e3nn_l4_stage7", {
        "train_only": BESIDE_SPLIT}),
    # (the 2.9 A test dimer +50 -> -12 meV/atom, but the 3.5 A validation dimer -21 -> -69:
    # the clusters were labelled without spin polarisation, so their curve heads for 0
    # eV/atom while the model's ends at the spin-polarised atom's -0.842 at its cutoff.)
    # suite dft270s (session 20): the same 270 structures and split, every dimer and trimer
    # relabelled spin-polarised (scripts/relabel_clusters_spin.py; the gap dimers too). The
    # dimers row on those labels
    "dft270s_e3nn_l4_stage7": ("dft270s", "dft270k_e3nn_l4_stage7_dimers", {}),
    # The clusters are 16 of ~290 structures, and sqrt_atoms counts a dimer ~6x less than a
    # 64-atom cell: the clusters 10x, for a shift of 0.2-0.3 eV/atom
    "dft270s_e3nn_l4_stage7_clusters": ("dft270s", "dft270s_e3nn_l4_stage7", {
        "loss": {"groups": {"dimer": 10.0, "trimer": 10.0}}}),
    # (test dimer 40 -> 22 meV/atom, but the periodic test cells 5.6 / 4.0 -> 6.5 / 4.5, Γ
    # 14.91 -> 14.86 THz: the lowered dimers reach the surfaces and sc / sh. Twice the epochs)
    "dft270s_e3nn_l4_stage7_clusters_300": ("dft270s", "dft270s_e3nn_l4_stage7_clusters", {
        "epochs": 300, "patience": 300}),
    # (test dimer 4.9, test cells with clusters 6.2 / 4.3, held-out invariant points 9.5
    # "physical"; but periodic 6.3 / 4.4 and Γ 14.81 THz, outside issue 10's targets, where
    # the shipped sixth stage, trained on the earlier cluster labels, meets them.) With the
    # clusters fitted, an eighth stage of 150 epochs at their weight back to 1x: does the bulk
    # come back while the clusters, now near their labels, stay?
    "dft270s_e3nn_l4_stage8": ("dft270s", "dft270s_e3nn_l4_stage7_clusters_300", {
        "init_from": "{out}/dft270s_e3nn_l4_stage7_clusters_300/model.pt", "epochs": 150,
        "patience": 150, "loss": {"groups": {"dimer": 1.0, "trimer": 1.0}}}),
    # (periodic 6.3 / 4.4 -> 5.4 / 3.9, test dimer +7, Γ 14.81 -> 14.88.) The bulk came back
    # half-way in 150 epochs: 150 more
    "dft270s_e3nn_l4_stage9": ("dft270s", "dft270s_e3nn_l4_stage8", {
        "init_from": "{out}/dft270s_e3nn_l4_stage8/model.pt"}),
    # (periodic 5.2 / 3.7, forces 0.061, Γ 14.89, vacancy 3.09: shipped as si-pbe-e3nn, the
    # ninth stage; Γ stays 0.24 THz low in the demo)
    # session 21: Γ is a force constant, and the forces are the one term still above issue
    # 12's target (train MAE 0.053, test 0.061 eV/A) while the energy term is ~3x the force
    # term at these errors. A tenth stage of 150 epochs: control, and the forces 3x
    "dft270s_e3nn_l4_stage10": ("dft270s", "dft270s_e3nn_l4_stage9", {
        "init_from": "{out}/dft270s_e3nn_l4_stage9/model.pt"}),
    "dft270s_e3nn_l4_stage10_forces": ("dft270s", "dft270s_e3nn_l4_stage10", {
        "loss": {"forces": 0.3}}),
    # The lowered dimers moved surfaces, sc / sh and Γ (session 20): a one-layer model's bond
    # energy sees its own atom's distances and angles only, so a dimer partner and a crystal
    # neighbour share its radial functions. A scalar layer (the neighbours' features read
    # along the bond; starts at zero, so epoch 0 is stage 9) against the control
    "dft270s_e3nn_l4_stage10_scalar": ("dft270s", "dft270s_e3nn_l4_stage10", {
        "model": {"scalar_layer": True}}),
    # The model's forces on the six frozen Γ optical phonons are 2.7-3.5 % low in every one
    # (k 3 % soft: Γ -1.4 %), errors of 0.01-0.03 eV/A that a force MAE of 0.06 does not
    # see: those 2-atom cells 10x
    "dft270s_e3nn_l4_stage10_optical": ("dft270s", "dft270s_e3nn_l4_stage10", {
        "loss": {"groups": {"crystal_diamond_optical": 10.0}}}),
    # (Γ -0.23 -> -0.22 THz: their forces 2.6 -> 2.4 % low. The model's force-label slope is
    # 1.00 on the rattled diamond cells, rms forces 2-3 eV/A, and 0.97 only on these
    # small-displacement cells: the curvature at the minimum is what the rattled cells do not
    # pin.) 100x
    "dft270s_e3nn_l4_stage10_optical100": ("dft270s", "dft270s_e3nn_l4_stage10", {
        "loss": {"groups": {"crystal_diamond_optical": 100.0}}}),
    # (Γ 14.94 THz, -0.196: inside 0.2, with the test cells, forces, C and the vacancy as the
    # control or better.) An eleventh stage: the same recipe, 150 more epochs
    "dft270s_e3nn_l4_stage11": ("dft270s", "dft270s_e3nn_l4_stage10_optical100", {
        "init_from": "{out}/dft270s_e3nn_l4_stage10_optical100/model.pt"}),
    # The vacancy at the PBE geometry is -0.19 eV from two training offsets, the perfect 64-atom
    # cell +2.0 and the two PBE-relaxed 63-atom cells -1.2 meV/atom; the optical cells at 100x
    # moved without cost, so the three vacancy-defining cells 100x beside the eleventh stage
    "dft270s_e3nn_l4_stage11_vacancy": ("dft270s", "dft270s_e3nn_l4_stage11", {
        "loss": {"groups": {"crystal_diamond_64": 100.0, "vacancy_relaxed_pbe": 100.0}}}),
    # (vacancy 3.15 -> 3.17 eV, at the PBE geometry 3.27 -> 3.28: the 64-atom cell's offset
    # stays +1.4 meV/atom at 100x, so its weight is not what holds it.) A twelfth stage, 150
    # more epochs of the eleventh's recipe
    "dft270s_e3nn_l4_stage12": ("dft270s", "dft270s_e3nn_l4_stage11", {
        "init_from": "{out}/dft270s_e3nn_l4_stage11/model.pt"}),
    # (periodic 5.05 / 3.59 -> 4.97 / 3.53, Γ 14.968, vacancy 3.17: shipped as si-pbe-e3nn,
    # the twelfth stage.) The grown scalar layer stayed unused at 1e-3 (its maps a fortieth of
    # the first layer's): at three times the rate, against a control at that rate
    "dft270s_e3nn_l4_stage13_lr3e-3": ("dft270s", "dft270s_e3nn_l4_stage12", {
        "init_from": "{out}/dft270s_e3nn_l4_stage12/model.pt", "lr": 3e-3}),
    "dft270s_e3nn_l4_stage13_lr3e-3_scalar": ("dft270s", "dft270s_e3nn_l4_stage13_lr3e-3", {
        "model": {"scalar_layer": True}}),
    # (control: periodic 4.93 / 3.56, vacancy 3.20; with the layer 4.92 / 3.51, 3.20, 1.4x the
    # wall time, its maps again a fortieth of the first layer's: unused at either rate)
    # session 22: the training cells still carry family offsets (fcc -5.8, hcp rattled +4.5,
    # hot crystal +3.4 meV/atom) and the training E/N MAE is 2.3: every atom's energy passes
    # 16 gated scalars and a 16-wide readout. A fourteenth stage at 3e-3 as the control for
    # a widened model grown from the thirteenth
    "dft270s_e3nn_l4_stage14_lr3e-3": ("dft270s", "dft270s_e3nn_l4_stage13_lr3e-3", {
        "init_from": "{out}/dft270s_e3nn_l4_stage13_lr3e-3/model.pt"}),
    # the thirteenth stage widened to 64 gated scalars and a 64-wide readout (models.widen:
    # epoch 0 is the thirteenth stage, the new units read through zeroed weights)
    "dft270s_e3nn_l4_stage14_wide": ("dft270s", "dft270s_e3nn_l4_stage14_lr3e-3", {
        "model": {"scalars": 64, "readout_hidden": [64]}}),
    # (the wide model's figures within 0.03 of the control's at every epoch: the readout's
    # width is not what holds the fit, as the scalar layer's reach was not.) A fifteenth stage:
    # control; the 4H and 6H polytypes beside the split (the lonsdaleite probes are the largest
    # held-out errors, +11 to +24 meV/atom); every structure's (dE/N)^2 alike instead of N-fold
    # (the 36 one-atom metal cells weigh a tenth of a mean cell, and the test MAE counts cells)
    "dft270s_e3nn_l4_stage15": ("dft270s", "dft270s_e3nn_l4_stage14_lr3e-3", {
        "init_from": "{out}/dft270s_e3nn_l4_stage14_lr3e-3/model.pt"}),
    "dft270s_e3nn_l4_stage15_polytypes": ("dft270s", "dft270s_e3nn_l4_stage15", {
        "train_only": [*BESIDE_SPLIT, "data/si_pbe_polytypes.extxyz"]}),
    "dft270s_e3nn_l4_stage15_per_atom": ("dft270s", "dft270s_e3nn_l4_stage15", {
        "loss": {"energy_size": "per_atom"}}),
    # (polytypes: held-out 8.5 -> 6.8 meV/atom, lonsdaleite +18.5 -> +10.8 at the diamond
    # volume, test 3.28 -> 3.04 MAE; but the six polytype cells themselves stay +5 to +11 off,
    # a tenth of a mean cell's weight each) those six 10x
    "dft270s_e3nn_l4_stage15_polytypes10": ("dft270s", "dft270s_e3nn_l4_stage15_polytypes", {
        "loss": {"groups": {"crystal_polytype_*": 10.0}}}),
    # (10x: held-out 6.8 -> 6.0, forces 0.060 -> 0.061, C11 148 -> 146 GPa.) A sixteenth stage:
    # the polytypes at 1x for 150 more epochs
    "dft270s_e3nn_l4_stage16_polytypes": ("dft270s", "dft270s_e3nn_l4_stage15_polytypes", {
        "init_from": "{out}/dft270s_e3nn_l4_stage15_polytypes/model.pt"}),
    # (test 2.96 MAE, held-out 6.3: shipped as si-pbe-e3nn, the sixteenth stage.) 150 more
    "dft270s_e3nn_l4_stage17_polytypes": ("dft270s", "dft270s_e3nn_l4_stage16_polytypes", {
        "init_from": "{out}/dft270s_e3nn_l4_stage16_polytypes/model.pt"}),
    # (test 2.93, held-out 6.1: shipped as si-pbe-e3nn, the seventeenth stage.) Session 23:
    # the worst held-out probes are now fcc (10.5) and sh (9.6), at 0.80 and 1.24 of their
    # phases' volumes, beyond every training cell of theirs (0.85-1.18). An eighteenth stage
    # as the control for rattled cells there
    "dft270s_e3nn_l4_stage18_polytypes": ("dft270s", "dft270s_e3nn_l4_stage17_polytypes", {
        "init_from": "{out}/dft270s_e3nn_l4_stage17_polytypes/model.pt"}),
    # rattled fcc, sh, β-Sn and sc cells at 0.76 and 1.28 of their volumes beside the split
    # (scripts/make_si_metal_volumes.py; the probes stay held out)
    "dft270s_e3nn_l4_stage18_metals": ("dft270s", "dft270s_e3nn_l4_stage18_polytypes", {
        "train_only": [*BESIDE_SPLIT, "data/si_pbe_polytypes.extxyz",
                       "data/si_pbe_metal_volumes.extxyz"]}),
    # (worse everywhere: test 2.91 -> 3.46 MAE, held-out 5.89 -> 6.34; the six cells were
    # +37 to +97 meV/atom off before and fit after, but the probes beside them swung past
    # PBE: fcc at 1.24 +14.6 -> -14.4, sc at 0.80 -7.0 -> +13.6.) Half the mini-batch: twice
    # the steps per epoch (every e3nn stage so far used 8)
    "dft270s_e3nn_l4_stage18_batch4": ("dft270s", "dft270s_e3nn_l4_stage18_polytypes", {
        "batch_size": 4}),
    # (batch 4: test 2.91 -> 2.80 MAE, periodic 3.06 -> 2.94, validation 6.68 -> 6.31, held-out
    # 5.89 -> 5.87, forces 0.0601 both; C11 147.6 -> 144.9, vacancy 3.26 -> 3.21 eV; 1.4x the
    # wall time.) Half again, and the batch-4 stage continued for 150 more epochs
    "dft270s_e3nn_l4_stage18_batch2": ("dft270s", "dft270s_e3nn_l4_stage18_polytypes", {
        "batch_size": 2}),
    "dft270s_e3nn_l4_stage19_batch4": ("dft270s", "dft270s_e3nn_l4_stage18_batch4", {
        "init_from": "{out}/dft270s_e3nn_l4_stage18_batch4/model.pt"}),
    # (batch 2: test 2.73, periodic 2.80 MAE, but forces 0.0612, C11 / C12 140.8 / 62.3 GPa,
    # Γ 15.00, vacancy 3.11 eV, held-out 6.2: smaller batches buy the cells' energies with the
    # curvatures; 2.2x the wall time.) The control of the batch-4 stages at equal epochs: a
    # nineteenth stage at batch 8
    "dft270s_e3nn_l4_stage19_polytypes": ("dft270s", "dft270s_e3nn_l4_stage18_polytypes", {
        "init_from": "{out}/dft270s_e3nn_l4_stage18_polytypes/model.pt"}),
    # (stage 19 shipped.) The perfect cells of the metal-volume cells instead (invariant points
    # at 0.76 and 1.28, as the data's nine volumes per phase are): with the E(V) of those
    # phases trained past the probes, are the probes' misses the extrapolation or the mapping?
    "dft270s_e3nn_l4_stage18_metal_perfect": ("dft270s", "dft270s_e3nn_l4_stage18_polytypes", {
        "train_only": [*BESIDE_SPLIT, "data/si_pbe_polytypes.extxyz",
                       "data/si_pbe_metal_perfect.extxyz"]}),
    # (held-out 5.89 -> 3.75: β-Sn, sc and sh at 0.80 and fcc at 1.24 within 3, but sh at 1.24,
    # now bracketed, still +8.2, sc at 1.24 -0.0 -> -6.8, the rattled cells at those volumes
    # still 20-78 off, and the test cells 2.91 -> 3.23 MAE: not taken.)
    # every vacancy cell 10x (15-, 31- and 63-atom; the PBE-relaxed and the labelled
    # collapses sit -2.1 and -5.1 meV/atom low, the perfect 64-atom cell +0.8: -0.18 eV)
    "dft270s_e3nn_l4_stage18_vacancy10": ("dft270s", "dft270s_e3nn_l4_stage18_polytypes", {
        "loss": {"groups": {"vacancy_*": 10.0}}}),
    # (vacancy 3.26 -> 3.26 eV: the vacancy cells and the perfect crystal rose together by
    # 0.67 meV/atom; test 2.91 -> 3.09 MAE)
    # session 24: neither width (session 22) nor reach (the scalar layer, session 21) moved
    # the fit, and the vacancy's three-coordinated atoms hold their energy whatever the
    # weights: what one layer's squared norms and channel pairs cannot give is a four-body
    # term at the atom. The channel-diagonal bispectrum (`bispectrum`, starting at zero) grown
    # on the nineteenth stage, against a twentieth stage of the shipped recipe
    "dft270s_e3nn_l4_stage20_polytypes": ("dft270s", "dft270s_e3nn_l4_stage19_polytypes", {
        "init_from": "{out}/dft270s_e3nn_l4_stage19_polytypes/model.pt"}),
    "dft270s_e3nn_l4_stage20_bispectrum": ("dft270s", "dft270s_e3nn_l4_stage20_polytypes", {
        "model": {"bispectrum": True}}),
    # (control: test 2.90 MAE, held-out 5.66; with the triples 2.91, 5.47, forces 0.0598 both,
    # vacancy 3.27 both, 1.27x the epoch time; their map ends at a fifth of the channel pairs'
    # weights: grown on a fitted model, four-body terms change nothing but the probes, a little)
    # The largest errors of both held-out splits are the most strongly rattled strained diamond
    # cells (validation +21 / -11, test -11 meV/atom) and the slabs (-6 to -10): new draws of
    # those generators beside the split (scripts/make_si_tail_cells.py), against a control
    "dft270s_e3nn_l4_stage21_polytypes": ("dft270s", "dft270s_e3nn_l4_stage20_polytypes", {
        "init_from": "{out}/dft270s_e3nn_l4_stage20_polytypes/model.pt"}),
    "dft270s_e3nn_l4_stage21_tail": ("dft270s", "dft270s_e3nn_l4_stage21_polytypes", {
        "train_only": [*BESIDE_SPLIT, "data/si_pbe_polytypes.extxyz",
                       "data/si_pbe_tail.extxyz"]}),
    # (test 2.88 -> 2.53 MAE, periodic 3.01 -> 2.54, validation 6.39 -> 5.88, forces 0.0598 ->
    # 0.0591, held-out 5.59 -> 5.34; the vacancy 3.28 -> 3.25 eV.) A second stage on it as the
    # control for new vacancy cells and liquid snapshots beside the split too
    # (scripts/make_si_vacancy_liquid.py: the vacancy, issue 10's one missed target, did not
    # move with the weight of the data's vacancy cells; the liquid is the largest validation
    # error outside the tail families)
    "dft270s_e3nn_l4_stage22_tail": ("dft270s", "dft270s_e3nn_l4_stage21_tail", {
        "init_from": "{out}/dft270s_e3nn_l4_stage21_tail/model.pt"}),
    "dft270s_e3nn_l4_stage22_vacancy_liquid": ("dft270s", "dft270s_e3nn_l4_stage22_tail", {
        "train_only": [*BESIDE_SPLIT, "data/si_pbe_polytypes.extxyz",
                       "data/si_pbe_tail.extxyz", "data/si_pbe_vacancy_liquid.extxyz"]}),
    # (control: test 2.53 MAE, validation 5.84, forces 0.0584, held-out 4.97, vacancy 3.25; with
    # the new cells 2.67, 6.16, 0.0586, 5.09, 3.26 and Γ 14.97: the vacancy cells' training
    # offset stays -1.3 meV/atom with 17 of them, and the vacancy where it was. Not taken.)
    # A third stage of the tail recipe
    "dft270s_e3nn_l4_stage23_tail": ("dft270s", "dft270s_e3nn_l4_stage22_tail", {
        "init_from": "{out}/dft270s_e3nn_l4_stage22_tail/model.pt"}),
    # (shipped as si-pbe-e3nn, the 23rd stage.) The (111) slabs' three-coordinated surface atoms
    # sit +0.6 meV/atom above their labels while every vacancy family sits below: do they hold
    # the vacancy's three-coordinated atoms down? A diagnostic, not a recipe: the slabs out of
    # the loss (weight 0) for 150 more epochs, against the 23rd stage it starts from (150 more
    # epochs of the tail recipe moved the vacancy by 0.001 eV)
    "dft270s_e3nn_l4_stage24_no111": ("dft270s", "dft270s_e3nn_l4_stage23_tail", {
        "init_from": "{out}/dft270s_e3nn_l4_stage23_tail/model.pt",
        "loss": {"groups": {"surface_111_rattled": 0.0}}}),
    # (the slabs drift to +7.9 meV/atom, the vacancy 3.254 -> 3.257 eV: not what holds it. Test
    # 2.52 -> 2.33 MAE, validation 5.77 -> 5.53: the (111) slabs cost the rest of the fit)
    # The fcc cells sit 6-9 meV/atom below their labels, the training ones too, at 14.5-16.4
    # Å^3/atom: there the model's fcc-hcp difference is 7-8 meV/atom smaller than PBE's 16-25.
    # A radial term out to 6.5 Å (the shells beyond 5 Å in which fcc and hcp differ), grown
    # from the 23rd stage, against its fcc cells weighted 10x (can the 5 Å model fit them?)
    "dft270s_e3nn_l4_stage24_outer": ("dft270s", "dft270s_e3nn_l4_stage23_tail", {
        "init_from": "{out}/dft270s_e3nn_l4_stage23_tail/model.pt",
        "model": {"outer_cutoff": 6.5}}),
    "dft270s_e3nn_l4_stage24_fcc": ("dft270s", "dft270s_e3nn_l4_stage23_tail", {
        "init_from": "{out}/dft270s_e3nn_l4_stage23_tail/model.pt",
        "loss": {"groups": {"crystal_fcc": 10.0}}}),
    # (outer: test 2.52 -> 2.50 MAE, the fcc cells unmoved, -8 on training cells; fcc 10x: test
    # 2.07 MAE, validation 5.51, the fcc cells within +-4 to 17 Å^3/atom, but the fcc probe at
    # 17.98 +11.8 -> +16.1 and the audit's held-out 4.8 -> 5.7: the model's fcc curve rises too
    # fast where the fcc third shell (24 atoms) leaves the 5 Å cutoff.) Both: the outer term's
    # densities see that shell beyond 5 Å
    "dft270s_e3nn_l4_stage24_outer_fcc": ("dft270s", "dft270s_e3nn_l4_stage24_fcc", {
        "model": {"outer_cutoff": 6.5}}),
    # (test 2.07 MAE, held-out 5.63: the outer term changes nothing, nor alone (2.50 against the
    # control's 2.50).) The fcc cells of the data reach only 15.7 Å^3/atom in training (17.1 is
    # a validation cell): the perfect metal cells beyond the probes (session 23) beside the fcc
    # weight, so that the fcc probe at 17.98 lies between trained volumes
    "dft270s_e3nn_l4_stage24_fcc_metal_perfect": ("dft270s", "dft270s_e3nn_l4_stage24_fcc", {
        "train_only": [*BESIDE_SPLIT, "data/si_pbe_polytypes.extxyz",
                       "data/si_pbe_tail.extxyz", "data/si_pbe_metal_perfect.extxyz"]}),
    # (test 2.18 MAE, validation 5.52, held-out 3.86: better than the 23rd stage on every
    # figure.) Its recipe for 150 more epochs, and beside it the hot crystals weighted 5x: their
    # training cells sit +2.8 meV/atom above their labels (their test cells +3.4), the model's
    # harmonic energy -1/2 sum u.F above PBE's by the same amount (its forces stiffer), while
    # the 8-atom rattled cells at that volume scatter around zero
    "dft270s_e3nn_l4_stage25_fcc_metal_perfect": ("dft270s",
                                                  "dft270s_e3nn_l4_stage24_fcc_metal_perfect", {
        "init_from": "{out}/dft270s_e3nn_l4_stage24_fcc_metal_perfect/model.pt"}),
    "dft270s_e3nn_l4_stage25_hot": ("dft270s", "dft270s_e3nn_l4_stage25_fcc_metal_perfect", {
        "loss": {"groups": {"hot_crystal": 5.0}}}),
    # (hot 5x: test 2.87 / 2.05, validation 5.52, forces 0.0570, held-out 3.59; its control
    # 3.00 / 2.13, 5.54, 0.0574, 3.44: the hot crystals' training offset +2.8 -> +2.1.) Its
    # recipe for 150 more epochs, and beside it the forces weighted 2x (0.2): issue 12 asks
    # for 0.05 eV/Å beside 2 meV/atom
    "dft270s_e3nn_l4_stage26_hot": ("dft270s", "dft270s_e3nn_l4_stage25_hot", {
        "init_from": "{out}/dft270s_e3nn_l4_stage25_hot/model.pt"}),
    "dft270s_e3nn_l4_stage26_forces2": ("dft270s", "dft270s_e3nn_l4_stage26_hot", {
        "loss": {"forces": 0.2}}),
    # (shipped as si-pbe-e3nn, the 26th stage: test 2.83 / 1.97, validation 5.50, forces
    # 0.0568, held-out 3.28. Forces 2x: 0.0554, but test 2.08, validation 5.60, C44 69.1,
    # the vacancy 3.21 eV: not taken)
    # session 26: the PBE-relaxed 63-atom vacancy cells on a 4 x 4 x 4 mesh sit 2.86 meV/atom
    # above their shipped 2 x 2 x 2 labels (the perfect 64-atom cell -0.002: the defect's gap
    # levels disperse), so PBE's vacancy is 3.64 eV, not 3.46 (scripts/vacancy_kmesh_check.py).
    # The 27th stage of the shipped recipe, the control, against the same on the relabelled
    # vacancy cells (suite dft270v)
    "dft270s_e3nn_l4_stage27_hot": ("dft270s", "dft270s_e3nn_l4_stage26_hot", {
        "init_from": "{out}/dft270s_e3nn_l4_stage26_hot/model.pt"}),
    "dft270v_e3nn_l4_stage27_vacancy_kmesh": ("dft270v", "dft270s_e3nn_l4_stage27_hot", {}),
    # the cells that define the vacancy (both PBE-relaxed 63-atom cells and the perfect 64-atom
    # cell) 100x: session 21 found 100x moved the vacancy by 0.02 eV on the old labels
    "dft270v_e3nn_l4_stage27_vacancy100": ("dft270v", "dft270v_e3nn_l4_stage27_vacancy_kmesh", {
        "loss": {"groups": {"vacancy_relaxed_pbe": 100.0, "crystal_diamond_64": 100.0}}}),
    # (vacancy 3.26 -> 3.29 eV on the relabelled cells, 3.31 at 100x, against PBE's 3.64: the
    # relabelled cells' training offset -2.3 -> -4.4 meV/atom, -4.0 at 100x. What holds them:
    # the three rattled 31-atom vacancy cells, two sides of 10.9 Å on two k-points too, sit
    # 3.9 meV/atom below their 4 x 4 x 4 energy.) Those relabelled too (suite dft270w)
    "dft270w_e3nn_l4_stage27_vacancy31": ("dft270w", "dft270v_e3nn_l4_stage27_vacancy_kmesh", {}),
    # (shipped as si-pbe-e3nn, the 27th stage: vacancy 3.30 eV against 3.64.) Session 27: each
    # mini-batch divides its weighted squared errors by its own weights, so a weight saturates
    # once its structure fills the batch: 100x took the 63-atom cells' share of the loss from
    # 2.8 % to 5.8 % (docs/accuracy.md session 27), where the same 100x of the data is 55 %. The
    # 28th stage of the shipped recipe (control), the same normalised by the data's weights
    # (`loss.normalise: data`), and that with the vacancy-defining cells 10x (there 10x is a
    # third of both terms: three cells of 63-64 atoms, their forces weighted alike)
    "dft270w_e3nn_l4_stage28": ("dft270w", "dft270w_e3nn_l4_stage27_vacancy31", {
        "init_from": "{out}/dft270w_e3nn_l4_stage27_vacancy31/model.pt"}),
    "dft270w_e3nn_l4_stage28_data_norm": ("dft270w", "dft270w_e3nn_l4_stage28", {
        "loss": {"normalise": "data"}}),
    "dft270w_e3nn_l4_stage28_data_norm_vacancy10": ("dft270w",
                                                    "dft270w_e3nn_l4_stage28_data_norm", {
        "loss": {"groups": {"vacancy_relaxed_pbe": 10.0, "crystal_diamond_64": 10.0}}}),
    # (vacancy 3.31 -> 3.43 eV, the most any change has moved it, but validation 5.48 -> 8.82,
    # test MAE 1.87 -> 2.80, held-out 2.86 -> 6.23: the rest of the data pays. The data
    # normalisation alone: validation 6.09, test 2.05, Γ and forces a little better.) Released:
    # the 28th stage's recipe for 150 epochs from the vacancy-weighted model — does the rest
    # come back while the vacancy stays, as the clusters stayed in stage 8?
    "dft270w_e3nn_l4_stage29_released": ("dft270w", "dft270w_e3nn_l4_stage28", {
        "init_from": "{out}/dft270w_e3nn_l4_stage28_data_norm_vacancy10/model.pt"}),
    # (vacancy back to 3.32 eV, validation 5.68: the rest of the data pulls it back. The
    # 28th stage is shipped as si-pbe-e3nn: test 2.67 / 1.87, held-out 2.86)
    # session 28: fine-tuned on the vacancy and diamond cells alone, the 63-atom vacancy stays
    # 0.30-0.32 eV low with a bispectrum, a wider readout or a reach layer grown, and with its
    # cells 30x (benchmarks/vacancy_subsets.py). On the whole data: one reach layer (l <= 2,
    # reach 10 Å) grown on the 28th stage, so that a vacancy's neighbours read their neighbours'
    # environments — the image vacancy of a 16-site cell 5.47 Å away
    "dft270w_e3nn_l4_stage29_reach": ("dft270w", "dft270w_e3nn_l4_stage28", {
        "init_from": "{out}/dft270w_e3nn_l4_stage28/model.pt", "model": {"reach_layers": 1}}),
    "dft270w_e3nn_l4_stage29": ("dft270w", "dft270w_e3nn_l4_stage28", {
        "init_from": "{out}/dft270w_e3nn_l4_stage28/model.pt"}),
    # (reach: validation 5.48 -> 5.39, forces 0.0572 -> 0.0549, C44 72.1, Γ 15.03, vacancy 3.37,
    # the strained rattled test cells 2.8 -> 6.7 meV/atom RMSE, the other rattled and vacancy
    # test cells better.) Its recipe for
    # 150 more epochs: the layer started at zero and lifted validation to 7.4 in its first epoch
    "dft270w_e3nn_l4_stage30_reach": ("dft270w", "dft270w_e3nn_l4_stage29_reach", {
        "init_from": "{out}/dft270w_e3nn_l4_stage29_reach/model.pt"}),
    # (shipped as si-pbe-e3nn in session 28, the 30th stage: validation 5.04, test 2.11 / 1.37,
    # forces 0.0475, C 151 / 58 / 73, Γ 15.13, vacancy 3.51 eV, held-out 2.71; its control, the
    # 29th stage without the layer: 5.45, 2.64 / 1.82, 0.0571, vacancy 3.31)
    # session 29: the 29th-to-30th stage moved every figure (the grown layer still settling);
    # does a 31st stage of the same recipe?
    "dft270w_e3nn_l4_stage31_reach": ("dft270w", "dft270w_e3nn_l4_stage30_reach", {
        "init_from": "{out}/dft270w_e3nn_l4_stage30_reach/model.pt"}),
    # (yes: validation 5.04 -> 4.83, test 2.11 / 1.37 -> 1.53 / 1.17, forces 0.0443, C 153 / 57
    # / 74, Γ 15.140, vacancy 3.51 -> 3.56, held-out 2.71 -> 2.52.) And a 32nd
    "dft270w_e3nn_l4_stage32_reach": ("dft270w", "dft270w_e3nn_l4_stage31_reach", {
        "init_from": "{out}/dft270w_e3nn_l4_stage31_reach/model.pt"}),
    # (again: validation 4.61, test 1.37 / 1.08, forces 0.0422, C 154 / 57 / 75, Γ 15.147,
    # vacancy 3.59, held-out 2.08: shipped as si-pbe-e3nn in session 29.) And a 33rd
    "dft270w_e3nn_l4_stage33_reach": ("dft270w", "dft270w_e3nn_l4_stage32_reach", {
        "init_from": "{out}/dft270w_e3nn_l4_stage32_reach/model.pt"}),
    # (validation 4.71, up; test 1.32 / 1.01, forces 0.0400, C44 76.0, vacancy 3.61, held-out
    # 1.95: not shipped, the validation error rose)
    # the control: the 23rd stage's recipe for 150 more epochs
    "dft270s_e3nn_l4_stage24_tail": ("dft270s", "dft270s_e3nn_l4_stage23_tail", {
        "init_from": "{out}/dft270s_e3nn_l4_stage23_tail/model.pt"}),
    # (per_atom alone: test 3.28 -> 2.76 MAE, periodic 3.51 -> 2.96, forces 0.059, but held-out
    # 9.0 and the vacancy at the PBE geometry -0.22 eV.) Both changes together
    "dft270s_e3nn_l4_stage15_polytypes_per_atom": ("dft270s",
                                                   "dft270s_e3nn_l4_stage15_polytypes", {
        "loss": {"energy_size": "per_atom"}}),
    # BP (data/train_si.yaml's recipe, v7) was last trained on the non-spin cluster labels;
    # on suite dft270s with every labelled addition beside the split
    "dft270s_v7_extra": ("dft270s", "dft270k_v7", {
        "train_only": BESIDE_SPLIT}),
    # (periodic 12.8 / 10.0 against the shipped BP's 9.4 / 6.4 in the demo: worse.) The
    # shipped BP itself continued on these labels, 150 epochs at 1e-3: do its clusters (196
    # meV/atom off since the relabel) come down without losing its bulk?
    "dft270s_v7_shipped_tuned": ("dft270s", "dft270s_v7_extra", {
        "init_from": "data/si_model.pt", "epochs": 150, "patience": 150, "lr": 1e-3}),
    # (validation E/N 73.5 -> 19.3, but periodic test cells 13.6 / 10.5 and C44 39 GPa: the
    # shipped BP stays.)
    # session 29: BP on suite dft270w with the data the e3nn recipe trains beside the split
    # (the control), then with the e3nn recipe's loss: energy 10x, the frozen optical phonons
    # 100x, fcc 10x, hot crystals 5x, the strained cells' stress 30x, a weight average, the
    # last epoch kept
    "dft270w_v7_extra": ("dft270w", "dft270k_v7", {
        "train_only": E3NN_BESIDE_SPLIT}),
    "dft270w_v7_e3nn_loss": ("dft270w", "dft270w_v7_extra", {
        "loss": {"energy": 10.0, "groups": {"dimer": 1.0, "trimer": 1.0,
                                            "crystal_diamond_optical": 100.0,
                                            "crystal_fcc": 10.0, "hot_crystal": 5.0},
                 "stress_groups": {"crystal_diamond_strained": 30.0}},
        "ema_decay": 0.99, "early_stopping": "last"}),
    # (periodic test 5.61 / 4.31 meV/atom, but forces 0.106, C44 42, Γ 14.64 -> 14.06 THz with
    # the optical cells 100x - not separated from the energy 10x.) Richer angular sets
    "dft270w_v7_cross4": ("dft270w", "dft270w_v7_e3nn_loss", {
        "model": {"descriptor": CROSS4_6A}}),
    "dft270w_v7_shells_cross": ("dft270w", "dft270w_v7_e3nn_loss", {
        "model": {"descriptor": "shells_cross"}}),
    # (both train badly: training forces 0.28 and 0.22 eV/Å at the end, test forces 0.46 and
    # 0.35, C12 92 and -109 GPa; the rate?) The 289 functions at a third of the rate; and the
    # e3nn model's way through the stages, the control's model continued on the e3nn loss at
    # 1e-3
    "dft270w_v7_cross4_lr1e-3": ("dft270w", "dft270w_v7_cross4", {"lr": 1e-3}),
    "dft270w_v7_extra_stage2": ("dft270w", "dft270w_v7_e3nn_loss", {
        "init_from": "{out}/dft270w_v7_extra/model.pt", "lr": 1e-3, "epochs": 300,
        "patience": 300}),
    # (cross4 at 1e-3: forces 0.133, periodic 9.9 / 6.9, C44 47, Γ 14.29; the second stage:
    # periodic 6.9 / 5.0, forces 0.089, C44 51, Γ 14.76, and its vacancy relaxes into a
    # collapse, -0.21 eV. No BP row meets more targets than the shipped v7 (three: _e3nn_loss
    # and _cross4_lr1e-3 tie with it, both with forces above 0.08): BP stays.)
    # session 30: the e3nn model as a teacher: 530 cells around the training cells labelled by
    # data/si_model_e3nn.pt (scripts/make_si_distil_cells.py) beside the split
    "dft270w_v7_distil": ("dft270w", "dft270w_v7_e3nn_loss", {
        "train_only": [*E3NN_BESIDE_SPLIT, DISTIL]}),
    # (validation 28.1 -> 15.6, test 9.8 / 5.6 -> 5.9 / 4.5, C11 123 -> 148, vacancy 3.12 ->
    # 3.28, held-out 33.6 -> 26.9; but periodic 6.2 / 4.8, forces 0.113, C12 87, C44 50, Γ
    # 14.37; training forces 0.098 over the PBE and teacher cells, 0.100 without them.) The
    # richer union set (default_si + shells, 137 functions) with the teacher's cells
    "dft270w_v7_distil_union": ("dft270w", "dft270w_v7_distil", {
        "model": {"descriptor": UNION_6A}}),
    # (C44 76.4 and the vacancy at the PBE geometry 3.61 — the first BP row at PBE's shear — Γ
    # 14.89; but C11 206, forces 0.168, validation 37.5: the rate spiked it to 380 meV/atom at
    # epoch 200.) At a third of the rate
    "dft270w_v7_distil_union_lr1e-3": ("dft270w", "dft270w_v7_distil_union", {"lr": 1e-3}),
    # (periodic 5.86 / 4.59, forces 0.092, C 162 / 59 / 64, Γ 14.68, vacancy 3.59, held-out
    # 15.7: the closest BP row to issue 10's targets.) A second stage at 3e-4
    "dft270w_v7_distil_union_stage2": ("dft270w", "dft270w_v7_distil_union_lr1e-3", {
        "init_from": "{out}/dft270w_v7_distil_union_lr1e-3/model.pt", "lr": 3e-4,
        "epochs": 300, "patience": 300}),
    # (periodic 5.76 / 4.19, forces 0.087, C 162 / 56 / 67, Γ 14.85, vacancy 3.61, audit fit
    # 10.0, held-out 13.0: a0, B, C11, C12, C44, the vacancy and the periodic RMSE met.)
    # session 31: a third stage, as the e3nn model's stages went on
    "dft270w_v7_distil_union_stage3": ("dft270w", "dft270w_v7_distil_union_stage2", {
        "init_from": "{out}/dft270w_v7_distil_union_stage2/model.pt"}),
    # (periodic 5.05 / 3.62, forces 0.083, C 158 / 53 / 66, Γ 14.87, vacancy 3.62, audit fit 9.6,
    # held-out 6.8: "physical"; the forces, C44 (-11 %) and Γ missed.)
    # the third stage with the forces 3x (0.3): forces 0.087 and Γ are the misses closest to
    # the line, and Γ is a force constant
    "dft270w_v7_distil_union_stage3_f03": ("dft270w", "dft270w_v7_distil_union_stage3", {
        "loss": {"forces": 0.3}}),
    # (periodic 4.91 / 3.41, forces 0.078, C 150 / 52 / 60, Γ 15.01, vacancy 3.52, audit 7.7 / 7.3:
    # every figure but C44, -19 %.)
    # the third stage with the teacher's frozen optical-phonon cells 100x, as PBE's are: the
    # second stage's forces on them are 2.4 % low (slope 0.976 against the teacher's; 0.980 on
    # PBE's six), the rattled cells' ~1.00, and Γ 0.29 THz low
    "dft270w_v7_distil_union_stage3_optical": ("dft270w", "dft270w_v7_distil_union_stage3", {
        "loss": {"groups": {"distil_crystal_diamond_optical": 100.0}}}),
    # (Γ 15.01 and C44 68.0, but forces 0.084 and the audit's fit 10.04: "poor fit".)
    # the forces 3x with the sheared cells' stress 30x (PBE's and the teacher's), as the strained
    # cells' is: with the forces 3x C44 fell from 65.7 to 59.7 GPa (PBE 73.9)
    "dft270w_v7_distil_union_stage3_f03_shear": ("dft270w", "dft270w_v7_distil_union_stage3_f03",
                                                 {"loss": {"stress_groups": {
                                                     "*crystal_diamond_sheared*": 30.0}}}),
    # (forces 0.076, C 159 / 56 / 64.5, Γ 15.01, vacancy 3.54, audit 8.0 / 6.9: C44 -13 %, the
    # one miss.)
    # the forces 3x with the teacher's optical-phonon cells 100x: the latter alone kept C44 (68.0)
    "dft270w_v7_distil_union_stage3_f03_optical": (
        "dft270w", "dft270w_v7_distil_union_stage3_f03",
        {"loss": {"groups": {"distil_crystal_diamond_optical": 100.0}}}),
    # (forces 0.0795, Γ 15.07, held-out 5.3, but C44 61.2.) The sheared cells' stress 30x and the
    # teacher's optical-phonon cells 100x together
    "dft270w_v7_distil_union_stage3_f03_shear_optical": (
        "dft270w", "dft270w_v7_distil_union_stage3_f03_shear",
        {"loss": {"groups": {"distil_crystal_diamond_optical": 100.0}}}),
    # (C44 65.0, periodic 5.91 / 4.15, forces 0.078, Γ 15.09: the periodic MAE lost.) The
    # sheared cells' stress 100x
    "dft270w_v7_distil_union_stage3_f03_shear100": (
        "dft270w", "dft270w_v7_distil_union_stage3_f03_shear",
        {"loss": {"stress_groups": {"*crystal_diamond_sheared*": 100.0}}}),
    # (C44 63.5, every other figure inside: 11 of 12 as _f03_shear, lower energy errors, C44
    # further off. _f03_shear is shipped as si-pbe, data/train_si.yaml, session 31.)
    # The shipped model's relaxed C44 loses 29.5 GPa to the internal relaxation, PBE's 24.8: the
    # sheared cells' energies and forces 10x (with their stress 30x), which carry the coupling
    "dft270w_v7_distil_union_stage3_f03_shear_groups": (
        "dft270w", "dft270w_v7_distil_union_stage3_f03_shear",
        {"loss": {"groups": {"*crystal_diamond_sheared*": 10.0}}}),
    # (C44 58.2, held-out 11.1, forces 0.079: C44 further off, not nearer.)
    # the control without the teacher: the 137 functions at 1e-3 on _e3nn_loss's data
    "dft270w_v7_union_lr1e-3": ("dft270w", "dft270w_v7_e3nn_loss", {
        "model": {"descriptor": UNION_6A}, "lr": 1e-3}),
    # (periodic 7.16 / 5.55, forces 0.108, C 141 / 48 / 50, vacancy 3.12, held-out 20.0, but Γ
    # 15.08: the teacher's cells help every figure but Γ.)
    # the teacher's cells on dft270w_v7_extra's loss (v7's: energy 1x, dimers and trimers 3x)
    "dft270w_v7_extra_distil": ("dft270w", "dft270w_v7_extra", {
        "train_only": [*E3NN_BESIDE_SPLIT, DISTIL]}),
    # (periodic 16.7 / 12.0 -> 20.4 / 13.2, held-out 59 -> 132: worse on v7's loss.)
}


def _merge(base: dict, change: dict) -> dict:
    out = dict(base)
    for key, value in change.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def recipe_config(name: str) -> dict:
    suite, parent, change = RECIPES[name]
    # every suite after "dft" (the 256-structure data and its relabellings) starts from v6
    bases = {"sw": SW_BASE, "dft": DFT_BASE}
    base = bases.get(suite, V6) if parent is None else recipe_config(parent)
    if "kind" in change.get("model", {}):  # another model kind: its own settings block
        base = {**base, "model": {}}
    return _merge(base, change)


def sw_files(out: Path) -> dict[str, Path]:
    """The tutorial's teacher sets plus held-out liquid and hot-crystal snapshots."""
    out.mkdir(parents=True, exist_ok=True)
    files = datasets(out, quick=False)
    md = out / "heldout_md.extxyz"
    if not md.exists():
        cells = (snapshots("liquid", 3, seed=41, size=(2, 2, 2))
                 + snapshots("hot_crystal", 3, seed=42, size=(2, 2, 2)))
        ase.io.write(md, label_with_teacher(cells))
    files["heldout_md"] = md
    return files


def _rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(np.concatenate([np.ravel(v) for v in x])))))


def assess_sw(model_path: Path, files: dict[str, Path]) -> dict:
    calc = NNPCalculator(model_path, dtype="float64")
    heldout = ase.io.read(files["heldout"], ":") + ase.io.read(files["heldout_md"], ":")
    totals, forces, atomic, lammps = {}, [], {}, {}
    for atoms, res in zip(heldout, calc.predict(heldout), strict=True):
        kind = atoms.info["config_type"]
        totals.setdefault(kind, []).append(
            1000 * (res["energy"] - atoms.get_potential_energy()) / len(atoms))
        forces.append(res["forces"] - atoms.get_forces())
        atomic.setdefault(kind, []).append(1000 * (res["energies"]
                                                   - atoms.arrays["energies_vertex"]))
        lammps.setdefault(kind, []).append(1000 * (res["energies"]
                                                   - atoms.arrays["energies_lammps"]))
    probes = [a for a in ase.io.read(files["probes"], ":")
              if str(a.info.get("config_type", "")).startswith("crystal_")]
    probe_err = [1000 * (res["energies"] - atoms.get_potential_energy() / len(atoms))
                 for atoms, res in zip(probes, calc.predict(probes), strict=True)]
    defects = [v for k, v in atomic.items() if k != "liquid" and k != "hot_crystal"]
    defects_lammps = [v for k, v in lammps.items() if k != "liquid" and k != "hot_crystal"]
    return {
        "heldout_totals_rmse_meV": _rms(totals.values()),
        "heldout_totals_rmse_meV_by_type": {k: _rms(v) for k, v in totals.items()},
        "heldout_forces_rmse_eV_per_A": _rms(forces),
        "atomic_vs_vertex_rmse_meV": _rms(defects),
        "atomic_vs_vertex_rmse_meV_by_type": {k: _rms(v) for k, v in atomic.items()},
        "atomic_vs_lammps_rmse_meV": _rms(defects_lammps),
        "atomic_vs_lammps_rmse_meV_by_type": {k: _rms(v) for k, v in lammps.items()},
        "crystal_probe_rmse_meV": _rms(probe_err),
    }


# issue 10's tolerances (nnpcalc.analysis.targets, the demo's scorecard), by baseline key
PROPERTY_TARGETS = {t.reference: t for t in TARGETS if t.reference}


def properties(calc) -> dict:
    """The properties issue 10 compares with data/si_pbe_baselines.json, through ASE."""
    return diamond_properties(calc)


def property_misses(props: dict) -> dict:
    """Model − DFT per property, and whether it is inside the issue's tolerance."""
    dft = json.loads((ROOT / "data" / "si_pbe_baselines.json").read_text())
    out = {}
    for key, target in PROPERTY_TARGETS.items():
        out[key] = {"model": props[key], "dft": dft[key], "diff": props[key] - dft[key],
                    "ok": target.met(props[key], dft[key])}
    return out


def _data_file(summary: dict) -> Path:
    """The data file a run trained on (its splits index into it)."""
    return Path(summary["split_sources"]["test"][0].rsplit(":", 1)[0])


def _split_structures(summary: dict, name: str = "test",
                      known: dict[str, list] | None = None) -> list:
    """The structures of one split ("train", "validation", "test") of a run, from the files
    it trained on (`known`: files already read, {path: structures})."""
    return read_sources(summary["split_sources"][name], known=known)


def assess_replicas(run_dir: Path, summary: dict) -> dict:
    """Test errors of each replica alone (seed spread) beside the ensemble's."""
    members = sorted(run_dir.glob("replica_*/best_model.pt"))
    test = _split_structures(summary)
    out = {}
    for path in members:
        calc = NNPCalculator(path, dtype="float64")
        errors = test_set_errors(calc, test)
        out[path.parent.name] = {key: errors.get(key) for key in (
            "energy_rmse_meV_per_atom", "energy_mae_meV_per_atom",
            "energy_rmse_meV_per_atom_periodic", "energy_mae_meV_per_atom_periodic",
            "forces_mae_eV_per_A")}
        out[path.parent.name]["properties"] = {
            key: value["model"] for key, value in property_misses(properties(calc)).items()}
    return out


def audit_verdict(calc, training: list, data_file: Path) -> dict:
    """`nnpcalc audit MODEL --data DATA` with the shipped probes: the verdict and its two
    numbers (totals over all of DATA, read from data_file; held-out invariant points)."""
    probes, _, _ = default_probes(calc, training, [data_file])
    result = audit(calc, training, probes)
    return {"verdict": result.verdict,
            "fit_energy_rmse_meV_per_atom": max(result.fit_energy_rmse_meV_per_atom.values()),
            "held_out_mapping_rmse_meV": result.held_out_mapping_rmse_meV}


def vacancy_at_dft_geometry(calc, data: list) -> dict:
    """The 63-atom vacancy on the data's PBE-relaxed cells before the model relaxes anything
    (`nnpcalc report`'s row), in the rows' {model, dft, diff} form."""
    at = reference_vacancy(calc, data)
    return {"model": at["model_eV"], "dft": at["reference_eV"], "diff": at["diff_eV"]}


def assess_dft(model_path: Path, summary: dict) -> dict:
    """Errors on the run's test split (read from the data file the run trained on), and the
    out-of-the-box audit."""
    calc = NNPCalculator(model_path, dtype="float64")
    data_file = _data_file(summary)
    data = ase.io.read(data_file, ":")
    known = {str(data_file): data}
    all_errors = test_set_errors(calc, _split_structures(summary, known=known))
    return {
        "test_energy_rmse_meV_per_atom": all_errors["energy_rmse_meV_per_atom"],
        "test_energy_mae_meV_per_atom": all_errors["energy_mae_meV_per_atom"],
        "test_energy_rmse_meV_per_atom_periodic": all_errors["energy_rmse_meV_per_atom_periodic"],
        "test_energy_mae_meV_per_atom_periodic": all_errors["energy_mae_meV_per_atom_periodic"],
        "test_forces_rmse_eV_per_A": all_errors.get("forces_rmse_eV_per_A"),
        "test_forces_mae_eV_per_A": all_errors.get("forces_mae_eV_per_A"),
        "test_stress_rmse_GPa": all_errors.get("stress_rmse_GPa"),
        "test_energy_rmse_meV_per_atom_by_type": all_errors["energy_rmse_meV_per_atom_by_type"],
        "properties": property_misses(properties(calc)),
        # an offset a whole family shares on the *training* cells is an unfinished fit
        "train_energy_bias_meV_per_atom_by_type": test_set_errors(calc, _split_structures(
            summary, "train", known))["energy_mean_error_meV_per_atom_by_type"],
        "audit": audit_verdict(calc, data, data_file),
        "vacancy_at_dft_geometry_eV": vacancy_at_dft_geometry(calc, data),
    }


def assess_last(run_dir: Path, path: Path) -> dict:
    """A dft row's last epoch assessed as its kept model is (for a row whose early stopping kept
    an earlier one), into `path` beside the rows: not a row of the table."""
    model_path = run_dir / "last_model.pt"
    save_model(last_epoch_model(run_dir), model_path,
               read_payload(run_dir / "best_model.pt")["metadata"])
    summary = json.loads((run_dir / "summary.json").read_text())
    epoch = json.loads((run_dir / "log.json").read_text())[-1]["epoch"]
    row = {"recipe": run_dir.name, "epoch": epoch, **assess_dft(model_path, summary)}
    path.write_text(json.dumps(row, indent=1))
    return row


def _labels_source(name: str, init_from: str, out: Path, dft_data: Path) -> Path:
    """The labels a row freezes: a fine-tuning row continues its starting row's labels when both
    are in one suite (a later stage must not see a relabelling its first stage did not); any
    other row takes the labels its suite already froze (a suite is one set of labels), and the
    first row of a suite the shipped file."""
    suite = RECIPES[name][0]
    start_row = Path(init_from).parent.name
    if start_row in RECIPES and RECIPES[start_row][0] == suite:
        frozen = out / start_row / "data.extxyz"
        if not frozen.exists():
            raise FileNotFoundError(f"{name} continues {start_row}, whose labels {frozen} are "
                                    "missing: run that row first")
        return frozen
    frozen = [out / row / "data.extxyz" for row, (row_suite, *_) in RECIPES.items()
              if row_suite == suite and row != name]
    return next((path for path in frozen if path.exists()), dft_data)


def run(name: str, out: Path, rows: Path,
        dft_data: Path = ROOT / "data" / "si_pbe.extxyz") -> dict:
    """Train (unless cached) and assess one recipe; the row is written to rows/<name>.json."""
    row_path = rows / f"{name}.json"
    if row_path.exists():
        return json.loads(row_path.read_text())
    suite = RECIPES[name][0]
    kind = "sw" if suite == "sw" else "dft"
    config = recipe_config(name)
    run_dir = out / name
    if kind == "sw":
        files = sw_files(out / "sw_data")
        config["data"] = [str(files["diverse"])]
    else:
        # train and assess on one frozen copy: the shipped file may be relabelled meanwhile
        run_dir.mkdir(parents=True, exist_ok=True)
        data = run_dir / "data.extxyz"
        if not data.exists():
            shutil.copyfile(_labels_source(name, config.get("init_from", ""), out, dft_data),
                            data)
        config["data"] = [str(data)]
        # and of every train_only file (data/si_pbe_active.extxyz grows by active learning)
        frozen = []
        for k, path in enumerate(config.get("train_only", [])):
            frozen.append(run_dir / f"train_only_{k}.extxyz")
            if not frozen[-1].exists():
                shutil.copyfile(ROOT / path, frozen[-1])
        if frozen:
            config["train_only"] = [str(path) for path in frozen]
    config["out"] = str(run_dir)
    if "init_from" in config:  # a fine-tuning row starts from another row's model
        config["init_from"] = config["init_from"].format(out=out)
        if not Path(config["init_from"]).exists():
            raise FileNotFoundError(f"{name} starts from {config['init_from']}: run that row "
                                    "first")
    fit(config, progress=False, resume=True)  # an interrupted row continues where it stopped
    summary = json.loads((run_dir / "summary.json").read_text())
    logs = [json.loads(path.read_text()) for path in
            sorted(run_dir.glob("log.json")) + sorted(run_dir.glob("replica_*/log.json"))]
    row = {"recipe": name, "suite": suite, "parent": RECIPES[name][1],
           "change": RECIPES[name][2], "seed": config["seed"],
           # summed epoch times: stays right across resumed runs (all replicas)
           "train_wall_time_s": sum(r.get("time_s", 0.0) for log in logs for r in log),
           "epochs_run": len(logs[0]),
           "data_sha256": None if kind == "sw" else sha256(Path(config["data"][0])),
           "best_epoch": summary["best_epochs"][0],
           "n_structures": summary["n_train"] + summary["n_validation"] + summary["n_test"],
           "validation_energy_rmse_meV_per_atom":
               summary["validation"].get("energy_rmse_meV_per_atom"),
           "validation_forces_rmse_eV_per_A": summary["validation"].get("forces_rmse_eV_per_A")}
    row.update(assess_sw(run_dir / "model.pt", sw_files(out / "sw_data")) if kind == "sw"
               else assess_dft(run_dir / "model.pt", summary))
    if kind != "sw" and config.get("replicas", 1) > 1:
        row["replicas"] = assess_replicas(run_dir, summary)
    row_path.write_text(json.dumps(row, indent=1))
    return row


def _change_text(change: dict) -> str:
    """The change as JSON, with an explicit descriptor table abbreviated to its size."""
    descriptor = change.get("model", {}).get("descriptor")
    if isinstance(descriptor, dict):
        size = f"table: {len(descriptor['radial'])} G2 + {len(descriptor['angular'])} G5 rows"
        change = {**change, "model": {**change["model"], "descriptor": size}}
    return f"`{json.dumps(change)}`"


def _cell(value, fmt: str = ".1f") -> str:
    return "–" if value is None else format(value, fmt)


def _audit_text(audit_row: dict | None) -> str:
    if audit_row is None:
        return "–"
    return (f"{audit_row['fit_energy_rmse_meV_per_atom']:.1f} / "
            f"{_cell(audit_row['held_out_mapping_rmse_meV'])} ({audit_row['verdict']})")


def table(rows: list[dict]) -> str:
    sw = [r for r in rows if r["suite"] == "sw"]
    dft = [r for r in rows if r["suite"] != "sw"]
    lines = ["# Training recipes: measured accuracy", "",
             "Written by `python benchmarks/accuracy.py` from the rows in "
             "`benchmarks/results/accuracy/`; each row changes one thing against its parent; "
             "seed 0; wall time on one core of the project machine. Rows of sessions 2-4: "
             "[accuracy_results_2026-11.md](accuracy_results_2026-11.md).", ""]
    if sw:
        lines += ["## Stillinger–Weber teacher (cutoff 3.77 Å, held-out cells)", "",
                  "| recipe | change vs parent | val E | held-out E | held-out F | "
                  "atomic vs vertex | atomic vs LAMMPS ⅓ | crystal probes | epochs | wall (s) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in sw:
            lines.append(
                f"| {r['recipe']} | {_change_text(r['change'])} | "
                f"{_cell(r['validation_energy_rmse_meV_per_atom'])} | "
                f"{_cell(r['heldout_totals_rmse_meV'])} | "
                f"{_cell(r['heldout_forces_rmse_eV_per_A'], '.3f')} | "
                f"{_cell(r['atomic_vs_vertex_rmse_meV'])} | "
                f"{_cell(r.get('atomic_vs_lammps_rmse_meV'))} | "
                f"{_cell(r['crystal_probe_rmse_meV'])} | {r['epochs_run']} | "
                f"{r['train_wall_time_s']:.0f} |")
        lines += ["", "Energies meV/atom (RMSE), forces eV/Å (RMSE). Atomic vs vertex (reach "
                  "3.77 Å) and vs the LAMMPS ⅓ split (reach 7.5 Å): vacancy, surface and "
                  "amorphous cells (targets: totals ≤ 3, forces ≤ 0.05, atomic ≤ 10, probes "
                  "≤ 5). An e3nn model with n layers sees n × 3.77 Å.", ""]
        lines += ["Held-out totals and atomic energies by cell type (meV/atom):", "",
                  "| recipe | " + " | ".join(sorted(sw[-1]["heldout_totals_rmse_meV_by_type"]))
                  + " |", "|---" * (1 + len(sw[-1]["heldout_totals_rmse_meV_by_type"])) + "|"]
        for r in sw:
            kinds = sorted(r["heldout_totals_rmse_meV_by_type"])
            lines.append(f"| {r['recipe']} | " + " | ".join(
                f"{r['heldout_totals_rmse_meV_by_type'][k]:.1f} / "
                f"{r['atomic_vs_vertex_rmse_meV_by_type'][k]:.0f}" for k in kinds) + " |")
        lines += ["", "(totals / atomic energies vs the vertex partition)", ""]
    if dft:
        lines += ["## Shipped GPAW PBE data (fixed test split)", "",
                  "| recipe | structures | change vs parent | val E | test E RMSE / MAE | "
                  "without clusters | test F RMSE / MAE | test stress (GPa) | "
                  "audit: totals / held-out invariant | epochs | wall (s) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in dft:
            lines.append(
                f"| {r['recipe']} | {r['n_structures']} | {_change_text(r['change'])} | "
                f"{_cell(r['validation_energy_rmse_meV_per_atom'])} | "
                f"{_cell(r['test_energy_rmse_meV_per_atom'])} / "
                f"{_cell(r['test_energy_mae_meV_per_atom'])} | "
                f"{_cell(r['test_energy_rmse_meV_per_atom_periodic'])} / "
                f"{_cell(r['test_energy_mae_meV_per_atom_periodic'])} | "
                f"{_cell(r['test_forces_rmse_eV_per_A'], '.3f')} / "
                f"{_cell(r['test_forces_mae_eV_per_A'], '.3f')} | "
                f"{_cell(r['test_stress_rmse_GPa'], '.2f')} | {_audit_text(r.get('audit'))} | "
                f"{r['epochs_run']} | "
                f"{r['train_wall_time_s']:.0f} |")
        lines += ["", "Energies meV/atom, forces eV/Å. Clusters: the non-periodic structures "
                  "(dimers, trimers, the isolated atom).",
                  "", "Properties through ASE, model − PBE (✓ inside the issue's tolerance: "
                  "a0 0.01 Å, B 3 GPa, Cij 10 %, Γ 0.2 THz, 63-atom vacancy 0.15 eV; the last "
                  "column: the vacancy on the data's PBE-relaxed cells, before the model relaxes "
                  "anything):", "",
                  "| recipe | " + " | ".join(PROPERTY_TARGETS) + " | vacancy at PBE geometry |",
                  "|---" * (2 + len(PROPERTY_TARGETS)) + "|"]
        for r in dft:
            fixed = r.get("vacancy_at_dft_geometry_eV")
            fixed_cell = f"{fixed['model']:.3g} ({fixed['diff']:+.2g})" if fixed else "–"
            lines.append(f"| {r['recipe']} | " + " | ".join(
                f"{p['model']:.3g} ({p['diff']:+.2g}) {'✓' if p['ok'] else '✗'}"
                for p in r["properties"].values()) + f" | {fixed_cell} |")
        groups = sorted({g for r in dft for g in r["test_energy_rmse_meV_per_atom_by_type"]})
        lines += ["", "Test energy RMSE by config type (meV/atom):", "",
                  "| config type | " + " | ".join(r["recipe"] for r in dft) + " |",
                  "|---" * (1 + len(dft)) + "|"]
        for g in groups:
            lines.append(f"| {g} | " + " | ".join(
                _cell(r["test_energy_rmse_meV_per_atom_by_type"].get(g)) for r in dft) + " |")
        biased = [r for r in dft if "train_energy_bias_meV_per_atom_by_type" in r]
        if biased:
            # against DFT only: the teacher's cells (distil_*) are labelled by a model
            groups = sorted({g for r in biased for g in r["train_energy_bias_meV_per_atom_by_type"]
                             if not g.startswith("distil_")})
            lines += ["", "Mean signed E/N error on the *training* cells by config type "
                      "(model − DFT, meV/atom; a whole family offset is an unfinished fit):", "",
                      "| config type | " + " | ".join(r["recipe"] for r in biased) + " |",
                      "|---" * (1 + len(biased)) + "|"]
            for g in groups:
                lines.append(f"| {g} | " + " | ".join(_cell(
                    r["train_energy_bias_meV_per_atom_by_type"].get(g), "+.1f") for r in biased)
                    + " |")
    return "\n".join(lines) + "\n"


MAPPING_ROWS = ("sw_cross_lr1e-4", "sw_e3nn_2layers_long", "sw_e3nn_l2_1layer",
                "sw_e3nn_l2_2layers", "sw_e3nn_l2_3layers", "sw_e3nn_l2_1layer_long",
                "sw_e3nn_l2_2layers_long")


def _e3nn_label(config: dict) -> str:
    model = config["model"]
    return (f"e3nn l≤{model['l_max']}, {model['n_layers']}×3.77 Å\n"
            f"{config['epochs']} epochs")


def plot_mapping(rows: list[dict], path: Path) -> None:
    """Atomic energies vs the two SW partitions for the best BP recipe and e3nn by depth."""
    by_name = {r["recipe"]: r for r in rows}
    chosen = [by_name[n] for n in MAPPING_ROWS if n in by_name
              and by_name[n].get("atomic_vs_lammps_rmse_meV") is not None]
    if len(chosen) < 2:
        return
    labels = ["BP\n3.77 Å" if r["recipe"].startswith("sw_cross")
              else _e3nn_label(recipe_config(r["recipe"])) for r in chosen]
    grouped_bars(path, labels, {
        "vs vertex partition (reach 3.77 Å)": [r["atomic_vs_vertex_rmse_meV"] for r in chosen],
        "vs LAMMPS ⅓ split (reach 7.5 Å)": [r["atomic_vs_lammps_rmse_meV"] for r in chosen]},
        "RMSE (meV/atom), held-out cells", "Which atomic-energy partition does each model learn?",
        points=("held-out totals", [r["heldout_totals_rmse_meV"] for r in chosen]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    suites = list(dict.fromkeys(suite for suite, _, _ in RECIPES.values()))
    parser.add_argument("--suite", choices=[*suites, "all"], default="all")
    parser.add_argument("--only", help="comma-separated recipe names")
    parser.add_argument("--out", default="runs/accuracy", help="models and training logs")
    parser.add_argument("--rows", default=str(ROOT / "benchmarks" / "results" / "accuracy"),
                        help="one JSON per finished row (committed)")
    parser.add_argument("--table", action="store_true", help="only rewrite the table")
    parser.add_argument("--reassess", help="comma-separated cached rows to assess again "
                                           "(new columns) without retraining")
    parser.add_argument("--last", help="comma-separated dft rows whose last epoch to assess "
                                       "into <row>.last.json (when they kept an earlier one)")
    parser.add_argument("--dft-data", default=str(ROOT / "data" / "si_pbe.extxyz"),
                        help="labelled PBE data for the dft rows (copied into each run)")
    parser.add_argument("--doc", default=str(ROOT / "docs" / "accuracy_results.md"))
    args = parser.parse_args()
    out, rows_dir = Path(args.out), Path(args.rows)
    out.mkdir(parents=True, exist_ok=True)
    rows_dir.mkdir(parents=True, exist_ok=True)
    names = args.only.split(",") if args.only else [
        n for n, (suite, _, _) in RECIPES.items() if args.suite in ("all", suite)]
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown recipes {unknown}; known: {', '.join(RECIPES)}")
    for name in (args.reassess.split(",") if args.reassess else []):
        row_path = rows_dir / f"{name}.json"
        row = json.loads(row_path.read_text())
        if row["suite"] == "sw":
            row.update(assess_sw(out / name / "model.pt", sw_files(out / "sw_data")))
        else:
            summary = json.loads((out / name / "summary.json").read_text())
            row.update(assess_dft(out / name / "model.pt", summary))
            if (out / name / "replica_0").exists():
                row["replicas"] = assess_replicas(out / name, summary)
        row_path.write_text(json.dumps(row, indent=1))
    for name in (args.last.split(",") if args.last else []):
        row = assess_last(out / name, rows_dir / f"{name}.last.json")
        print(name, "last epoch", json.dumps({k: v for k, v in row.items()
                                              if not isinstance(v, dict)}), flush=True)
    if not args.table:
        for name in names:
            row = run(name, out, rows_dir, Path(args.dft_data))
            print(name, json.dumps({k: v for k, v in row.items() if not isinstance(v, dict)}),
                  flush=True)
    rows = [json.loads((rows_dir / f"{n}.json").read_text()) for n in RECIPES
            if (rows_dir / f"{n}.json").exists()]
    text = table(rows)
    Path(args.doc).write_text(text)
    plot_mapping(rows, Path(args.doc).with_name("mapping_bp_vs_e3nn.png"))
    print(text)


if __name__ == "__main__":
    main()
