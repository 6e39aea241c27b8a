"""The ``spectral:`` config section as typed dataclasses.

The schema (config/schema/spectral.schema.yaml) holds the defaults and the validation; these
classes only give the code attribute access and type hints, so they are built from an already
validated mapping and carry no defaults of their own (one source of truth).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class DeviceConfig:
    kind: str
    tf32: bool
    cudnn_benchmark: bool
    memory_fraction: float


@dataclasses.dataclass(frozen=True)
class DataConfig:
    source: str
    regime: str
    file: str | None
    concentrations: tuple[float, ...]
    wavelength_min: float
    wavelength_max: float
    n_wavelengths: int
    noise: float
    noise_intensity: float
    drift: float


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    embedding_dim: int
    metric_hidden: int
    flow_hidden: int
    wavelength_position: bool
    metric_floor: float


@dataclasses.dataclass(frozen=True)
class SolverConfig:
    method: str
    steps: int
    rtol: float
    atol: float
    max_steps: int
    adjoint: bool
    christoffel: str
    fd_eps: float


@dataclasses.dataclass(frozen=True)
class ShootingConfig:
    newton_steps: int
    steps: int
    max_steps: int
    quad_points: int
    tol: float


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    epochs: int
    wavelengths_per_epoch: int | None
    mega_batch: int
    micro_batch: int
    lr_metric: float
    lr_flow: float
    inner_fraction: float
    patience: int
    lr_patience: int
    lr_factor: float
    min_delta: float
    clip_norm: float
    amp: bool
    amp_dtype: str
    checkpoint_every: int
    profile: bool
    profile_steps: int


@dataclasses.dataclass(frozen=True)
class ValidationConfig:
    held_out: tuple[int, ...] | None
    extrapolate: bool
    low_rank_rank: int | None


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig:
    epochs: int
    inference_repeats: int


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    onnx: bool
    opset: int


@dataclasses.dataclass(frozen=True)
class SpectralConfig:
    seed: int
    dtype: str
    regimes: tuple[str, ...] | None
    device: DeviceConfig
    data: DataConfig
    model: ModelConfig
    solver: SolverConfig
    shooting: ShootingConfig
    train: TrainConfig
    validation: ValidationConfig
    benchmark: BenchmarkConfig
    export: ExportConfig

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> SpectralConfig:
        """Build from the validated ``config["spectral"]`` (defaults already filled in)."""
        return cls(
            seed=int(section["seed"]),
            dtype=str(section["dtype"]),
            regimes=tuple(section["regimes"]) if section["regimes"] else None,
            device=_build(DeviceConfig, section["device"]),
            data=_build(DataConfig, section["data"]),
            model=_build(ModelConfig, section["model"]),
            solver=_build(SolverConfig, section["solver"]),
            shooting=_build(ShootingConfig, section["shooting"]),
            train=_build(TrainConfig, section["train"]),
            validation=_build(ValidationConfig, section["validation"]),
            benchmark=_build(BenchmarkConfig, section["benchmark"]),
            export=_build(ExportConfig, section["export"]),
        )

    def for_regime(self, regime: str) -> SpectralConfig:
        """This config with spectral.data.regime set to a job's regime (the rule wildcard)."""
        return self.replace(data={"regime": regime})

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None) -> SpectralConfig:
        """The schema defaults with ``overrides`` (a partial ``spectral:`` mapping) merged in."""
        from zetalab.config import deep_merge, load_schema, validate_config

        schema = load_schema()
        config = validate_config({"spectral": deep_merge({}, overrides or {})}, schema)
        return cls.from_mapping(config["spectral"])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (tuples become lists), so the schema accepts it back."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def replace(self, **sections: Any) -> SpectralConfig:
        """A copy with whole sub-sections or sub-keys replaced, e.g. ``train={"epochs": 2}``."""
        changes = {}
        for name, value in sections.items():
            current = getattr(self, name)
            if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
                changes[name] = dataclasses.replace(current, **value)
            else:
                changes[name] = value
        return dataclasses.replace(self, **changes)


def _build(kind: type[T], mapping: Mapping[str, Any]) -> T:
    values = {}
    for field in dataclasses.fields(kind):  # type: ignore[arg-type]
        value = mapping[field.name]
        values[field.name] = tuple(value) if isinstance(value, list) else value
    return kind(**values)
