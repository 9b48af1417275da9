"""Training: end to end, exact resume, promised errors, ensembles."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
import torch
import yaml
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.calculators.singlepoint import SinglePointCalculator

from nnpcalc import NNPCalculator, load_model
from nnpcalc.models.e3nn_mp import E3nnModel, Interaction
from nnpcalc.models.widen import widen_from
from nnpcalc.train import ConfigError, fit, load_config
from nnpcalc.train.checkpoint import last_epoch_model
from nnpcalc.train.config import config_chain, validate_config
from nnpcalc.train.data import LabelError, read_labelled
from nnpcalc.train.fit import prepare


def lj_labelled(n: int, seed: int = 0) -> list:
    """Si cells labelled by a smooth Lennard-Jones potential (fast, exact labels)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        atoms = bulk("Si", "diamond", 5.43 * (0.96 + 0.08 * rng.random()), cubic=True)
        atoms.rattle(0.08 * rng.random(), seed=seed * 1000 + k)
        atoms.calc = LennardJones(sigma=2.0, epsilon=0.5, rc=4.5, smooth=True)
        results = {p: atoms.calc.get_property(p, atoms) for p in ("energy", "forces", "stress")}
        atoms.calc = SinglePointCalculator(atoms, **results)
        out.append(atoms)
    return out


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "lj.extxyz"
    ase.io.write(path, lj_labelled(16))
    return path


def config(dataset, tmp_path, **extra):
    base = {"data": [str(dataset)], "epochs": 8, "batch_size": 4, "lr": 5e-3,
            "monitor": {"enabled": False}, "model": {"cutoff": 4.5, "hidden": [12]},
            "loss": {"energy": 1.0, "forces": 0.5}, "out": str(tmp_path / "run"),
            "dtype": "float64"}
    base.update(extra)
    return base


def test_training_lowers_the_loss_and_writes_outputs(dataset, tmp_path):
    fit(config(dataset, tmp_path, epochs=15), progress=False)
    run = tmp_path / "run"
    history = __import__("json").loads((run / "log.json").read_text())
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    for name in ("model.pt", "best_model.pt", "last.ckpt", "log.csv", "training_curves.png",
                 "summary.json", "config.yaml"):
        assert (run / name).is_file(), name
    calc = NNPCalculator(run / "model.pt")
    atoms = lj_labelled(1, seed=5)[0]
    atoms.calc = calc
    assert np.isfinite(atoms.get_potential_energy())


def test_resume_reproduces_an_uninterrupted_run(dataset, tmp_path):
    full = config(dataset, tmp_path, out=str(tmp_path / "full"), epochs=6)
    fit(full, progress=False)
    part = config(dataset, tmp_path, out=str(tmp_path / "part"), epochs=3)
    fit(part, progress=False)
    fit({**part, "epochs": 6}, resume=True, progress=False)
    a = torch.load(tmp_path / "full" / "last.ckpt", weights_only=True)
    b = torch.load(tmp_path / "part" / "last.ckpt", weights_only=True)
    assert a["state"]["epoch"] == b["state"]["epoch"] == 6
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert a["state"]["history"][-1]["train_loss"] == b["state"]["history"][-1]["train_loss"]


def test_fine_tuning_starts_exactly_where_the_file_ends(dataset, tmp_path):
    """init_from: epoch 0 of the new run is the file's model (its training error is the one
    the first run logged for that model), training goes on from there, and a file of another
    architecture is refused by name."""
    fit(config(dataset, tmp_path, epochs=6), progress=False)
    first = json.loads((tmp_path / "run" / "log.json").read_text())
    best = min(first, key=lambda row: row["val_loss"])
    start = str(tmp_path / "run" / "model.pt")
    fit(config(dataset, tmp_path, epochs=4, lr=1e-3, init_from=start,
               out=str(tmp_path / "tuned")), progress=False)
    tuned = json.loads((tmp_path / "tuned" / "log.json").read_text())
    assert tuned[0]["epoch"] == 0
    assert tuned[0]["train_loss"] == pytest.approx(best["train_loss"], rel=1e-6)
    assert min(row["val_loss"] for row in tuned) <= tuned[0]["val_loss"]
    with pytest.raises(ValueError, match="init_from .* differs .* hidden"):
        fit(config(dataset, tmp_path, init_from=start, model={"cutoff": 4.5, "hidden": [8]},
                   out=str(tmp_path / "other")), progress=False)


def test_proximal_term_keeps_fine_tuned_weights_near_the_start(dataset, tmp_path):
    """proximal × Σ (w − w_start)²: a strong pull leaves L-BFGS almost where it started, a
    weak one does not; without init_from there is no start to pull towards."""
    fit(config(dataset, tmp_path, epochs=3), progress=False)
    start = str(tmp_path / "run" / "model.pt")
    start_weights = [p.detach().double() for p in load_model(start).parameters()]

    def moved(proximal: float) -> float:
        out = tmp_path / f"tuned_{proximal}"
        fit(config(dataset, tmp_path, epochs=2, optimizer="lbfgs", lr=1.0, scheduler="none",
                   dtype="float64", init_from=start, proximal=proximal, out=str(out)),
            progress=False)
        weights = torch.load(out / "last.ckpt", weights_only=True)["model"]
        names = [n for n, _ in load_model(start).named_parameters()]
        return sum(float(((weights[n] - w0) ** 2).sum())
                   for n, w0 in zip(names, start_weights, strict=True))

    free, held = moved(0.0), moved(100.0)
    assert free > 1e-4 and held < 1e-3 * free
    with pytest.raises(ConfigError, match="'proximal' .* needs 'init_from'"):
        validate_config(config(dataset, tmp_path, proximal=1.0))



def test_config_chain_follows_init_from_and_names_a_broken_link(tmp_path):
    """Stages found through their `out`, first stage first; a non-config YAML beside them is
    passed over; a missing or circular link names the config."""
    def write(name: str, **keys) -> None:
        (tmp_path / name).write_text(yaml.safe_dump({"data": ["d.extxyz"], **keys}))

    write("a.yaml", out="runs/a")
    write("b.yaml", out="runs/b", init_from="runs/a/model.pt")
    write("c.yaml", out="runs/c", init_from="runs/b/model.pt")
    (tmp_path / "settings.yaml").write_text("mode: pw\n")
    assert [p.name for p, _ in config_chain(tmp_path / "c.yaml")] == ["a.yaml", "b.yaml",
                                                                      "c.yaml"]
    write("d.yaml", out="runs/d", init_from="runs/nowhere/model.pt")
    with pytest.raises(ConfigError, match="d.yaml: init_from runs/nowhere/model.pt: no "):
        config_chain(tmp_path / "d.yaml")
    write("a.yaml", out="runs/a", init_from="runs/c/model.pt")
    with pytest.raises(ConfigError, match="returns to itself"):
        config_chain(tmp_path / "c.yaml")
    write("e.yml", out="runs/b")
    with pytest.raises(ConfigError, match="c.yaml: init_from .*b.yaml and .*e.yml both write "
                                          "to out: runs/b"):
        config_chain(tmp_path / "c.yaml")

def test_label_less_structure_is_named_or_skipped(tmp_path):
    structures = lj_labelled(6)
    bare = bulk("Si", "diamond", 5.43, cubic=True)
    path = tmp_path / "mixed.extxyz"
    ase.io.write(path, structures[:3] + [bare] + structures[3:])
    cfg = config(path, tmp_path)
    with pytest.raises(LabelError, match=r"mixed.extxyz:3: no energy label"):
        fit(cfg, progress=False)
    fit({**cfg, "skip_missing_labels": True, "epochs": 1}, progress=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    sources = [s for split in summary["split_sources"].values() for s in split]
    assert len(sources) == len(structures)  # the six labelled ones, and not the bare cell
    assert not any(s.endswith(":3") for s in sources)


def test_missing_forces_are_an_error_when_the_loss_uses_them(tmp_path):
    atoms = lj_labelled(3)
    for a in atoms:
        a.info["energy"] = a.get_potential_energy()
        a.calc = None
    path = tmp_path / "energies_only.extxyz"
    ase.io.write(path, atoms)
    with pytest.raises(LabelError, match=r"energies_only.extxyz:0: no forces label"):
        fit(config(path, tmp_path), progress=False)


def test_custom_label_keys(tmp_path):
    atoms = lj_labelled(8)
    for a in atoms:
        a.info["dft_energy"] = a.get_potential_energy()
        a.arrays["dft_forces"] = a.get_forces()
        a.calc = None
    path = tmp_path / "custom.extxyz"
    ase.io.write(path, atoms)
    cfg = validate_config(config(path, tmp_path, epochs=1,
                                 keys={"energy": "dft_energy", "forces": "dft_forces"}))
    items = read_labelled([str(path)], cfg.keys, need_forces=True)
    assert [it.energy for it in items] == pytest.approx([a.info["dft_energy"] for a in atoms])
    for it, a in zip(items, atoms, strict=True):
        np.testing.assert_allclose(it.forces, a.arrays["dft_forces"], atol=1e-7)  # extxyz digits
    fit(cfg, progress=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_train"] + summary["n_validation"] == len(atoms)


def test_bad_config_key_is_named_with_allowed_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'epochz'.*allowed here:.*epochs"):
        load_config(None, {"data": ["x.extxyz"], "epochz": 3})
    with pytest.raises(ConfigError, match=r"unknown config key 'model.hiden'.*hidden"):
        load_config(None, {"data": ["x.extxyz"], "model": {"hiden": [3]}})
    with pytest.raises(ConfigError, match=r"config key 'epochs'"):
        load_config(None, {"data": ["x.extxyz"], "epochs": "many"})
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("data: [a.extxyz]\nloss: {energy: 1, force: 2}\n")
    with pytest.raises(ConfigError, match=r"'loss.force'.*forces"):
        load_config(cfg_file)


def test_replicas_give_an_ensemble_with_uncertainty(dataset, tmp_path):
    model = fit(config(dataset, tmp_path, epochs=2, replicas=2), progress=False)
    assert model.kind == "ensemble"
    loaded = load_model(tmp_path / "run" / "model.pt")
    calc = NNPCalculator(loaded, dtype="float64")
    atoms = lj_labelled(1, seed=9)[0]
    atoms.calc = calc
    std = calc.get_property("energies_std", atoms)
    assert std.shape == (len(atoms),) and np.all(std > 0)


def test_split_is_deterministic_and_disjoint():
    from nnpcalc.train.data import split_indices

    a = split_indices(50, 0.2, 0.1, seed=3)
    b = split_indices(50, 0.2, 0.1, seed=3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert sorted(np.concatenate(a).tolist()) == list(range(50))
    assert (len(a[0]), len(a[1]), len(a[2])) == (35, 10, 5)


def test_train_only_structures_train_and_leave_the_split_alone(dataset, tmp_path):
    """Active learning: labelled failures join the training set; the validation and test
    splits stay the ones the seed picks from `data`, and the model file names every source."""
    extra = tmp_path / "extra.extxyz"
    ase.io.write(extra, lj_labelled(3, seed=7))
    plain = fit(config(dataset, tmp_path, epochs=1, test_fraction=0.25,
                       out=str(tmp_path / "plain")), progress=False)
    grown = fit(config(dataset, tmp_path, epochs=1, test_fraction=0.25, train_only=[str(extra)],
                       out=str(tmp_path / "grown")), progress=False)
    del plain, grown
    before, after = (json.loads((tmp_path / run / "summary.json").read_text())["split_sources"]
                     for run in ("plain", "grown"))
    assert after["test"] == before["test"] and after["validation"] == before["validation"]
    assert after["train"] == before["train"] + [f"{extra}:{k}" for k in range(3)]
    from nnpcalc.train.data import read_sources

    structures = read_sources(after["train"])
    np.testing.assert_allclose(structures[-1].positions, lj_labelled(3, seed=7)[2].positions,
                               atol=1e-6)
    with pytest.raises(LabelError, match="has no structure '3'"):
        read_sources([f"{extra}:3"])


def test_gdf_weights_favour_rare_environments():
    from nnpcalc.train.gdf import gdf_weights

    rng = np.random.default_rng(0)
    common = rng.normal(0.0, 0.1, size=(200, 4))
    rare = rng.normal(3.0, 0.1, size=(5, 4))
    weights = gdf_weights(torch.as_tensor(np.vstack([common, rare])), sigma=0.5,
                          max_weight=50.0)
    assert weights.mean().item() == pytest.approx(1.0)
    assert weights[200:].min() > 10 * weights[:200].max()


def sw_labelled_mix() -> tuple[list, list]:
    """Training: diamond over volume, rattled and vacancy cells; validation: fcc/diamond."""
    from nnpcalc.sampling import crystal, vacancy
    from nnpcalc.teachers import SWCalculator

    calc = SWCalculator()
    train = [crystal("diamond", volume_per_atom=v) for v in (19.0, 20.4, 21.8)]
    cell = bulk("Si", "diamond", 5.43, cubic=True)
    for k in range(4):
        rattled = cell.copy()
        rattled.rattle(0.1, seed=k)
        train.append(rattled)
    train.append(vacancy(cell.repeat((2, 1, 1)), 0))
    validation = [crystal("fcc", volume_per_atom=15.0), crystal("diamond", volume_per_atom=21.0),
                  vacancy(cell.repeat((2, 1, 1)), 5)]
    for group in (train, validation):
        for atoms, res in zip(group, calc.predict(group), strict=True):
            atoms.calc = SinglePointCalculator(atoms, energy=res["energy"],
                                               forces=res["forces"], stress=res["stress"])
    return train, validation


def test_monitor_finds_invariant_points_and_logs_the_direct_value(tmp_path):
    train, validation = sw_labelled_mix()
    ase.io.write(tmp_path / "train.extxyz", train)
    ase.io.write(tmp_path / "val.extxyz", validation)
    cfg = config(tmp_path / "train.extxyz", tmp_path, epochs=2,
                 validation=[str(tmp_path / "val.extxyz")],
                 isolated_atom_energies={"Si": 0.0}, monitor={"enabled": True})
    prep = prepare(validate_config(cfg))
    found = {(p.source, p.name.split(":")[-1]) for p in prep.monitor.points}
    assert found == {("train", "0"), ("train", "1"), ("train", "2"), ("validation", "0"),
                     ("validation", "1"), ("isolated", "isolated Si")}
    fit(cfg, progress=False)
    history = __import__("json").loads((tmp_path / "run" / "log.json").read_text())
    last = torch.load(tmp_path / "run" / "last.ckpt", weights_only=True)["model"]
    from nnpcalc.models import BPNN

    model = BPNN.from_config(prep.architecture).double()
    model.load_state_dict(last)
    calc = NNPCalculator(model, dtype="float64")
    held_out = [validation[0], validation[1], Atoms_single()]
    references = [validation[0].get_potential_energy() / 1,
                  validation[1].get_potential_energy() / 2, 0.0]
    errors = [1000 * (r["energy"] / len(a) - ref) for a, r, ref in
              zip(held_out, calc.predict(held_out), references, strict=True)]
    direct = float(np.sqrt(np.mean(np.square(errors))))
    assert history[-1]["mapping_error_meV"] == pytest.approx(direct, rel=1e-9)
    assert errors[2] == pytest.approx(0.0, abs=1e-9)  # anchored isolated atom


def Atoms_single():  # noqa: N802 - reads like the ASE constructor it wraps
    from ase import Atoms

    return Atoms("Si", positions=[[0.0, 0.0, 0.0]])


def test_gdf_in_training_weights_the_vacancy_neighbours_up(tmp_path):
    """The trainer's GDF weights come from the model's own features: in a set of rattled
    diamond cells and one vacancy cell, the vacancy's neighbours are the rare environments."""
    from nnpcalc.neighbors import neighbor_list

    train, _ = sw_labelled_mix()
    path = tmp_path / "mix.extxyz"
    ase.io.write(path, train)
    cfg = validate_config(config(path, tmp_path, val_fraction=0.0,
                                 gdf={"enabled": True, "sigma": 0.5}))
    prep = prepare(cfg)
    k = next(i for i, it in enumerate(prep.train.items) if len(it.atoms) == 15)
    atoms, weights = prep.train.items[k].atoms, prep.train.gdf[k]
    nl = neighbor_list(atoms, 2.6)
    coordination = np.bincount(nl.i, minlength=len(atoms))
    # the four vacancy neighbours weigh 1.5x the typical 4-coordinated atom of the same cell
    assert weights[coordination == 3].min() > 1.3 * np.median(weights[coordination == 4])
    with pytest.raises(ValueError, match="gdf weighting needs per-atom features"):
        prepare(validate_config(config(path, tmp_path, gdf={"enabled": True},
                                       model={"kind": "e3nn", "cutoff": 4.5})))


@pytest.mark.parametrize(("added", "new_weight"), [
    ({"cross_channels": True}, "layers.0.cross_linear.weight"),
    ({"scalar_layer": True}, "layers.1.linear.weight"),
    ({"bispectrum": True}, "layers.0.triples_linear.weight"),
    ({"outer_cutoff": 6.0}, "outer.mlp.2.weight"),
    # a reach layer that drops the file's l = 2 features
    ({"reach_layers": 1, "reach_l_max": 1}, "layers.1.linear.weight")])
def test_a_grown_e3nn_model_starts_as_the_file_and_trains_its_new_terms(dataset, tmp_path,
                                                                        added, new_weight,
                                                                        monkeypatch):
    """`cross_channels`, `scalar_layer`, `bispectrum`, `outer_cutoff` and `reach_layers` add
    terms that start by adding nothing (`grown_settings`): a file without them is a valid
    start whose epoch 0 is the file's model, and the new weights then train; the way back
    (dropping trained terms) is refused, and so is a start whose added terms would change the
    file's energies, or (the outer term) a file whose term has another size."""
    setting = next(iter(added))
    small = {"kind": "e3nn", "cutoff": 4.5, "l_max": 2, "channels": 4, "n_layers": 1}
    fit(config(dataset, tmp_path, epochs=3, model=small), progress=False)
    first = json.loads((tmp_path / "run" / "log.json").read_text())
    best = min(first, key=lambda row: row["val_loss"])
    start = str(tmp_path / "run" / "model.pt")
    grown = {**small, **added}
    fit(config(dataset, tmp_path, epochs=3, lr=1e-3, init_from=start, model=grown,
               out=str(tmp_path / "grown")), progress=False)
    tuned = json.loads((tmp_path / "grown" / "log.json").read_text())
    assert tuned[0]["train_loss"] == pytest.approx(best["train_loss"], rel=1e-6)
    last = torch.load(tmp_path / "grown" / "last.ckpt", weights_only=True)["model"]
    assert last[new_weight].abs().max() > 0
    with pytest.raises(ValueError, match="init_from .* differs .* " + setting):
        fit(config(dataset, tmp_path, init_from=str(tmp_path / "grown" / "model.pt"),
                   model=small, out=str(tmp_path / "back")), progress=False)
    if setting == "outer_cutoff":  # its size is grown only from a file without the term
        with pytest.raises(ValueError, match="init_from .* differs .* outer_radial"):
            fit(config(dataset, tmp_path, init_from=str(tmp_path / "grown" / "model.pt"),
                       model={**grown, "outer_radial": 16}, out=str(tmp_path / "other")),
                progress=False)
    if setting in ("scalar_layer", "reach_layers"):  # a layer not zero-started changes them
        monkeypatch.setattr(Interaction, "zero_start", lambda layer: None)
        with pytest.raises(ValueError, match="init_from .* weights do not match"):
            fit(config(dataset, tmp_path, init_from=start, model=grown,
                       out=str(tmp_path / "unzeroed")), progress=False)


@pytest.mark.parametrize(("narrow", "wider", "output"), [
    ({"cutoff": 4.5, "hidden": [6]}, {"hidden": [12]}, "nets.0.2.weight"),
    ({"kind": "e3nn", "cutoff": 4.5, "l_max": 2, "channels": 4, "n_layers": 1},
     {"scalars": 8, "readout_hidden": [8]}, "readout.2.weight")])
def test_a_widened_model_starts_as_the_file_and_trains_its_new_units(dataset, tmp_path,
                                                                      narrow, wider, output):
    """A file with narrower layers (`widened_settings`) starts a wider model whose epoch 0 is
    the file's model; the new units' output weights, zero at the start, then train. Narrowing
    is refused, and so is widening what the kind does not list (e3nn's l > 0 channels feed
    the radial network, whose blocks do not copy)."""
    fit(config(dataset, tmp_path, epochs=3, model=narrow), progress=False)
    first = json.loads((tmp_path / "run" / "log.json").read_text())
    best = min(first, key=lambda row: row["val_loss"])
    start = str(tmp_path / "run" / "model.pt")
    fit(config(dataset, tmp_path, epochs=3, lr=1e-3, init_from=start,
               model={**narrow, **wider}, out=str(tmp_path / "wide")), progress=False)
    tuned = json.loads((tmp_path / "wide" / "log.json").read_text())
    assert tuned[0]["train_loss"] == pytest.approx(best["train_loss"], rel=1e-6)
    last = torch.load(tmp_path / "wide" / "last.ckpt", weights_only=True)["model"]
    old_width = load_model(start).state_dict()[output].shape[1]
    assert last[output][:, old_width:].abs().min() > 0
    with pytest.raises(ValueError, match="init_from .* differs .* " + next(iter(wider))):
        fit(config(dataset, tmp_path, init_from=str(tmp_path / "wide" / "model.pt"),
                   model=narrow, out=str(tmp_path / "back")), progress=False)
    if narrow.get("kind") == "e3nn":
        with pytest.raises(ValueError, match="init_from .* differs .* channels"):
            fit(config(dataset, tmp_path, init_from=start, model={**narrow, "channels": 8},
                       out=str(tmp_path / "channels")), progress=False)
        channels = load_model(start).config() | {"channels": 8}
        with pytest.raises(ValueError, match="cannot widen layers.0"):
            widen_from(E3nnModel.from_config(channels), load_model(start))


def test_last_epoch_model_is_the_weight_average_the_last_epoch_measured(dataset, tmp_path):
    """The last epoch's weight average (decay 0.5: far from the raw weights), loaded from
    last.ckpt into best_model.pt's architecture, reproduces the training E/N RMSE the log
    recorded for that epoch."""
    cfg = config(dataset, tmp_path, epochs=6, ema_decay=0.5, early_stopping="val_loss",
                 lr=1e-2)
    fit(cfg, progress=False)
    run = tmp_path / "run"
    last = json.loads((run / "log.json").read_text())[-1]
    items = prepare(validate_config(cfg)).train.items
    predicted = NNPCalculator(last_epoch_model(run), dtype="float64").predict(
        [it.atoms for it in items])
    rmse = 1000 * np.sqrt(np.mean([((p["energy"] - it.energy) / len(it.atoms)) ** 2
                                   for p, it in zip(predicted, items, strict=True)]))
    assert rmse == pytest.approx(last["train_energy_rmse_meV_per_atom"], rel=1e-6)


def test_early_stopping_last_keeps_the_end_of_the_schedule(dataset, tmp_path):
    """With "last", patience cannot cut the run and the kept model is the final epoch's weight
    average, whatever the validation error did on the way (lr 0.3 makes it jump about)."""
    cfg = config(dataset, tmp_path, epochs=5, ema_decay=0.5, early_stopping="last", lr=0.3,
                 patience=1)
    fit(cfg, progress=False)
    run = tmp_path / "run"
    history = json.loads((run / "log.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    kept = torch.load(run / "best_model.pt", weights_only=True)
    assert kept["metadata"]["epoch"] == 5
    atoms = [it.atoms for it in prepare(validate_config(cfg)).train.items]
    assert np.allclose([p["energy"] for p in NNPCalculator(run / "best_model.pt").predict(atoms)],
                       [p["energy"] for p in NNPCalculator(last_epoch_model(run)).predict(atoms)])
