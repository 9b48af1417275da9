"""Model files round-trip exactly and refuse anything that is not a usable nnpcalc model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from structures_factory import rattled_diamond, rattled_sic

from nnpcalc import NNPCalculator, load_model, save_model
from nnpcalc.models import Ensemble
from nnpcalc.models.model_file import FORMAT_VERSION, ModelFileError, model_to_payload


def test_round_trip_gives_identical_results(tmp_path, si_model, sic_model):
    for model, atoms in ((si_model, rattled_diamond()), (sic_model, rattled_sic())):
        path = save_model(model, tmp_path / "m.pt", metadata={"note": "test"})
        before = NNPCalculator(model, dtype="float64").predict([atoms])[0]
        after = NNPCalculator(str(path), dtype="float64").predict([atoms])[0]
        assert after["energy"] == before["energy"]
        np.testing.assert_array_equal(after["forces"], before["forces"])
        np.testing.assert_array_equal(after["stress"], before["stress"])


def test_file_describes_itself(tmp_path, si_model):
    payload = torch.load(save_model(si_model, tmp_path / "m.pt"), weights_only=True)
    assert payload["format_version"] == FORMAT_VERSION
    assert payload["species"] == ["Si"]
    assert payload["cutoff_angstrom"] == pytest.approx(6.0)
    assert payload["config"]["descriptor"]["radial"]
    assert "reference_energy" in payload["state_dict"]
    assert "feature_mean" in payload["state_dict"]
    assert payload["units"] == {"energy": "eV", "length": "Angstrom"}


def test_ensemble_file_loads_in_calculator(tmp_path, si_model):
    from conftest import normalised_model

    other = normalised_model(["Si"], [rattled_diamond(seed=s) for s in range(3)], seed=1)
    ensemble = Ensemble([si_model, other])
    path = save_model(ensemble, tmp_path / "ens.pt")
    calc = NNPCalculator(str(path), dtype="float64")
    atoms = rattled_diamond()
    res = calc.predict([atoms])[0]
    singles = [NNPCalculator(m, dtype="float64").predict([atoms])[0] for m in (si_model, other)]
    stacked = np.stack([s["energies"] for s in singles])
    np.testing.assert_allclose(res["energies"], stacked.mean(0), atol=1e-12)
    np.testing.assert_allclose(res["energies_std"], stacked.std(0), atol=1e-12)
    np.testing.assert_allclose(res["forces"], (singles[0]["forces"] + singles[1]["forces"]) / 2,
                               atol=1e-10)
    atoms.calc = calc
    assert "energies_std" in calc.implemented_properties
    assert calc.get_property("energies_std", atoms).shape == (len(atoms),)


def test_truncated_file_is_refused(tmp_path, si_model):
    path = save_model(si_model, tmp_path / "m.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt, truncated"):
        load_model(path)


def test_garbage_and_foreign_files_are_refused(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelFileError, match="not a readable"):
        load_model(junk)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ModelFileError, match="not an nnpcalc model"):
        load_model(foreign)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.pt")


def test_pickled_code_is_never_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pwned')",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "nnpcalc-model", "payload": Evil()}, path)
    with pytest.raises(ModelFileError):
        load_model(path)


def test_newer_format_and_incompatible_weights_are_refused(tmp_path, si_model):
    payload = model_to_payload(si_model)
    payload["format_version"] = FORMAT_VERSION + 1
    torch.save(payload, tmp_path / "new.pt")
    with pytest.raises(ModelFileError, match="newer"):
        load_model(tmp_path / "new.pt")
    payload = model_to_payload(si_model)
    payload["config"]["hidden"] = [7]
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(ModelFileError, match=r"bpnn model written by nnpcalc .* does not fit"):
        load_model(tmp_path / "bad.pt")
