"""A sweep's tables and plot: runs, trials, the top-10 leaderboard, progress, the summary."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zetalab.io import atomic_path, write_text_atomic
from zetalab.sweeps.dotted import get_dotted
from zetalab.sweeps.results import TrialResult, best_so_far, rank
from zetalab.sweeps.spec import SweepSpec

LEADERBOARD_SIZE = 10


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else ("nan" if math.isnan(value) else f"{value:.6g}")
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _param_keys(results: Sequence[TrialResult]) -> list[str]:
    keys: list[str] = []
    for result in results:
        for key in result.trial.params:
            if key not in keys:
                keys.append(key)
    return keys


def _param_value(result: TrialResult, key: str) -> Any:
    try:
        return get_dotted(result.config, key)
    except KeyError:
        return ""


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_fmt(v) for v in row] for row in rows])
    return buf.getvalue()


def _markdown(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def runs_table(results: Sequence[TrialResult]) -> str:
    """runs.csv: one row per (trial, variant, seed) with its status and objective."""
    header = [
        "trial", "cfg", "round", "variant", "seed", "status", "objective", "epochs", "converged",
        "note",
    ]  # fmt: skip
    rows = [
        [r.trial.id, r.trial.cfg, r.trial.round, run.variant, run.seed, run.status,
         run.objective, run.epochs, run.converged, run.note]
        for r in results
        for run in r.runs
    ]  # fmt: skip
    return _csv(header, rows)


def _trial_rows(results: Sequence[TrialResult], keys: Sequence[str]) -> list[list[Any]]:
    rows = []
    for position, result in enumerate(rank(results), start=1):
        trial = result.trial
        rows.append(
            [position, trial.id, trial.cfg, trial.round, "+".join(trial.variants),
             result.status, result.objective, result.objective_std, len(result.runs),
             result.count("completed"), result.count("diverged"), result.count("failed")]
            + [_param_value(result, k) for k in keys]
        )  # fmt: skip
    return rows


TRIAL_HEADER = [
    "rank", "trial", "cfg", "round", "variants", "status", "objective", "objective_std",
    "runs", "completed", "diverged", "failed",
]  # fmt: skip


def trials_table(results: Sequence[TrialResult]) -> str:
    """trials.csv: every trial ranked, with its resolved parameters."""
    keys = _param_keys(results)
    return _csv(TRIAL_HEADER + keys, _trial_rows(results, keys))


def split_metric(objective: str) -> str:
    """The evaluation.json error of an objective (extrapolation_mse_height -> mse_height)."""
    name = objective.removeprefix("extrapolation_")
    return name if name in ("mse_height", "mae_height", "mse_spacing") else "mse_height"


def champion_errors(objective: str, evaluations: Sequence[str | Path]) -> dict[str, float]:
    """Mean over a trial's runs of its final extrapolation and holdout error (NaN when a run's
    evaluation is missing or not finite): shown beside the objective, never ranked on."""
    metric = split_metric(objective)
    out = {}
    for split in ("extrapolation", "holdout"):
        values = []
        for path in evaluations:
            try:
                value = json.loads(Path(path).read_text())["errors"][split][metric]
            except (OSError, ValueError, KeyError, TypeError):
                value = None
            values.append(math.nan if value is None else float(value))
        out[split] = sum(values) / len(values) if values else math.nan
    return out


def write_leaderboard(
    spec: SweepSpec,
    results: Sequence[TrialResult],
    csv_path: Path,
    md_path: Path,
    final_errors: Mapping[str, Mapping[str, float]] | None = None,
) -> None:
    """The top 10 configurations (csv for the report, markdown for people).

    `final_errors` (championships): trial id -> mean final extrapolation and holdout error of
    its runs, added as two columns after the ranking is made; they choose nothing.
    """
    keys = _param_keys(results)
    ranked = rank(results)[:LEADERBOARD_SIZE]
    rows = _trial_rows(results, keys)[:LEADERBOARD_SIZE]
    header = TRIAL_HEADER + keys
    note = ""
    if final_errors:
        metric = split_metric(spec.metric)
        extra = [f"final_extrapolation_{metric}", f"holdout_{metric}"]
        header = header[:8] + extra + header[8:]
        rows = [
            row[:8]
            + [
                final_errors.get(r.trial.id, {}).get(s, math.nan)
                for s in ("extrapolation", "holdout")
            ]
            + row[8:]
            for row, r in zip(rows, ranked, strict=True)
        ]
        note = (
            f"`final_extrapolation_{metric}` and `holdout_{metric}`: the final predictions "
            "scored on the extrapolation and holdout windows, mean over the trial's runs. "
            "The holdout is reported only; the ranking uses the objective alone.\n\n"
        )
    write_text_atomic(csv_path, _csv(header, rows))
    title = (
        f"# Sweep `{spec.name}` ({spec.kind}): top {len(rows)} of {len(results)} trials\n\n"
        f"Objective: {spec.metric} ({spec.reduce} epoch), mean over each trial's runs; "
        "lower is better; a diverged or failed run makes its trial `inf`.\n\n"
    )
    write_text_atomic(md_path, title + note + _markdown(header, rows))


def plot_progress(spec: SweepSpec, results: Sequence[TrialResult], path: Path) -> None:
    """Objective of each trial in run order, best so far, failed trials marked on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = [r.objective for r in results]
    finite = [v for v in values if math.isfinite(v)]
    xs = list(range(1, len(results) + 1))
    fig, ax = plt.subplots(figsize=(7, 4))
    ok = [(x, v) for x, v in zip(xs, values, strict=True) if math.isfinite(v)]
    if ok:
        ax.scatter(*zip(*ok, strict=True), s=18, color="tab:blue", label="trial")
        best = best_so_far(results)
        steps = [(x, b) for x, b in zip(xs, best, strict=True) if math.isfinite(b)]
        ax.step(*zip(*steps, strict=True), where="post", color="tab:red", label="best so far")
    bad = [x for x, v in zip(xs, values, strict=True) if not math.isfinite(v)]
    if bad:
        top = max(finite) * 1.5 if finite else 1.0
        ax.scatter(bad, [top] * len(bad), marker="x", color="black", label="diverged/failed")
    for boundary in _round_starts(results):
        ax.axvline(boundary - 0.5, color="0.85", lw=0.8, zorder=0)
    if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
        ax.set_yscale("log")
    ax.set_xlabel("trial (run order; grey lines separate rounds)")
    ax.set_ylabel(f"{spec.metric} ({spec.reduce})")
    ax.set_title(f"sweep {spec.name}: {len(finite)} of {len(results)} trials finished")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def _round_starts(results: Sequence[TrialResult]) -> list[int]:
    starts = []
    for i in range(1, len(results)):
        if results[i].trial.round != results[i - 1].trial.round:
            starts.append(i + 1)
    return starts


SUMMARY_HEADER = [
    "sweep", "kind", "trials", "completed", "metric", "winner", "cfg", "status", "objective",
    "config",
]  # fmt: skip


def summary_rows(bests: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """One row per phase from its best.json."""
    return [
        [b["sweep"], b["kind"], b["n_trials"], b["n_completed"], b["metric"], b["trial"], b["cfg"],
         b["status"], math.inf if b["objective"] is None else b["objective"],
         json.dumps(b["config"], sort_keys=True)]
        for b in bests
    ]  # fmt: skip


def write_summary(bests: Sequence[Mapping[str, Any]], csv_path: Path, md_path: Path) -> None:
    rows = summary_rows(bests)
    write_text_atomic(csv_path, _csv(SUMMARY_HEADER, rows))
    title = "# Hyperparameter swarm: the winner of each phase\n\n"
    write_text_atomic(md_path, title + _markdown(SUMMARY_HEADER, rows))
