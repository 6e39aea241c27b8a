"""A sweep's results: each run's objective, each trial's mean, the ranking and the winner.

The objective is read from the run's own files (history.csv, metrics.json), never recomputed,
so a sweep ranks exactly what the training rule measured. A diverged run (status "diverged")
or a run whose files are missing, unreadable or lack the metric counts as infinitely bad: it
stays in every table with its status, and the sweep goes on.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zetalab.io import json_safe
from zetalab.learning.records import COMPLETED, DIVERGED, FAILED, STATUSES
from zetalab.learning.runconfig import resolve_references
from zetalab.sweeps.dotted import nest
from zetalab.sweeps.spec import SweepSpec
from zetalab.sweeps.trials import Trial

INF = math.inf
# The history.csv column of each objective (zetalab.learning.loop.HISTORY_COLUMNS).
METRIC_COLUMNS: dict[str, str] = {
    "extrapolation_mse_height": "extrap_mse_height",
    "extrapolation_mae_height": "extrap_mae_height",
    "extrapolation_mse_spacing": "extrap_mse_spacing",
    "validation_loss": "validation_loss",
}
# The training run's own status words (zetalab.learning.records): completed, diverged, failed.


@dataclass(frozen=True)
class RunResult:
    """One (trial, variant, seed) run as the sweep sees it."""

    variant: str
    seed: int
    status: str  # completed | diverged | failed
    objective: float  # inf unless status == COMPLETED
    epochs: int
    note: str = ""
    converged: bool = False  # stopped by patience (a fixed `epochs:` budget never is)


@dataclass(frozen=True)
class TrialResult:
    """A trial's runs and their mean objective (inf if any run is not completed)."""

    trial: Trial
    config: dict[str, Any]  # its searched/frozen values, references resolved
    runs: tuple[RunResult, ...]

    @property
    def objective(self) -> float:
        values = [r.objective for r in self.runs]
        if not values or any(not math.isfinite(v) for v in values):
            return INF
        return sum(values) / len(values)

    @property
    def objective_std(self) -> float:
        values = [r.objective for r in self.runs]
        if len(values) < 2 or not math.isfinite(self.objective):
            return 0.0 if math.isfinite(self.objective) else math.nan
        mean = self.objective
        return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))

    @property
    def status(self) -> str:
        states = {r.status for r in self.runs}
        if states <= {COMPLETED} and self.runs:
            return COMPLETED
        return FAILED if FAILED in states or not self.runs else DIVERGED

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.runs)


def _metric_series(history: Path, column: str) -> list[float] | None:
    with open(history, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or column not in rows[0]:
        return None
    return [float(row[column]) if row[column] not in ("", None) else math.nan for row in rows]


def read_run(
    metrics_path: str | Path,
    history_path: str | Path,
    metric: str,
    reduce: str,
    variant: str = "",
    seed: int = 0,
) -> RunResult:
    """The objective of one run; never raises on a bad run, it records why instead."""

    def failed(note: str, status: str = FAILED, epochs: int = 0) -> RunResult:
        return RunResult(variant, seed, status, INF, epochs, note)

    try:
        metrics = json.loads(Path(metrics_path).read_text())
    except (OSError, ValueError) as exc:
        return failed(f"metrics unreadable: {type(exc).__name__}")
    if not isinstance(metrics, Mapping):
        return failed("metrics.json is not an object")
    status = str(metrics.get("status", FAILED))
    try:
        series = _metric_series(Path(history_path), METRIC_COLUMNS[metric])
    except (OSError, ValueError, csv.Error) as exc:
        series, note = None, f"history unreadable: {type(exc).__name__}"
    else:
        note = "" if series else f"history.csv has no column for {metric}"
    epochs = len(series or [])
    if status != COMPLETED:
        return failed(
            str(metrics.get("message", "")) or status,
            status if status in STATUSES else FAILED,
            epochs,
        )
    if not series:
        return failed(note)
    finite = [v for v in series if math.isfinite(v)]
    kept = int(metrics.get("kept_epoch") or len(series))  # the epoch whose weights it kept
    value = series[kept - 1] if reduce == "final" else (min(finite) if finite else math.nan)
    if not math.isfinite(value):
        return failed(f"{metric} is not finite", DIVERGED, epochs)
    return RunResult(
        variant, seed, COMPLETED, float(value), epochs, converged=bool(metrics.get("converged"))
    )


def collect_trial(
    trial: Trial,
    spec: SweepSpec,
    run_files: Mapping[tuple[str, int], tuple[str, str]],
    root: Path | None = None,
) -> TrialResult:
    """Read every run of a trial; `run_files[(variant, seed)]` = (metrics, history)."""
    runs = []
    for variant, seed in trial.runs():
        metrics, history = run_files[(variant, seed)]
        runs.append(read_run(metrics, history, spec.metric, spec.reduce, variant, seed))
    try:
        config = nest(resolve_references(trial.params, root or "."))
    except Exception as exc:  # a reference file that is gone: keep the trial, mark it
        config = {"unresolved": f"{type(exc).__name__}: {exc}"}
        runs = [RunResult(r.variant, r.seed, FAILED, INF, r.epochs, "config") for r in runs]
    return TrialResult(trial, config, tuple(runs))


def rank(results: Sequence[TrialResult]) -> list[TrialResult]:
    """Best first; failed/diverged (infinite) last; ties keep the run order."""
    return sorted(results, key=lambda r: (r.objective, r.trial.round, r.trial.index))


def best_so_far(results: Sequence[TrialResult]) -> list[float]:
    """Running minimum of the objective in run order (the progress curve)."""
    out, best = [], INF
    for result in results:
        best = min(best, result.objective)
        out.append(best)
    return out


def winner_record(spec: SweepSpec, ranked: Sequence[TrialResult]) -> dict[str, Any]:
    """best.json: what later phases `$from`; objective null when every trial failed."""
    top = ranked[0]
    return {
        "sweep": spec.name,
        "kind": spec.kind,
        "metric": spec.metric,
        "reduce": spec.reduce,
        "trial": top.trial.id,
        "cfg": top.trial.cfg,
        "status": top.status,
        "objective": json_safe(top.objective),
        "n_trials": len(ranked),
        "n_completed": sum(r.status == COMPLETED for r in ranked),
        "config": top.config,
    }


def ranking_record(spec: SweepSpec, ranked: Sequence[TrialResult]) -> dict[str, Any]:
    """top.json: every trial ranked (rank1 = best) with its config, for a championship."""
    return {
        "sweep": spec.name,
        "metric": spec.metric,
        "ranks": {
            f"rank{i}": {
                "trial": r.trial.id,
                "cfg": r.trial.cfg,
                "status": r.status,
                "objective": json_safe(r.objective),
                "config": r.config,
            }
            for i, r in enumerate(ranked, start=1)
        },
    }
