"""The leaderboard: one row per training run and per baseline, scored the same way.

Rows are sorted by the extrapolation error (the seeds' objective), never by the holdout, and
baselines sit among the models in the same units (height and mean spacings), so a reader sees
at once whether a GNN does better than the explicit formula with no learning at all.

The headline compares every model with the strongest baseline, the one with the lowest
extrapolation error (the window every choice is made on), and reports the holdout beside it.
The `graph_adds_*` columns say what message passing adds, like for like: the RMSE of the mlp
of the model's own form (plain `mlp`, or `mlp-residual` for a residual model) and seed, on the
same features without the graph, minus the model's (positive = the graph helps).
The summary sentences are generated from the numbers and claim nothing the numbers lack.

Convergence: `converged` says whether a run stopped because its extrapolation score had
stopped improving (true) or at train.max_epochs (false; a metrics.json that does not record
it counts as false, zetalab.evaluation.convergence), beside its best and kept epochs and the
epochs it ran. A comparison involving an unconverged run measures training speed, not the
design: the table marks such runs ("no (hit max_epochs)") and the summary says so. Baselines
that do not train leave these cells empty; a trained baseline (`mlp`) fills them when its
fit_info.json records `converged`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from zetalab.evaluation.convergence import FAILURES, Training, converged_label, why_not
from zetalab.learning.paths import baseline_identity

COLUMNS = (
    "name",
    "kind",
    "form",
    "cfg",
    "seed",
    "N",
    "horizon",
    "status",
    "converged",
    "stop_reason",
    "best_epoch",
    "kept_epoch",
    "epochs_run",
    "extrapolation_mse_height",
    "extrapolation_mae_height",
    "extrapolation_rmse_spacing",
    "extrapolation_skill",
    "holdout_mse_height",
    "holdout_mae_height",
    "holdout_rmse_spacing",
    "holdout_skill",
    "validation_rmse_spacing",
    "graph_adds_extrapolation_rmse",
    "graph_adds_holdout_rmse",
    "ks_gue_horizon",
    "ks_gue_true_horizon",
    "wall_time_s",
    "peak_mem_mb",
    "device",
    "at_grid_edge",
)
# Columns of the compact markdown/HTML table (the CSV has them all).
SHOWN = (
    "name",
    "kind",
    "seed",
    "N",
    "status",
    "converged",
    "kept_epoch",
    "epochs_run",
    "extrapolation_mse_height",
    "extrapolation_rmse_spacing",
    "extrapolation_skill",
    "holdout_mse_height",
    "holdout_rmse_spacing",
    "holdout_skill",
    "graph_adds_holdout_rmse",
    "ks_gue_horizon",
    "ks_gue_true_horizon",
    "wall_time_s",
    "peak_mem_mb",
)
# The graph-free learner on the GNN's own features, by the model's form: GNN − this is what
# the graph adds (zetalab.learning.paths.SEEDED_BASELINES).
GRAPH_FREE_BASELINE = {False: "mlp", True: "mlp-residual"}


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


def _scores(evaluation: Mapping[str, Any]) -> dict[str, Any]:
    err = evaluation["errors"]
    row: dict[str, Any] = {"N": evaluation["N"], "horizon": evaluation["horizon"]}
    for split in ("extrapolation", "holdout"):
        for key in ("mse_height", "mae_height", "rmse_spacing", "skill"):
            row[f"{split}_{key}"] = _num(err[split].get(key))
    row["validation_rmse_spacing"] = _num(err["validation"].get("rmse_spacing"))
    horizon = evaluation["spacings"]["horizon"]
    row["ks_gue_horizon"] = _num(horizon.get("ks_gue"))
    row["ks_gue_true_horizon"] = _num(horizon.get("ks_gue_true"))
    return row


def _training(record: Mapping[str, Any], trains: bool) -> dict[str, Any]:
    """The convergence cells of a row; `trains`: a run, whose missing record reads as not
    converged, rather than a baseline, whose missing record leaves the cells empty."""
    if not trains and record.get("converged") is None:
        return {}
    training = Training.from_metrics(record)
    return {
        "converged": training.converged,
        "stop_reason": training.stop_reason,
        "best_epoch": training.best_epoch,
        "kept_epoch": training.kept_epoch,
        "epochs_run": training.epochs_run,
    }


def run_row(metrics: Mapping[str, Any], evaluation: Mapping[str, Any]) -> dict[str, Any]:
    """A training run: metrics.json (status, convergence, cost) + evaluation.json (scores)."""
    peak = metrics.get("peak_mem_bytes")
    residual = bool((metrics.get("config") or {}).get("model", {}).get("residual", False))
    return {
        "name": metrics.get("variant", "?"),
        "kind": "model",
        "form": "residual" if residual else "plain",
        "cfg": metrics.get("cfg", ""),
        "seed": metrics.get("seed"),
        "status": metrics.get("status", "unknown"),
        **_training(metrics, trains=True),
        **_scores(evaluation),
        "wall_time_s": _num(metrics.get("wall_time_s")),
        "peak_mem_mb": _num(peak) / 2**20 if peak is not None else math.nan,
        "device": metrics.get("device", ""),
    }


def baseline_row(
    name: str, fit_info: Mapping[str, Any], evaluation: Mapping[str, Any]
) -> dict[str, Any]:
    """A baseline instance ("ar", "mlp/seed1"): fit_info.json (cost; convergence where it
    records it) + evaluation.json (scores)."""
    peak = fit_info.get("peak_rss_bytes")
    base, seed = baseline_identity(name)
    return {
        "name": base,
        "kind": "baseline",
        "form": "residual" if fit_info.get("residual_on_estimate") else "plain",
        # searched settings whose winner is still the end of their grid (a cost cap)
        "at_grid_edge": ", ".join(k for k, v in (fit_info.get("at_grid_edge") or {}).items() if v),
        "cfg": "",
        "seed": seed,
        "status": fit_info.get("status", "completed"),
        **_training(fit_info, trains=False),
        **_scores(evaluation),
        "wall_time_s": _num(fit_info.get("wall_time_s")),
        "peak_mem_mb": _num(peak) / 2**20 if peak is not None else math.nan,
        "device": "cpu",
    }


def build_table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows in COLUMNS order, sorted by extrapolation error (NaN, e.g. diverged, last)."""
    df = pd.DataFrame([{c: row.get(c) for c in COLUMNS} for row in rows], columns=list(COLUMNS))
    for column in ("seed", "best_epoch", "kept_epoch", "epochs_run"):
        df[column] = df[column].astype("Int64")
    df["converged"] = df["converged"].astype("boolean")
    models = (df["kind"] == "model").to_numpy()
    # A run that does not record convergence did not show it (unknown ⇒ not converged).
    df.loc[models & df["converged"].isna().to_numpy(), "converged"] = False
    for split in ("extrapolation", "holdout"):
        df[f"graph_adds_{split}_rmse"] = [
            _graph_adds(df, row, split) if row["kind"] == "model" else math.nan
            for _, row in df.iterrows()
        ]
    return df.sort_values(
        ["extrapolation_mse_height", "kind", "name", "seed"], na_position="last", kind="stable"
    ).reset_index(drop=True)


def _graph_adds(df: pd.DataFrame, row: pd.Series, split: str) -> float:
    """The RMSE of the mlp of the model's form and seed (the mean over its seeds when that
    seed is missing) minus the model's: what message passing adds, like for like."""
    free = df[
        (df["kind"] == "baseline") & (df["name"] == GRAPH_FREE_BASELINE[row["form"] == "residual"])
    ]
    column = f"{split}_rmse_spacing"
    same_seed = free[free["seed"] == row["seed"]]
    reference = (same_seed if not same_seed.empty else free)[column].astype(float)
    if reference.empty:
        return math.nan
    return float(reference.mean()) - float(row[column])


def strongest_baseline(df: pd.DataFrame) -> pd.Series | None:
    """The baseline with the lowest extrapolation error (never chosen on the holdout); a
    seeded one (the mlps) by its mean over seeds, as the models are compared."""
    base = df[(df["kind"] == "baseline") & df["extrapolation_mse_height"].notna()]
    if base.empty:
        return None
    scores = [c for c in COLUMNS if c.startswith(("extrapolation_", "holdout_"))]
    means = base.groupby("name", sort=True)[scores].mean()
    best = means["extrapolation_mse_height"].astype(float).idxmin()
    return pd.Series({"name": best, **means.loc[best].to_dict()})


def summary_lines(df: pd.DataFrame) -> list[str]:
    """Plain statements from the numbers: does a GNN beat the strongest baseline?"""
    lines: list[str] = []
    models = df[df["kind"] == "model"]
    ok = models[~models["status"].isin(FAILURES)]
    failed = models[models["status"].isin(FAILURES)]
    unconverged = ok[ok["converged"].eq(False)]
    if models.empty:
        return ["No training runs are in this table; only baselines."]
    ref = strongest_baseline(df)
    if ref is None:
        lines.append("No baseline is in this table, so no comparison with one.")
    else:
        ref_ext, ref_hold = float(ref["extrapolation_mse_height"]), float(ref["holdout_mse_height"])
        lines.append(
            f"Strongest baseline on the extrapolation window: {ref['name']} (RMSE "
            f"{float(ref['extrapolation_rmse_spacing']):.4f} mean spacings; holdout "
            f"{float(ref['holdout_rmse_spacing']):.4f}, reported only)."
        )
    beats_ext, beats_hold = [], []
    for variant, group in ok.groupby("name", sort=True):
        ext = group["extrapolation_mse_height"].to_numpy(dtype=float)
        hold = group["holdout_mse_height"].to_numpy(dtype=float)
        text = (
            f"{variant}: RMSE {np.nanmean(group['extrapolation_rmse_spacing'].astype(float)):.4f}"
            f" extrapolation / {np.nanmean(group['holdout_rmse_spacing'].astype(float)):.4f} "
            f"holdout mean spacings (mean over {len(group)} seed(s)), skill vs smooth "
            f"{np.nanmean(group['holdout_skill'].astype(float)):+.3f} on the holdout"
        )
        if ref is not None:
            text += (
                f"; below {ref['name']} in {int(np.sum(ext < ref_ext))} of {len(group)} seed(s) "
                f"on extrapolation, {int(np.sum(hold < ref_hold))} on the holdout"
            )
            if np.nanmean(ext) < ref_ext:
                beats_ext.append(variant)
            if np.nanmean(hold) < ref_hold:
                beats_hold.append(variant)
        late = int(group["converged"].eq(False).sum())
        if late:
            text += (
                f"; {late} of {len(group)} run(s) did not converge, so its comparisons measure "
                "training speed, not the design"
            )
        gain = group["graph_adds_holdout_rmse"].astype(float)
        if gain.notna().any():
            free = GRAPH_FREE_BASELINE[group["form"].iloc[0] == "residual"]
            text += (
                f"; the graph adds {np.nanmean(gain):+.4f} mean spacings of holdout RMSE "
                f"over {free} (same form, seeds and features, no graph)"
            )
            if _graph_free_unconverged(df, free):
                text += (
                    f", but {free} did not converge: that difference measures "
                    "training speed, not the design"
                )
        lines.append(text + ".")
    for status, group in failed.groupby("status", sort=True):
        lines.append(
            f"{str(status).capitalize()} runs: "
            + ", ".join(f"{r.name} seed {r.seed}" for r in group.itertuples())
            + "."
        )
    for row in df[(df["kind"] == "baseline") & (df["at_grid_edge"].fillna("") != "")].itertuples():
        lines.append(
            f"Baseline {row.name}: {row.at_grid_edge} ended on the edge of its searched grid "
            "(a cost cap; its error may still fall beyond it, docs/results.md)."
        )
    if ref is not None:
        hold_note = (
            f"on the holdout (reported only) {', '.join(beats_hold)} "
            f"{'is' if len(beats_hold) == 1 else 'are'} below it too"
            if beats_hold
            else "on the holdout (reported only) none is below it"
        )
        if beats_ext:
            head = (
                f"GNN variant(s) {', '.join(beats_ext)} beat the strongest baseline, "
                f"{ref['name']}, on the extrapolation window on average over their seeds; "
                f"{hold_note}."
            )
        else:
            head = (
                f"No GNN variant beats the strongest baseline, {ref['name']}, on the "
                f"extrapolation window; {hold_note}."
            )
        lines.insert(0, head)
    if not unconverged.empty:
        named = ", ".join(
            f"{r.name} seed {r.seed} ({why_not(_text(r.stop_reason))})"
            for r in unconverged.sort_values(["name", "seed"]).itertuples()
        )
        lines.insert(
            2 if ref is not None else 1,
            f"Not converged: {named}. Every comparison involving these runs measures training "
            "speed, not the design.",
        )
    if not ok.empty and float(np.nanmax(ok["holdout_skill"].to_numpy(dtype=float))) <= 0:
        lines.append("No GNN run has positive skill against smooth on the holdout.")
    return lines


def _text(value: Any) -> str | None:
    """A string cell, or None where it is empty (NaN, NA)."""
    return value if isinstance(value, str) else None


def _graph_free_unconverged(df: pd.DataFrame, name: str) -> bool:
    """Whether a graph-free baseline records that its training did not converge."""
    free = df[(df["kind"] == "baseline") & (df["name"] == name)]
    return bool(free["converged"].eq(False).any())


# The units of the table, under it in both the markdown and the HTML page.
UNITS_NOTE = (
    "Errors: MSE/MAE in height units, RMSE in mean spacings 2π/log(γ/2π); skill = "
    "1 − MSE/MSE_smooth on the same split; KS = Kolmogorov–Smirnov distance of the "
    "spacings over extrapolation + holdout to the GUE Wigner surmise (true zeros beside)."
)


def _fmt_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _shown_cells(df: pd.DataFrame) -> list[list[str]]:
    """The compact table's cells as text; `converged` as "yes" / "no (hit max_epochs)"."""
    shown = df[list(SHOWN)].astype(object).where(df[list(SHOWN)].notna(), None)
    shown["converged"] = [
        converged_label(c, _text(r)) or None
        for c, r in zip(shown["converged"], df["stop_reason"], strict=True)
    ]
    return [[_fmt_cell(v) for v in row] for row in shown.itertuples(index=False)]


def to_markdown(df: pd.DataFrame, summary: list[str]) -> str:
    """Summary, then the compact table (GitHub markdown)."""
    shown = list(SHOWN)
    lines = ["# Leaderboard", "", *[f"- {s}" for s in summary], ""]
    lines.append("| " + " | ".join(shown) + " |")
    lines.append("|" + "---|" * len(shown))
    for cells in _shown_cells(df):
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", UNITS_NOTE, ""]
    return "\n".join(lines)


def to_html(df: pd.DataFrame, summary: list[str]) -> str:
    """Self-contained HTML page for the Snakemake report (which displays HTML inline)."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in summary)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in SHOWN)
    body = []
    for row in _shown_cells(df):
        cells = "".join(f"<td>{html.escape(v)}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Leaderboard</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>"
        f"<h2>Leaderboard</h2><ul>{items}</ul><table><tr>{head}</tr>{''.join(body)}</table>"
        f"<p style='font-size:12px'>{html.escape(UNITS_NOTE)}</p></body></html>\n"
    )
