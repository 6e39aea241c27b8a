"""File-level glue of the evaluate stage: read the workflow's files, call the pure functions
of baselines / evaluation / leaderboard / verdict / plots, write outputs atomically.

The scripts under scripts/ call one function each; tests call them directly.
"""

from __future__ import annotations

import logging
import math
import resource
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zetalab.errors import ZetalabError
from zetalab.evaluation import leaderboard as lb
from zetalab.evaluation.baselines import (
    BaselineResult,
    Observed,
    ar_history_forecast,
    observed_view,
    run_baseline,
)
from zetalab.evaluation.convergence import Training
from zetalab.evaluation.htmlpage import markdown_page
from zetalab.evaluation.metrics import evaluate_predictions, split_indices, window_spacings
from zetalab.evaluation.predictions import load_predictions, save_predictions
from zetalab.evaluation.verdict import RunResult, ab_verdict, verdict_markdown
from zetalab.evaluation.windowed import baseline_windows, score_study_windows, span_view
from zetalab.evaluation.windows import save_windows
from zetalab.io import json_safe, read_json, write_json_atomic, write_text_atomic
from zetalab.learning.dataset import Splits, ZeroData, load_zero_data, make_splits
from zetalab.learning.explicit import load_estimate_table
from zetalab.learning.features import feature_spec
from zetalab.learning.paths import baseline_identity
from zetalab.unfold import heights_from_deltas

log = logging.getLogger("zetalab.evaluate")


def dataset_setup(zeros_path: str | Path, dataset: Mapping[str, Any]) -> tuple[ZeroData, Splits]:
    """Zeros of nodes 1..N+2H (from dataset.start) and the splits of a dataset config section
    (same for models and baselines)."""
    N, H = int(dataset["N"]), int(dataset["horizon"])
    data = load_zero_data(zeros_path, N, H, int(dataset.get("start", 1)))
    splits = make_splits(N, H, float(dataset["validation_fraction"]), int(dataset["split_seed"]))
    return data, splits


def _peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def baseline_job(
    name: str,
    zeros_path: str | Path,
    dataset: Mapping[str, Any],
    params: Mapping[str, Any],
    predictions_path: str | Path,
    info_path: str | Path,
    model: Mapping[str, Any] | None = None,
    graph: Mapping[str, Any] | None = None,
    evaluation: Mapping[str, Any] | None = None,
    window_zeros: Sequence[str | Path] | None = None,
    windows_path: str | Path | None = None,
    estimate_path: str | Path | None = None,
) -> dict[str, Any]:
    """Fit one baseline instance on train only (choices on extrapolation) and write its
    predictions for nodes 1..N+2H.

    `name` is a baseline or "<form>/seed<k>" of a seeded one (zetalab.learning.paths).
    `model` and `graph` (config sections) give `linear` and the mlps the GNN's own features;
    `estimate_path` (results/explicit_formula/estimate.npz) is the explicit-formula selection:
    prime_sum's setting and values, and the learners' estimate column. With `windows_path`,
    the baseline also predicts every evaluation window of `evaluation`
    (zetalab.evaluation.windowed: the same fit through the rolling windows, a fit on each
    height-shift window's own observed zeros)."""
    t0 = time.perf_counter()
    base_name, seed = baseline_identity(name)
    data, splits = dataset_setup(zeros_path, dataset)
    observed = observed_view(data, splits)
    study = {"dataset": dict(dataset), "evaluation": dict(evaluation or {})}
    if windows_path is not None:
        observed = span_view(observed, study, zeros_path)
    log.info("baseline %s: N=%d, horizon=%d, fitting on train only", name, splits.N, splits.horizon)
    table, selection = load_estimate_table(estimate_path) if estimate_path else (None, None)
    spec = feature_spec(model, graph["primes"], table) if model is not None and graph else None

    def fit(obs: Observed) -> BaselineResult:
        return run_baseline(base_name, obs, params, spec, model, seed or 0)

    if base_name == "prime_sum" and table is not None:
        nodes = np.arange(observed.first_index, observed.first_index + observed.total)
        result = BaselineResult(table.values_at(nodes), dict(selection or {}))
    else:
        result = fit(observed)
    if windows_path is not None:
        sources = list(window_zeros) if window_zeros is not None else [zeros_path]
        origins, delta = baseline_windows(
            study, sources, splits, result.delta_pred,
            lambda obs: fit(obs).delta_pred,
            ar_history_forecast(result.info, 2 * splits.horizon) if name == "ar" else None,
        )  # fmt: skip
        save_windows(windows_path, origins, delta)
    elapsed = time.perf_counter() - t0
    info = {
        "status": "completed",
        "N": splits.N,
        "horizon": splits.horizon,
        "params": dict(params.get(base_name.removesuffix("_fit").removesuffix("-residual"), {}))
        if base_name != "smooth"
        else {},
        **result.info,
        "name": base_name,
        "seed": seed,
        "wall_time_s": elapsed,
        "peak_rss_bytes": _peak_rss_bytes(),
    }
    save_predictions(
        predictions_path,
        np.arange(1, splits.total + 1),
        result.delta_pred[: splits.total],
        name,
        "baseline",
    )
    write_json_atomic(info_path, json_safe(info))
    log.info(
        "baseline %s done in %.2fs: %s",
        name,
        elapsed,
        {k: v for k, v in info.items() if k not in ("coef", "selection")},
    )
    return info


def evaluate_job(
    predictions_path: str | Path,
    zeros_path: str | Path,
    dataset: Mapping[str, Any],
    output_path: str | Path,
    metrics_path: str | Path | None = None,
    evaluation: Mapping[str, Any] | None = None,
    windows_path: str | Path | None = None,
    window_zeros: Sequence[str | Path] | None = None,
) -> dict[str, Any]:
    """Score one predictions file; a run's own resolved dataset section wins over `dataset`.

    With `windows_path` the result also lists every evaluation window (rolling origins, then
    height-shift windows) with its extrapolation and holdout errors (`windows`).
    """
    meta: dict[str, Any] = {}
    if metrics_path is not None:
        metrics = read_json(metrics_path)
        own = metrics.get("config") or {}
        dataset = {**dataset, **own.get("dataset", {})}
        evaluation = {**(evaluation or {}), **own.get("evaluation", {})}
        meta = {k: metrics.get(k) for k in ("cfg", "variant", "seed", "status")}
    data, splits = dataset_setup(zeros_path, dataset)
    pred = load_predictions(predictions_path, splits.total)
    result = {
        "name": pred["name"],
        "kind": pred["kind"],
        **meta,
        **evaluate_predictions(pred["delta_pred"], data, splits),
    }
    if windows_path is not None:
        study = {"dataset": dict(dataset), "evaluation": dict(evaluation or {})}
        sources = list(window_zeros) if window_zeros is not None else [zeros_path]
        result["windows"] = score_study_windows(study, sources, windows_path)
    write_json_atomic(output_path, json_safe(result))
    ext = result["errors"]["extrapolation"]
    log.info(
        "%s: extrapolation RMSE %.4f spacings, skill %.3f",
        pred["name"],
        ext["rmse_spacing"],
        ext["skill"],
    )
    return result


def _load_json(path: str | Path, what: str) -> dict[str, Any]:
    if not Path(path).exists():
        raise ZetalabError(f"{what} {path} is missing", "rerun the rule that writes it")
    return read_json(path)


def leaderboard_job(
    run_metrics: Sequence[str],
    run_evaluations: Sequence[str],
    baseline_names: Sequence[str],
    baseline_infos: Sequence[str],
    baseline_evaluations: Sequence[str],
    csv_path: str | Path,
    md_path: str | Path,
    html_path: str | Path,
) -> pd.DataFrame:
    """One row per run and per baseline; CSV (all columns), markdown and HTML with a summary."""
    rows = [
        lb.run_row(_load_json(m, "run metrics"), _load_json(e, "evaluation"))
        for m, e in zip(run_metrics, run_evaluations, strict=True)
    ]
    rows += [
        lb.baseline_row(n, _load_json(i, "baseline fit info"), _load_json(e, "evaluation"))
        for n, i, e in zip(baseline_names, baseline_infos, baseline_evaluations, strict=True)
    ]
    df = lb.build_table(rows)
    summary = lb.summary_lines(df)
    write_text_atomic(csv_path, df.to_csv(index=False, float_format="%.6g"))
    write_text_atomic(md_path, lb.to_markdown(df, summary))
    write_text_atomic(html_path, lb.to_html(df, summary))
    for line in summary:
        log.info("%s", line)
    return df


def _metric(evaluation: Mapping[str, Any], split: str, metric: str) -> float:
    value = evaluation["errors"][split].get(metric)
    return math.nan if value is None else float(value)


def _window_metrics(evaluation: Mapping[str, Any], split: str, metric: str) -> list[float]:
    """The metric on each rolling-origin window (height-shift windows answer another question),
    or on the study's one window."""
    windows = [w for w in evaluation.get("windows") or [] if w.get("kind") == "rolling"]
    windows = windows or [evaluation]
    return [_metric(w, split, metric) for w in windows]


def verdict_job(
    run_metrics: Sequence[str],
    run_evaluations: Sequence[str],
    ab: Mapping[str, Any],
    json_path: str | Path,
    md_path: str | Path,
    html_path: str | Path | None = None,
) -> dict[str, Any]:
    """The A/B verdict from the runs' files (see zetalab.evaluation.verdict); each run's
    convergence record is read from its metrics.json (zetalab.evaluation.convergence)."""
    runs = []
    for m, e in zip(run_metrics, run_evaluations, strict=True):
        metrics, evaluation = _load_json(m, "run metrics"), _load_json(e, "evaluation")
        runs.append(
            RunResult.over_windows(
                variant=str(metrics["variant"]),
                seed=int(metrics["seed"]),
                status=str(metrics.get("status", "unknown")),
                extrapolation=_window_metrics(evaluation, "extrapolation", ab["metric"]),
                holdout=_window_metrics(evaluation, "holdout", ab["metric"]),
                training=Training.from_metrics(metrics),
            )
        )
    verdict = ab_verdict(
        runs,
        team1=ab["team1"],
        team2=ab["team2"],
        ablation=ab["ablation"],
        alpha=float(ab["alpha"]),
        metric=ab["metric"],
        margin=float(ab["margin"]),
    )
    write_json_atomic(json_path, json_safe(verdict))
    markdown = verdict_markdown(verdict)
    write_text_atomic(md_path, markdown)
    if html_path is not None:
        write_text_atomic(html_path, markdown_page(f"A/B verdict: {verdict['scenario']}", markdown))
    log.info("%s: %s", verdict["scenario"], verdict["reason"])
    return verdict


# --------------------------------------------------------------------------- plots


RunKey = tuple[str, int]  # (variant, seed) of an A/B run, as the rule lists them


def run_label(run: RunKey) -> str:
    """'variant seedK': a run's name in plot legends."""
    return f"{run[0]} seed{run[1]}"


def plot_loss_job(
    histories: Mapping[RunKey, str], baseline_evaluations: Mapping[str, str], path: str | Path
) -> None:
    from zetalab.evaluation import plots

    frames = {}
    for run, h in histories.items():
        if not Path(h).exists():
            raise ZetalabError(f"training history {h} is missing", "rerun its train job")
        frames[run_label(run)] = pd.read_csv(h)
    lines = {
        name: _metric(_load_json(e, "evaluation"), "extrapolation", "rmse_spacing")
        for name, e in baseline_evaluations.items()
    }
    plots.loss_curves(frames, path, lines)


def plot_predictions_job(
    zeros_path: str | Path,
    dataset: Mapping[str, Any],
    run_predictions: Mapping[RunKey, str],
    baseline_predictions: Mapping[str, str],
    horizon_path: str | Path,
    spacing_path: str | Path,
) -> None:
    """Predicted vs true zeros over the horizon, and spacing histograms against GUE."""
    from zetalab.evaluation import plots

    data, splits = dataset_setup(zeros_path, dataset)
    horizon = split_indices(splits, "horizon")
    sl = horizon - 1
    runs = {
        run: load_predictions(p, splits.total)["delta_pred"] for run, p in run_predictions.items()
    }
    bases = {
        name: load_predictions(p, splits.total)["delta_pred"]
        for name, p in baseline_predictions.items()
    }
    first_seeds: dict[str, RunKey] = {}
    for run in runs:
        first_seeds.setdefault(run[0], run)
    shown = {run_label(run): runs[run] for run in first_seeds.values()}
    shown |= bases
    plots.horizon_predictions(
        data.delta[sl],
        {k: v[sl] for k, v in shown.items()},
        horizon,
        splits.N + splits.horizon,
        data.spacing[sl],
        data.gammas[sl],
        {k: heights_from_deltas(v[sl], data.absolute(horizon)) for k, v in shown.items()},
        horizon_path,
    )
    spacings = {
        "true zeros, train": window_spacings(data.delta, splits.train),
        "true zeros, horizon": window_spacings(data.delta, horizon),
    }
    variants: dict[str, list[np.ndarray]] = {}
    for (variant, _), pred in runs.items():
        variants.setdefault(variant, []).append(window_spacings(pred, horizon))
    for variant, parts in variants.items():
        spacings[f"{variant}, horizon ({len(parts)} seeds)"] = np.concatenate(parts)
    for name, pred in bases.items():
        spacings[f"{name}, horizon"] = window_spacings(pred, horizon)
    plots.spacing_histograms(spacings, spacing_path)


def plot_variance_job(
    run_evaluations: Mapping[RunKey, str], baseline_evaluations: Mapping[str, str], path: str | Path
) -> None:
    """v(L) on the train window and on the horizon, truth vs every predictor."""
    from zetalab.evaluation import plots

    evaluations = {run_label(r): _load_json(e, "evaluation") for r, e in run_evaluations.items()}
    evaluations |= {n: _load_json(e, "evaluation") for n, e in baseline_evaluations.items()}
    panels: dict[str, dict[str, dict[str, list]]] = {}
    for window, title in (("train", "train window 1..N"), ("horizon", "extrapolation + holdout")):
        curves: dict[str, dict[str, list]] = {}
        for label, ev in evaluations.items():
            curve = ev["variance_curves"][window]
            if not curves:
                curves["true zeros"] = {"L": curve["L"], "v": _nan_list(curve["true"])}
            curves[label] = {"L": curve["L"], "v": _nan_list(curve["pred"])}
        panels[title] = curves
    plots.variance_curves(panels, path)


def _nan_list(values: Sequence[Any]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def plot_verdict_job(
    verdict_path: str | Path, baseline_evaluations: Mapping[str, str], path: str | Path
) -> None:
    from zetalab.evaluation import plots

    verdict = _load_json(verdict_path, "A/B verdict")
    lines = {
        split: {
            name: _metric(_load_json(e, "evaluation"), split, verdict["metric"])
            for name, e in baseline_evaluations.items()
        }
        for split in ("extrapolation", "holdout")
    }
    plots.ab_verdict_plot(_restore_nans(verdict), lines, path)


def _restore_nans(obj: Any) -> Any:
    if obj is None:
        return math.nan
    if isinstance(obj, dict):
        return {k: _restore_nans(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore_nans(v) for v in obj]
    return obj
