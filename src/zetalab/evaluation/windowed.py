"""The evaluate stage's window work: baselines on every evaluation window, and the scoring of
any predictor's windows.npz against the true zeros (zetalab.evaluation.protocol.Window).

On the rolling windows a baseline is not refitted, like the models (zetalab.learning.transfer):
its one fit on the study's train zeros, choices on the study's extrapolation block, predicts
every node through the last window. `ar`, the one baseline that reads past zeros, keeps its
coefficients but starts its forecast from each window's own observed past, as a model does.
On a height-shift window, far from any zero that fit saw, a baseline is fitted as the
baseline rule fits it, on that window's own N observed zeros, choices on that window's
extrapolation block, never on its holdout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.evaluation.baselines import Observed, observed_view
from zetalab.evaluation.htmlpage import markdown_page
from zetalab.evaluation.protocol import (
    ROLLING,
    SHIFT,
    Window,
    evaluation_windows,
    study_span,
    study_start,
    window_zeros,
    zero_ranges,
)
from zetalab.evaluation.windows import (
    MIN_INTERVAL_VALUES,
    WINDOW_SPLITS,
    interval_text,
    level_text,
    load_windows,
    score_window,
    split_intervals,
    summarise,
    window_rows,
    windows_markdown,
)
from zetalab.io import read_json, write_text_atomic
from zetalab.learning.dataset import Splits, ZeroData, load_zero_data, total_nodes
from zetalab.learning.paths import baseline_identity


def load_ranges(
    study: Mapping[str, Any], sources: Sequence[str | Path | ZeroData]
) -> list[ZeroData]:
    """The zeros of each range of zero_ranges(study), one aggregate each (same order); zeros
    already loaded (ZeroData covering the windows) are used as they are."""
    if sources and all(isinstance(z, ZeroData) for z in sources):
        return list(sources)  # type: ignore[arg-type]
    ds = study["dataset"]
    ranges = zero_ranges(study)
    if len(sources) < len(ranges):
        raise ZetalabError(
            f"{len(sources)} zeros files for the {len(ranges)} ranges {ranges}",
            "pass one aggregate per range (zetalab.evaluation.workflow)",
        )
    return [
        load_zero_data(path, ds["N"], ds["horizon"], first, count)
        for path, (first, count) in zip(sources, ranges, strict=False)
    ]


def _window_data(start: int, total: int, loaded: Sequence[ZeroData]) -> ZeroData:
    return window_zeros(Window(ROLLING, start), total, loaded)


def span_view(
    observed: Observed, study: Mapping[str, Any], zeros: str | Path | ZeroData
) -> Observed:
    """The study's Observed (train zeros to fit, extrapolation block to choose) with the smooth
    heights of every node through the last rolling window: one fit predicts them all."""
    ds = study["dataset"]
    if isinstance(zeros, ZeroData):
        data = zeros.window(study_start(study) - zeros.first_index, study_span(study))
    else:
        count = study_span(study)
        data = load_zero_data(zeros, ds["N"], ds["horizon"], study_start(study), count)
    return replace(observed, smooth_heights=data.smooth_heights.copy())


def baseline_windows(
    study: Mapping[str, Any],
    sources: Sequence[str | Path | ZeroData],
    splits: Splits,
    span_pred: np.ndarray,
    refit: Callable[[Observed], np.ndarray],
    forecast: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[list[int], np.ndarray]:
    """Origins and (W, 2H) δ̂ of a baseline on every window of the study.

    Rolling windows are cut from `span_pred`, the one fit on the study's train zeros that
    predicts every node through the last window (not refitted, like the models); with
    `forecast` (the fitted `ar`), the 2H values forecast from the true δ of every zero before
    the window's origin instead. A height-shift window is far from any zero the fit saw, so
    there the baseline is fitted as the baseline rule fits it, on that window's own N
    observed zeros (`refit`).
    """
    ds = study["dataset"]
    N, H = int(ds["N"]), int(ds["horizon"])
    total = total_nodes(N, H)
    windows = evaluation_windows(study)
    shifted = [w for w in windows if w.kind == SHIFT]
    loaded = load_ranges(study, sources) if shifted or forecast is not None else []
    out = np.empty((len(windows), 2 * H))
    for i, window in enumerate(windows):
        if window.kind == ROLLING:
            origin = window.start - study_start(study) + N
            if forecast is None:
                out[i] = np.asarray(span_pred)[origin : origin + 2 * H]
            else:
                past = _window_data(study_start(study), origin, loaded).delta
                out[i] = forecast(past)
        else:
            data = _window_data(window.start, total, loaded)
            out[i] = np.asarray(refit(observed_view(data, splits)))[N:total]
    return [w.origin(N) for w in windows], out


def score_study_windows(
    study: Mapping[str, Any], sources: Sequence[str | Path], windows_path: str | Path
) -> list[dict[str, Any]]:
    """Every window of windows.npz scored: kind, start, absolute origin, errors per block."""
    ds = study["dataset"]
    N, H = int(ds["N"]), int(ds["horizon"])
    total = total_nodes(N, H)
    windows = evaluation_windows(study)
    delta = load_windows(windows_path, [w.origin(N) for w in windows], H)
    loaded = load_ranges(study, sources)
    out = []
    for k, (window, pred) in enumerate(zip(windows, delta, strict=True)):
        data = _window_data(window.start, total, loaded)
        scored = score_window(pred, data.gammas, data.spacing, N, H, data.first_index)
        out.append(
            {
                "window": k,
                "kind": window.kind,
                "start": window.start,
                "origin": window.origin(N),
                "height": float(data.gammas[N]),
                "errors": scored["errors"],
            }
        )
    return out


def _rows(
    runs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    baselines: Mapping[str, Mapping[str, Any]],
    metric: str,
    kind: str,
) -> list[dict[str, Any]]:
    """One row per (predictor, seed, window of `kind`) from evaluation.json contents."""
    sources = [(str(m["variant"]), "model", int(m["seed"]), e) for m, e in runs]
    for instance, evaluation in baselines.items():
        name, seed = baseline_identity(instance)  # "mlp/seed1": the mlp of seed 1
        sources.append((name, "baseline", seed, evaluation))
    return [
        row
        for name, what, seed, evaluation in sources
        for row in window_rows(name, what, seed, evaluation, metric, window_kind=kind)
    ]


def windows_report(
    runs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    baselines: Mapping[str, Mapping[str, Any]],
    metric: str,
    draws: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Rolling windows: every window's row, the per-predictor summary with its bootstrap
    interval, and the markdown report."""
    rows = _rows(runs, baselines, metric, ROLLING)
    summary = summarise(rows, metric, draws)
    return rows, summary, windows_markdown(rows, summary, metric)


def height_shift_report(
    runs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    baselines: Mapping[str, Mapping[str, Any]],
    metric: str,
    draws: int,
) -> tuple[list[dict[str, Any]], str]:
    """Per predictor and height: the training height (the rolling windows) and each shift
    window, mean over seeds with a bootstrap interval over seeds (and windows at the training
    height); errors in `metric` (mean spacings compare across heights)."""
    table = []
    for kind in (ROLLING, SHIFT):
        rows = _rows(runs, baselines, metric, kind)
        groups: dict[tuple[str, int | None], list[dict[str, Any]]] = {}
        for r in rows:
            key = (r["name"], None if kind == ROLLING else r["start"])
            groups.setdefault(key, []).append(r)
        for (name, start), members in groups.items():
            entry = {
                "name": name,
                "kind": members[0]["kind"],
                "where": "training height" if start is None else f"zero {start:,}",
                "height": float(np.mean([m["height"] for m in members])),
                "seeds": len({m["seed"] for m in members}),
            }
            for split, ci in split_intervals(members, metric, draws).items():
                entry |= {f"{split}_{k}": ci[k] for k in ("mean", "lo", "hi", "values")}
            table.append(entry)
    level = level_text()
    lines = [
        f"# Height shift ({metric})",
        "",
        "Models trained near one height (not retrained) and baselines (refitted on each shifted "
        f"window's own observed zeros) scored on windows at other heights; mean over seeds with "
        f"a bootstrap {level} interval, given from {MIN_INTERVAL_VALUES} or more values (n/a "
        "with the count below that). The holdout is reported only.",
        "",
        f"| predictor | kind | where | mean height | seeds | extrapolation [{level} CI] "
        f"| holdout [{level} CI] |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in sorted(table, key=lambda t: (t["name"], t["height"])):
        cells = [
            interval_text(*(t[f"{sp}_{k}"] for k in ("mean", "lo", "hi", "values")))
            for sp in WINDOW_SPLITS
        ]
        lines.append(
            f"| {t['name']} | {t['kind']} | {t['where']} | {t['height']:.6g} | {t['seeds']} "
            f"| {cells[0]} | {cells[1]} |"
        )
    return table, "\n".join(lines) + "\n"


def _read_all(
    run_metrics: Sequence[str],
    run_evaluations: Sequence[str],
    baseline_names: Sequence[str],
    baseline_evaluations: Sequence[str],
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], dict[str, dict[str, Any]]]:
    runs = [(read_json(m), read_json(e)) for m, e in zip(run_metrics, run_evaluations, strict=True)]
    bases = {n: read_json(e) for n, e in zip(baseline_names, baseline_evaluations, strict=True)}
    return runs, bases


def _csv(rows: Sequence[Mapping[str, Any]]) -> str:
    import pandas as pd

    return pd.DataFrame(list(rows)).to_csv(index=False, float_format="%.6g")


def windows_report_job(
    run_metrics: Sequence[str],
    run_evaluations: Sequence[str],
    baseline_names: Sequence[str],
    baseline_evaluations: Sequence[str],
    evaluation: Mapping[str, Any],
    csv_path: str | Path,
    md_path: str | Path,
    html_path: str | Path,
) -> list[dict[str, Any]]:
    """results/windows.{csv,md,html}: every rolling window, and the mean with its interval."""
    runs, bases = _read_all(run_metrics, run_evaluations, baseline_names, baseline_evaluations)
    metric = evaluation["metric"]
    rows, summary, markdown = windows_report(runs, bases, metric, evaluation["bootstrap_draws"])
    write_text_atomic(csv_path, _csv([{"row": "window", **r} for r in rows]
                                     + [{"row": "mean", **s} for s in summary]))  # fmt: skip
    write_text_atomic(md_path, markdown)
    write_text_atomic(html_path, markdown_page("Rolling-origin evaluation", markdown))
    return summary


def height_shift_job(
    run_metrics: Sequence[str],
    run_evaluations: Sequence[str],
    baseline_names: Sequence[str],
    baseline_evaluations: Sequence[str],
    evaluation: Mapping[str, Any],
    csv_path: str | Path,
    md_path: str | Path,
) -> list[dict[str, Any]]:
    """results/height_shift.{csv,md}: each predictor at its training height and at the others."""
    runs, bases = _read_all(run_metrics, run_evaluations, baseline_names, baseline_evaluations)
    table, markdown = height_shift_report(
        runs, bases, evaluation["metric"], evaluation["bootstrap_draws"]
    )
    write_text_atomic(csv_path, _csv(table))
    write_text_atomic(md_path, markdown)
    return table
