"""Node features: what a model may see about zero n without seeing hidden zeros.

Columns, in this order: the observed δ (0 where hidden), the observed flag, a position
encoding, the explicit-formula estimate δ̂_EF (zetalab.learning.explicit; absent when
`model.estimate.num_primes` is 0), and prime waves sin(t₀ log p)/√p, cos(t₀ log p)/√p at the
smooth height t₀ = N0⁻¹(n − ½). The waves are the terms of the explicit formula for
S(t) ≈ −δ, so a model can learn amplitudes for them instead of rediscovering oscillations from
raw indices; the estimate is their sum with the formula's own amplitudes, solved at the
predicted height, so a model sees at least what the `prime_sum` baseline computes.

One function builds the matrix for every learner (`node_features`): the GNN's trainer and the
graph-free `linear` and `mlp` baselines, so they see the same columns with the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.learning.explicit import PRIME_CAP, explicit_estimate, first_primes_capped
from zetalab.learning.graph import validate_primes
from zetalab.unfold import smooth_count

if TYPE_CHECKING:  # torch is imported where features are built, not when configs are planned
    import torch

DYNAMIC_COLUMNS = 2  # observed δ and observed flag change every step; the rest are static
POSITION_COLUMN = DYNAMIC_COLUMNS  # first static column


def wave_primes(setting: str | int | list[int], graph_primes: list[int]) -> list[int]:
    """Resolve model.wave_primes: "graph" (the graph's primes), K (first K primes) or a list.

    K is capped by the primes below zetalab.learning.explicit.PRIME_CAP (9,592), and so is
    every listed prime: a count beyond the cap is a config error, not a silent truncation.
    """
    if setting == "graph":
        return sorted(int(p) for p in graph_primes)
    if isinstance(setting, int) and not isinstance(setting, bool):
        if setting == 0:
            return []
        return [int(p) for p in first_primes_capped(setting, "model.wave_primes")]
    if isinstance(setting, list):
        primes = validate_primes(setting, where="model.wave_primes")
        too_big = [p for p in primes if p >= PRIME_CAP]
        if too_big:
            raise ZetalabError(
                f"model.wave_primes lists {too_big[0]}, beyond the cap {PRIME_CAP:,}",
                f"list primes below {PRIME_CAP:,}",
            )
        return primes
    raise ZetalabError(
        f"model.wave_primes = {setting!r} is not understood",
        "use 'graph', a count K (the first K primes) or a list of primes",
    )


@dataclass(frozen=True)
class FeatureSpec:
    """Which static columns a run's nodes get (resolved from the model and graph sections)."""

    wave_primes: tuple[int, ...]
    estimate_primes: int  # 0: no explicit-formula column
    estimate_taper: float

    @property
    def estimate_column(self) -> int | None:
        """Column of δ̂_EF in the node feature matrix (the base of a residual model)."""
        return POSITION_COLUMN + 1 if self.estimate_primes else None

    @property
    def num_features(self) -> int:
        return DYNAMIC_COLUMNS + 1 + bool(self.estimate_primes) + 2 * len(self.wave_primes)


def feature_spec(model: Mapping[str, Any], graph_primes: list[int]) -> FeatureSpec:
    """The FeatureSpec of a config's `model` section; residual without an estimate is refused."""
    estimate = model.get("estimate", {}) or {}
    num = int(estimate.get("num_primes", 0))
    if num:
        first_primes_capped(num, "model.estimate.num_primes")
    if model.get("residual") and not num:
        raise ZetalabError(
            "model.residual is true but model.estimate.num_primes = 0: a residual model "
            "learns a correction on top of the explicit-formula estimate, which is switched off",
            "set model.estimate.num_primes ≥ 1 (e.g. 1000) or model.residual: false",
        )
    return FeatureSpec(
        wave_primes=tuple(wave_primes(model.get("wave_primes", "graph"), graph_primes)),
        estimate_primes=num,
        estimate_taper=float(estimate.get("taper", 0.0)),
    )


def check_mask(mask: Mapping[str, Any], N: int, horizon: int) -> int:
    """The span length of train.mask (block_length, or the horizon when null), checked."""
    length = int(mask.get("block_length") or horizon)
    if length > N:
        source = "train.mask.block_length" if mask.get("block_length") else "dataset.horizon"
        raise ZetalabError(
            f"hidden spans of {length} nodes ({source}) are longer than the {N} train zeros "
            "(dataset.N): no span of the task fits inside the train range",
            "lower train.mask.block_length or dataset.horizon, or raise dataset.N",
        )
    return length


def check_run_settings(config: Mapping[str, Any]) -> FeatureSpec:
    """Model and mask settings a schema cannot check alone, and the run's FeatureSpec.

    zetalab.learning.runconfig calls this for every run config while the workflow is planned,
    so no job starts on them: wave-prime and estimate counts beyond the prime cap, a residual
    model without its estimate, mask spans longer than the train range.
    """
    ds = config["dataset"]
    check_mask(config["train"]["mask"], int(ds["N"]), int(ds["horizon"]))
    return feature_spec(config["model"], validate_primes(config["graph"]["primes"]))


def static_features(
    smooth_heights: np.ndarray, primes: list[int], estimate: np.ndarray | None = None
) -> np.ndarray:
    """Position, [estimate,] prime waves: (M, 1 + [1] + 2·len(primes)) float32."""
    t0 = np.asarray(smooth_heights, dtype=np.float64)
    m = len(t0)
    # Position in [-1, 1] over the nodes: lets a model separate the low, sparse zeros from
    # the high ones without a scale that grows with N.
    pos = (2.0 * (np.arange(m, dtype=np.float64) + 0.5) / m - 1.0)[:, None]
    cols = [pos]
    if estimate is not None:
        cols.append(np.asarray(estimate, dtype=np.float64)[:, None])
    if primes:
        logp = np.log(np.asarray(primes, dtype=np.float64))
        phase = t0[:, None] * logp[None, :]
        amp = 1.0 / np.sqrt(np.asarray(primes, dtype=np.float64))
        cols += [np.sin(phase) * amp, np.cos(phase) * amp]
    return np.concatenate(cols, axis=1).astype(np.float32)


def spec_static_features(smooth_heights: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """static_features of a FeatureSpec, computing δ̂_EF at each node's own index.

    The index n is recovered from t₀ (N0(t₀) = n − ½), so a window that starts anywhere
    gets the estimate of its true zeros.
    """
    estimate = None
    if spec.estimate_primes:
        indices = np.rint(smooth_count(np.asarray(smooth_heights)) + 0.5).astype(np.int64)
        estimate = explicit_estimate(indices, spec.estimate_primes, spec.estimate_taper)
    return static_features(smooth_heights, list(spec.wave_primes), estimate)


def node_features(
    delta: torch.Tensor, observed: torch.Tensor, static: torch.Tensor
) -> torch.Tensor:
    """The model input [δ·observed, observed, static...] for the given nodes (rows aligned)."""
    import torch

    dyn = torch.stack([torch.where(observed, delta, torch.zeros_like(delta)), observed.float()], 1)
    return torch.cat([dyn.to(static.dtype), static], dim=1)
