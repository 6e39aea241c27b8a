"""Rolling-origin evaluation: many windows per run instead of one 100-zero window.

A run is trained once on 1..N. Window k has origin O_k = N + k·stride (stride 2H by default):
the zeros 1..O_k are observed inputs, as 1..N are in training (nothing is refitted), and the
predictor is scored on O_k+1..O_k+H (extrapolation) and O_k+H+1..O_k+2H (holdout). Window 0
is the study's own extrapolation and holdout. The holdout of every window is reported only:
nothing here, in the verdict or in the sweeps reads it to choose anything.

A result is the mean over windows and seeds with a bootstrap interval that resamples seeds and,
within each drawn seed, its windows: seeds are independent trainings, windows of one seed
share its model, so both levels of variation reach the interval. An interval needs at least
MIN_INTERVAL_VALUES (seed, window) values: from 2 windows of one baseline the percentile
"interval" is just the two values, so below that the reports print "n/a" with the count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.evaluation.scoring import prediction_errors
from zetalab.io import atomic_path, read_npz, rebuild_command

WINDOW_SPLITS = ("extrapolation", "holdout")
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_LEVEL = 0.95
# Fewer (seed, window) values than this give no interval ("n/a (k values)").
MIN_INTERVAL_VALUES = 5


def window_stride(horizon: int, stride: int | None) -> int:
    """Distance between consecutive origins; 2H (disjoint, adjacent windows) by default."""
    return 2 * horizon if stride is None else int(stride)


def window_origins(N: int, horizon: int, windows: int, stride: int | None = None) -> list[int]:
    """Origins N, N + stride, N + 2·stride, … (relative indices; the first is the study's)."""
    if windows < 1:
        raise ZetalabError(
            f"evaluation.windows = {windows}: at least the study's own window is scored",
            "use evaluation.windows ≥ 1",
        )
    step = window_stride(horizon, stride)
    if step < 1:
        raise ZetalabError(f"evaluation.stride = {stride} must be ≥ 1", "use e.g. 2·horizon")
    return [N + k * step for k in range(windows)]


def span(N: int, horizon: int, windows: int = 1, stride: int | None = None) -> int:
    """Nodes 1..span the graph, the zeros and every prediction cover: up to the last window."""
    return window_origins(N, horizon, windows, stride)[-1] + 2 * horizon


def window_indices(origin: int, horizon: int) -> dict[str, np.ndarray]:
    """1-based indices of a window's extrapolation and holdout blocks."""
    return {
        "extrapolation": np.arange(origin + 1, origin + horizon + 1, dtype=np.int64),
        "holdout": np.arange(origin + horizon + 1, origin + 2 * horizon + 1, dtype=np.int64),
    }


def window_observed(observable: np.ndarray, N: int, origin: int) -> np.ndarray:
    """The observed-input mask of a window: the training inputs, plus every zero N+1..origin."""
    mask = np.asarray(observable, dtype=bool).copy()
    mask[N:origin] = True
    return mask


def predict_windows(
    predict: Callable[[np.ndarray], np.ndarray],
    observable: np.ndarray,
    N: int,
    origins: Sequence[int],
    horizon: int,
) -> np.ndarray:
    """(K, 2H) predictions of O+1..O+2H for each origin, the model fixed (not retrained).

    `predict(observed)` returns δ̂ over nodes 1..span given the observed-input mask; window k
    observes the training inputs plus every zero N+1..O_k.
    """
    out = np.empty((len(origins), 2 * horizon), dtype=np.float64)
    for k, origin in enumerate(origins):
        pred = np.asarray(predict(window_observed(observable, N, origin)), dtype=np.float64)
        out[k] = pred[origin : origin + 2 * horizon]
    return out


def slice_windows(delta_pred: np.ndarray, origins: Sequence[int], horizon: int) -> np.ndarray:
    """(K, 2H) windows cut from one prediction over 1..span (a predictor that does not read
    the observed zeros after N, e.g. a baseline fitted once on train)."""
    return np.stack([np.asarray(delta_pred)[o : o + 2 * horizon] for o in origins])


def save_windows(path: str | Path, origins: Sequence[int], delta: np.ndarray) -> None:
    """windows.npz: `origins` (K,) and `delta` (K, 2H), written atomically."""
    origins = np.asarray(origins, dtype=np.int64)
    delta = np.asarray(delta, dtype=np.float64)
    if delta.ndim != 2 or len(delta) != len(origins) or delta.shape[1] % 2:
        raise ValueError("delta must be (len(origins), 2H)")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, origins=origins, delta=delta)


def load_windows(path: str | Path, origins: Sequence[int], horizon: int) -> np.ndarray:
    """The (K, 2H) window predictions of a run, checked against the expected origins."""
    data = read_npz(path, lambda d: {k: d[k] for k in ("origins", "delta")})
    if data["origins"].tolist() != list(origins) or data["delta"].shape != (
        len(origins),
        2 * horizon,
    ):
        raise ZetalabError(
            f"{path} holds windows at origins {data['origins'].tolist()} "
            f"({data['delta'].shape}), expected {list(origins)} with 2H = {2 * horizon}",
            rebuild_command(path),
        )
    return data["delta"]


def score_window(
    window_delta: np.ndarray,
    gammas: np.ndarray,
    spacing: np.ndarray,
    origin: int,
    horizon: int,
    first_index: int = 1,
) -> dict[str, Any]:
    """Errors of one window (heights and mean spacings) from its 2H predictions.

    `gammas`, `spacing` cover nodes 1..span; `first_index` is the absolute zero index of node
    1 (dataset.start): heights are recovered at the true index, so a window at 10^8 is scored
    where it is. Skill is against δ̂ = 0 on the same block.
    """
    window_delta = np.asarray(window_delta, dtype=np.float64)
    out: dict[str, Any] = {"origin": origin, "errors": {}}
    for split, idx in window_indices(origin, horizon).items():
        sl = idx - 1
        part = window_delta[idx - origin - 1]
        absolute = idx + first_index - 1
        model = prediction_errors(part, gammas[sl], absolute, spacing[sl])
        smooth = prediction_errors(np.zeros(len(idx)), gammas[sl], absolute, spacing[sl])
        skill = (
            1.0 - model["mse_height"] / smooth["mse_height"]
            if math.isfinite(model["mse_height"]) and smooth["mse_height"] > 0
            else math.nan
        )
        out["errors"][split] = {**model, "n": len(idx), "skill": skill}
    return out


def score_windows(
    windows: np.ndarray,
    gammas: np.ndarray,
    spacing: np.ndarray,
    origins: Sequence[int],
    horizon: int,
    first_index: int = 1,
) -> list[dict[str, Any]]:
    """score_window for each row of a (K, 2H) window-prediction array."""
    return [
        score_window(w, gammas, spacing, o, horizon, first_index)
        for w, o in zip(windows, origins, strict=True)
    ]


def bootstrap_interval(
    values: Mapping[Any, Sequence[float]],
    level: float = BOOTSTRAP_LEVEL,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> dict[str, float]:
    """Mean over all (seed, window) values and a percentile bootstrap interval at `level`.

    Each draw resamples the seeds with replacement and, within each drawn seed, its windows
    with replacement. One seed (a deterministic baseline) resamples windows only. Any
    non-finite value (a diverged run) makes the result NaN: it is not averaged away. With
    fewer than MIN_INTERVAL_VALUES values the mean is given and the interval is NaN.
    """
    groups = [np.asarray(v, dtype=np.float64) for v in values.values() if len(v)]
    count = sum(len(g) for g in groups)
    nan = {"mean": math.nan, "lo": math.nan, "hi": math.nan, "seeds": len(groups)}
    nan["values"] = count
    if not groups or any(not np.all(np.isfinite(g)) for g in groups):
        return nan
    mean = float(np.mean(np.concatenate(groups)))
    if count < MIN_INTERVAL_VALUES:
        return nan | {"mean": mean}
    rng = np.random.default_rng(seed)
    stats = np.empty(draws)
    for d in range(draws):
        picks = rng.integers(0, len(groups), len(groups))
        parts = [groups[i][rng.integers(0, len(groups[i]), len(groups[i]))] for i in picks]
        stats[d] = np.mean(np.concatenate(parts))
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(stats, [tail, 1.0 - tail])
    return {"mean": mean, "lo": float(lo), "hi": float(hi), "seeds": len(groups), "values": count}


def window_rows(
    name: str,
    kind: str,
    seed: int | None,
    evaluation: Mapping[str, Any],
    metric: str,
    window_kind: str | None = None,
) -> list[dict[str, Any]]:
    """One row per window of one evaluated predictor (the per-window table); with
    `window_kind`, only the windows of that kind (rolling or height-shift)."""
    rows = []
    for k, w in enumerate(evaluation.get("windows") or []):
        if window_kind is not None and w["kind"] != window_kind:
            continue
        row = {"name": name, "kind": kind, "seed": seed, "window": w.get("window", k)}
        row |= {key: w[key] for key in ("start", "origin", "height") if key in w}
        for split in WINDOW_SPLITS:
            value = w["errors"][split].get(metric)
            row[f"{split}_{metric}"] = math.nan if value is None else float(value)
        rows.append(row)
    return rows


def split_intervals(
    rows: Sequence[Mapping[str, Any]], metric: str, draws: int = BOOTSTRAP_DRAWS
) -> dict[str, dict[str, float]]:
    """Per split: the bootstrap interval of `metric` over the rows' seeds and their windows."""
    out = {}
    for split in WINDOW_SPLITS:
        per_seed: dict[Any, list[float]] = {}
        for r in rows:
            per_seed.setdefault(r["seed"], []).append(r[f"{split}_{metric}"])
        out[split] = bootstrap_interval(per_seed, draws=draws)
    return out


def summarise(
    rows: Sequence[Mapping[str, Any]], metric: str, draws: int = BOOTSTRAP_DRAWS
) -> list[dict[str, Any]]:
    """Per predictor: mean over seeds and windows with the bootstrap interval, both splits."""
    out = []
    names = list(dict.fromkeys(r["name"] for r in rows))
    for name in names:
        mine = [r for r in rows if r["name"] == name]
        summary = {"name": name, "kind": mine[0]["kind"]}
        for split, ci in split_intervals(mine, metric, draws).items():
            summary |= {f"{split}_{metric}_{k}": ci[k] for k in ("mean", "lo", "hi", "values")}
        summary["seeds"] = len({r["seed"] for r in mine})
        summary["windows"] = len({r["window"] for r in mine})
        out.append(summary)
    return sorted(out, key=lambda s: _sort_key(s[f"extrapolation_{metric}_mean"]))


def _sort_key(x: float) -> float:
    return x if math.isfinite(x) else math.inf


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "n/a" if not math.isfinite(x) else f"{x:.4g}"
    return "" if x is None else str(x)


def level_text(level: float = BOOTSTRAP_LEVEL) -> str:
    """ "95 %": the interval's level as every report prints it, from the one constant."""
    return f"{100 * level:g} %"


def interval_text(mean: float, lo: float, hi: float, values: int) -> str:
    """ "mean [lo, hi]", or "mean [n/a: k values]" where too few values give no interval."""
    if values < MIN_INTERVAL_VALUES and math.isfinite(mean):
        return f"{_fmt(mean)} [n/a: {values} value{'s' if values != 1 else ''}]"
    return f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]"


def windows_markdown(
    rows: Sequence[Mapping[str, Any]], summary: Sequence[Mapping[str, Any]], metric: str
) -> str:
    """The report: the summary with intervals first, then every window of every predictor."""
    level = level_text()
    lines = [
        f"# Rolling-origin evaluation ({metric})",
        "",
        f"Mean over seeds and windows, with a bootstrap {level} interval resampling seeds and "
        f"windows within a seed, given from {MIN_INTERVAL_VALUES} or more (seed, window) values "
        "(n/a with the count below that). Sorted by extrapolation; the holdout is reported only.",
        "",
        f"| predictor | kind | seeds | windows | extrapolation mean [{level} CI] "
        f"| holdout mean [{level} CI] |",
        "|---|---|---|---|---|---|",
    ]
    for s in summary:
        cells = [
            interval_text(*(s[f"{sp}_{metric}_{k}"] for k in ("mean", "lo", "hi", "values")))
            for sp in WINDOW_SPLITS
        ]
        lines.append(
            f"| {s['name']} | {s['kind']} | {s['seeds']} | {s['windows']} | {cells[0]} "
            f"| {cells[1]} |"
        )
    lines += [
        "",
        "## Every window",
        "",
        "| predictor | seed | window | origin | extrapolation | holdout |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {_fmt(r['seed'])} | {r['window']} | {r['origin']} | "
            f"{_fmt(r[f'extrapolation_{metric}'])} | {_fmt(r[f'holdout_{metric}'])} |"
        )
    return "\n".join(lines) + "\n"
