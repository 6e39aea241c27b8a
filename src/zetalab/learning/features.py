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
from zetalab.learning.explicit import (
    MAX_PRIMES,
    WAVE_PRIME_CAP,
    EstimateTable,
    explicit_estimate,
    first_primes,
    primes_below,
)
from zetalab.learning.graph import validate_primes
from zetalab.learning.stopping import check_stopping
from zetalab.unfold import smooth_count

if TYPE_CHECKING:  # torch is imported where features are built, not when configs are planned
    import torch

DYNAMIC_COLUMNS = 2  # observed δ and observed flag change every step; the rest are static
POSITION_COLUMN = DYNAMIC_COLUMNS  # first static column


def wave_primes(setting: str | int | list[int], graph_primes: list[int]) -> list[int]:
    """Resolve model.wave_primes: "graph" (the graph's primes), K (first K primes) or a list.

    K is capped by the primes below zetalab.learning.explicit.WAVE_PRIME_CAP (9,592, two input
    columns each), and so is every listed prime: a count beyond the cap is a config error, not
    a silent truncation.
    """
    if setting == "graph":
        return sorted(int(p) for p in graph_primes)
    if isinstance(setting, int) and not isinstance(setting, bool):
        if setting == 0:
            return []
        cap = len(primes_below(WAVE_PRIME_CAP))
        return [int(p) for p in first_primes(setting, "model.wave_primes", cap)]
    if isinstance(setting, list):
        primes = validate_primes(setting, where="model.wave_primes")
        too_big = [p for p in primes if p >= WAVE_PRIME_CAP]
        if too_big:
            raise ZetalabError(
                f"model.wave_primes lists {too_big[0]}, beyond the cap {WAVE_PRIME_CAP:,}",
                f"list primes below {WAVE_PRIME_CAP:,}",
            )
        return primes
    raise ZetalabError(
        f"model.wave_primes = {setting!r} is not understood",
        "use 'graph', a count K (the first K primes) or a list of primes",
    )


# model.estimate's value for "the prime_sum baseline's selected setting" (the default).
SELECTED = "prime_sum"


@dataclass(frozen=True)
class FeatureSpec:
    """Which static columns a run's nodes get (resolved from the model and graph sections).

    `estimate_primes` is 0 for no explicit-formula column, and None for the column with the
    prime_sum baseline's selected setting before the selection file has been read (at planning
    time); `estimate` is the table of its values once read.
    """

    wave_primes: tuple[int, ...]
    estimate_primes: int | None
    estimate_taper: float
    estimate: EstimateTable | None = None

    @property
    def has_estimate(self) -> bool:
        return self.estimate_primes != 0

    @property
    def estimate_column(self) -> int | None:
        """Column of δ̂_EF in the node feature matrix (the base of a residual model)."""
        return POSITION_COLUMN + 1 if self.has_estimate else None

    @property
    def num_features(self) -> int:
        return DYNAMIC_COLUMNS + 1 + self.has_estimate + 2 * len(self.wave_primes)


def feature_spec(
    model: Mapping[str, Any], graph_primes: list[int], table: EstimateTable | None = None
) -> FeatureSpec:
    """The FeatureSpec of a config's `model` section.

    `estimate` is "prime_sum" (the column of the prime_sum baseline's selected setting, whose
    values `table` holds) or {num_primes, taper} (0 primes: no column; a run records the
    selection it used in this form). A residual model without an estimate is refused.
    """
    estimate = model.get("estimate", SELECTED)
    if estimate == SELECTED:
        num, taper = (None, 0.0) if table is None else (table.num_primes, table.taper)
    else:
        num, taper = int(estimate.get("num_primes", 0)), float(estimate.get("taper", 0.0))
        if num:
            first_primes(num, "model.estimate.num_primes", MAX_PRIMES)
        if table is not None and (num, taper) != (table.num_primes, table.taper):
            table = None  # another setting than the selection's: computed for itself
    if model.get("residual") and num == 0:
        raise ZetalabError(
            "model.residual is true but model.estimate.num_primes = 0: a residual model "
            "learns a correction on top of the explicit-formula estimate, which is switched off",
            f"set model.estimate: {SELECTED} (the default) or model.residual: false",
        )
    return FeatureSpec(
        wave_primes=tuple(wave_primes(model.get("wave_primes", "graph"), graph_primes)),
        estimate_primes=num,
        estimate_taper=taper,
        estimate=table,
    )


def resolve_estimate(config: dict[str, Any], table: EstimateTable | None) -> dict[str, Any]:
    """The run config with model.estimate "prime_sum" replaced by the setting the selection
    chose (recorded in metrics.json), so every output shows the numbers the column used."""
    estimate = config["model"].get("estimate", SELECTED)
    if estimate != SELECTED:
        return config
    if table is None:
        raise ZetalabError(
            "model.estimate is 'prime_sum' but no explicit-formula selection was given",
            "pass the selection file results/explicit_formula/estimate.npz (the rule "
            "explicit_formula makes it)",
        )
    resolved = {**config, "model": {**config["model"], "estimate": table.setting}}
    return resolved


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


def check_run_settings(
    config: Mapping[str, Any], estimate: EstimateTable | None = None
) -> FeatureSpec:
    """Model, mask and stopping settings a schema cannot check alone, and the run's
    FeatureSpec.

    zetalab.learning.runconfig calls this for every run config while the workflow is planned,
    so no job starts on them: wave-prime and estimate counts beyond the prime cap, a residual
    model without its estimate, mask spans longer than the train range, a patience beyond
    max_epochs. `estimate` is the explicit-formula selection's table, once a job has read it.
    """
    ds = config["dataset"]
    check_stopping(config["train"])
    check_mask(config["train"]["mask"], int(ds["N"]), int(ds["horizon"]))
    return feature_spec(config["model"], validate_primes(config["graph"]["primes"]), estimate)


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
    """static_features of a FeatureSpec, with δ̂_EF at each node's own index: read from the
    selection's table (the very numbers of the prime_sum baseline), or computed for a fixed
    setting.

    The index n is recovered from t₀ (N0(t₀) = n − ½), so a window that starts anywhere
    gets the estimate of its true zeros.
    """
    estimate = None
    if spec.has_estimate:
        indices = np.rint(smooth_count(np.asarray(smooth_heights)) + 0.5).astype(np.int64)
        if spec.estimate is not None:
            estimate = spec.estimate.values_at(indices)
        elif spec.estimate_primes:
            estimate = explicit_estimate(indices, spec.estimate_primes, spec.estimate_taper)
        else:
            raise ZetalabError(
                "the explicit-formula column needs the prime_sum baseline's selection",
                "pass results/explicit_formula/estimate.npz (the rule explicit_formula)",
            )
    return static_features(smooth_heights, list(spec.wave_primes), estimate)


def node_features(
    delta: torch.Tensor, observed: torch.Tensor, static: torch.Tensor
) -> torch.Tensor:
    """The model input [δ·observed, observed, static...] for the given nodes (rows aligned)."""
    import torch

    x = torch.empty(len(delta), DYNAMIC_COLUMNS + static.shape[1], dtype=static.dtype,
                    device=static.device)  # fmt: skip
    x[:, DYNAMIC_COLUMNS:] = static
    return fill_dynamic_columns(x, delta, observed)


def fill_dynamic_columns(
    x: torch.Tensor, delta: torch.Tensor, observed: torch.Tensor
) -> torch.Tensor:
    """Write the dynamic columns of node_features' matrix `x` in place (static ones kept):
    δ where observed and 0 elsewhere, then the observed flag."""
    import torch

    x[:, 0] = torch.where(observed, delta, 0.0)
    x[:, 1] = observed
    return x
