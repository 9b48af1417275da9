"""Training configuration, validated up front: an unknown or mistyped key stops the run at once."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from nnpcalc.models.contract import ModelSettings
from nnpcalc.models.registry import model_class, trainable_kinds


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LabelKeys(_Strict):
    """Where labels live when not in atoms.calc: info/arrays keys, as extxyz users name them."""

    energy: str = "energy"
    forces: str = "forces"
    stress: str = "stress"
    weight: str = "weight"


class LossWeights(_Strict):
    """Multipliers of the mean-square errors of E/N (eV), forces (eV/Å), virial/N (eV).

    energy_size: "per_atom" weighs every structure's (ΔE/N)² alike; "sqrt_atoms" multiplies it
    by N / mean N (i.e. ΔE²/N up to a constant), so a 0.5 eV error spread over a 63-atom defect
    cell is not drowned by the small cells. `groups` multiplies structure weights by the first
    matching pattern (fnmatch) of info[group_key], e.g. {"dimer": 0.1, "vacancy*": 3}.
    `stress_groups` multiplies the stress term's weights alone, the same way: a strained
    crystal's deviatoric stress carries C11 - C12, which its energy resolves only below the
    noise of the energy fit.
    normalise: "batch" divides each mini-batch's weighted squared errors by that batch's own
    weights, so a large weight saturates: a structure that dominates its batch counts as that
    batch, and 100x on one cell weighs at most as much as batch_size cells. "data" divides by
    the training set's mean weight per structure times the batch's structures, so each batch's
    loss is an unbiased estimate of the whole set's weighted mean (exactly that mean in full
    batch) and a weight of 100 counts 100 times. Validation losses divide by their own set's.
    """

    energy: float = Field(1.0, ge=0)
    forces: float = Field(0.1, ge=0)
    stress: float = Field(0.0, ge=0)
    energy_size: Literal["per_atom", "sqrt_atoms"] = "per_atom"
    group_key: str = "config_type"
    groups: dict[str, float] = Field(default_factory=dict)
    stress_groups: dict[str, float] = Field(default_factory=dict)
    normalise: Literal["batch", "data"] = "batch"

    @field_validator("groups", "stress_groups")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if v < 0}
        if bad:
            raise ValueError(f"group weights must be >= 0, got {bad}")
        return value


class MonitorSettings(_Strict):
    enabled: bool = True
    probes: list[str] = Field(default_factory=list)
    symprec: float = Field(1e-3, gt=0)


class GDFSettings(_Strict):
    """Gaussian-density weighting of atoms in the force loss (rare environments count more)."""

    enabled: bool = False
    sigma: float = Field(0.5, gt=0)  # width in standardised-feature units
    max_weight: float = Field(10.0, gt=1)


class TrainConfig(_Strict):
    data: list[str]
    validation: list[str] = Field(default_factory=list)
    test: list[str] = Field(default_factory=list)
    # structures that only ever train, added after `data` is split: labelled failures of a
    # model (active learning) join the training set without moving the seed's test split
    train_only: list[str] = Field(default_factory=list)
    val_fraction: float = Field(0.1, ge=0, lt=1)
    test_fraction: float = Field(0.0, ge=0, lt=1)
    seed: int = 0
    epochs: int = Field(200, ge=1)
    batch_size: int = Field(8, ge=1)
    lr: float = Field(3e-3, gt=0)
    lr_min: float = Field(1e-5, ge=0)
    scheduler: Literal["plateau", "cosine", "none"] = "plateau"
    plateau_patience: int = Field(25, ge=1)  # epochs without a better val loss before lr × 0.5
    optimizer: Literal["adamw", "lbfgs"] = "adamw"  # lbfgs: full batch, one step per epoch
    ema_decay: float | None = Field(None, gt=0, lt=1)  # evaluate an EMA of the weights (per step)
    weight_decay: float = Field(0.0, ge=0)
    patience: int = Field(60, ge=1)
    # the metric that picks the kept epoch; "last" keeps the end of the schedule (an annealed
    # cosine), for when the validation set is too small to rank epochs
    early_stopping: Literal["val_loss", "val_energy", "mapping", "combined", "last"] = "val_loss"
    loss: LossWeights = Field(default_factory=LossWeights)
    keys: LabelKeys = Field(default_factory=LabelKeys)
    skip_missing_labels: bool = False
    isolated_atom_energies: dict[str, float] | None = None
    # `kind` picks the model (models.registry); the rest of the block is that kind's Settings
    model: SerializeAsAny[ModelSettings] = Field(default_factory=lambda: _settings({}))
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    gdf: GDFSettings = Field(default_factory=GDFSettings)
    replicas: int = Field(1, ge=1)
    # fine-tuning: start from this model file's weights and statistics instead of a fresh
    # model (same kind and architecture as the model block); the start competes for "best"
    init_from: str | None = None
    # with init_from: add proximal × Σ (w − w_start)² to the loss, so that a fine-tuning
    # optimiser (full-batch L-BFGS above all) improves the fit without leaving the start's
    # neighbourhood, where its transfer to held-out environments was measured
    proximal: float = Field(0.0, ge=0)
    dtype: Literal["float32", "float64"] = "float32"
    device: str | None = None
    out: str = "runs/nnp"

    @field_validator("model", mode="before")
    @classmethod
    def _model_kind(cls, value):
        return value if isinstance(value, ModelSettings) else _settings(value)

    @model_validator(mode="after")
    def _proximal_needs_a_start(self):
        if self.proximal > 0 and not self.init_from:
            raise ValueError("config key 'proximal' pulls the weights towards a start: it "
                             "needs 'init_from'")
        return self

    @field_validator("data")
    @classmethod
    def _some_data(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one data file is needed")
        return value


def _allowed_keys(model: type[BaseModel], path: tuple) -> list[str]:
    for part in path[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return sorted(model.model_fields)


def _settings(block: dict) -> ModelSettings:
    """The `model:` block validated by its kind's Settings class (kind defaults to bpnn)."""
    if not isinstance(block, dict):
        raise ValueError("the model block must be a mapping of keys to values")
    kind = block.get("kind", "bpnn")
    settings = getattr(model_class(kind), "Settings", None)
    if settings is None:
        raise ValueError(f"model kind {kind!r} cannot be trained; trainable kinds: "
                         f"{trainable_kinds()}")
    try:
        return settings(**block)
    except ValidationError as exc:
        raise ValueError("; ".join(_messages(exc, settings, ("model",)))) from None


def _messages(exc: ValidationError, model: type[BaseModel], prefix: tuple = ()) -> list[str]:
    """One line per error, naming the full key and, for unknown keys, the allowed ones."""
    lines = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(model, err["loc"]))
            lines.append(f"unknown config key '{key}' (allowed here: {allowed})")
        elif err["type"] == "value_error" and "config key" in err["msg"]:
            lines.append(err["msg"].removeprefix("Value error, "))
        else:
            lines.append(f"config key '{key}': {err['msg']}")
    return lines


def validate_config(data: dict) -> TrainConfig:
    """Build a TrainConfig, turning pydantic's errors into one message that names each key."""
    try:
        return TrainConfig(**data)
    except ValidationError as exc:
        raise ConfigError("; ".join(_messages(exc, TrainConfig))) from None


def load_config(path: str | Path | None, overrides: dict | None = None) -> TrainConfig:
    """Read YAML (if given), apply command-line overrides, validate."""
    data: dict = {}
    if path is not None:
        with open(path) as handle:
            data = yaml.safe_load(handle) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the config must be a mapping of keys to values")
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    return validate_config(data)


def config_chain(path: str | Path) -> list[tuple[Path, TrainConfig]]:
    """The configs a staged model is trained through, first stage first.

    A stage's `init_from` is a file in the `out` of an earlier stage, and that earlier config
    sits in the same folder, so a staged model can be retrained from its config files alone.
    Other YAML files in the folder that are not training configs are passed over.
    """
    path = Path(path)
    by_out: dict[Path, list[tuple[Path, TrainConfig]]] = {}
    for other in sorted([*path.parent.glob("*.yaml"), *path.parent.glob("*.yml")]):
        try:
            config = load_config(other)
        except (ConfigError, yaml.YAMLError):
            continue
        by_out.setdefault(Path(config.out), []).append((other, config))
    chain = [(path, load_config(path))]
    while chain[0][1].init_from:
        start = Path(chain[0][1].init_from)
        found = by_out.get(start.parent, [])
        if len(found) != 1:
            raise ConfigError(
                f"{chain[0][0]}: init_from {start}: " + (
                    " and ".join(str(name) for name, _ in found)
                    + f" both write to out: {start.parent}; each stage needs its own out"
                    if found else f"no training config in {path.parent} has out: "
                                  f"{start.parent}"))
        if any(found[0][0] == name for name, _ in chain):
            raise ConfigError(f"{found[0][0]}: its init_from chain returns to itself")
        chain.insert(0, found[0])
    return chain
