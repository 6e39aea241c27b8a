"""The sweeps of a workflow run: which files each rule reads and writes, and the jobs' bodies.

The Snakefile (rules/sweeps.smk) and the rule scripts build the same `SweepPlan` from the
config, so the DAG the rules declare and the files the scripts read cannot drift apart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zetalab.errors import ZetalabError
from zetalab.io import read_json, write_json_atomic, write_text_atomic
from zetalab.learning.paths import RUN_DIR
from zetalab.learning.records import COMPLETED
from zetalab.sweeps.layout import best_path, proposal_path, top_path
from zetalab.sweeps.propose import proposal_values, propose_round
from zetalab.sweeps.report import (
    champion_errors,
    plot_progress,
    runs_table,
    trials_table,
    write_leaderboard,
)
from zetalab.sweeps.report import write_summary as _write_summary
from zetalab.sweeps.results import (
    TrialResult,
    collect_trial,
    rank,
    ranking_record,
    winner_record,
)
from zetalab.sweeps.spec import SweepSpec, load_sweeps
from zetalab.sweeps.trials import Trial, expand_all

log = logging.getLogger("zetalab.sweeps")
DEFAULT_RUN_DIR = RUN_DIR  # a run's directory, as a pattern over cfg, variant and seed


def resolve_sweeps_dir(value: str, workdir: Path, basedir: Path) -> Path:
    """A relative sweeps.dir: the working directory's folder if it exists, else the repo's."""
    path = Path(value)
    if path.is_absolute():
        return path
    local = workdir / path
    return local if local.is_dir() else basedir / path


@dataclass(frozen=True)
class SweepPlan:
    """Every sweep and its trials, as parsed from the sweep files."""

    specs: dict[str, SweepSpec]
    trials: dict[str, list[Trial]]
    run_dir: str = DEFAULT_RUN_DIR

    @classmethod
    def load(
        cls, directory: str | Path, config: Mapping[str, Any], run_dir: str = DEFAULT_RUN_DIR
    ) -> SweepPlan:
        specs = load_sweeps(directory, config)
        return cls(specs, expand_all(specs), run_dir)

    def spec(self, name: str) -> SweepSpec:
        """The sweep named `name`, or an error listing the known ones (e.g. a mistyped target)."""
        if name not in self.specs:
            raise ZetalabError(
                f"no sweep named {name!r} in the sweep files",
                f"use one of: {', '.join(sorted(self.specs)) or '(none)'}",
            )
        return self.specs[name]

    def all_trials(self) -> list[Trial]:
        return [t for trials in self.trials.values() for t in trials]

    def run_files(self, trial: Trial) -> dict[tuple[str, int], tuple[str, str]]:
        """(variant, seed) -> (metrics.json, history.csv) of each run of a trial."""
        out = {}
        for variant, seed in trial.runs():
            base = self.run_dir.format(cfg=trial.cfg, variant=variant, seed=seed)
            out[(variant, seed)] = (f"{base}/metrics.json", f"{base}/history.csv")
        return out

    def _result_inputs(self, trials: list[Trial]) -> list[str]:
        files = []
        for trial in trials:
            for metrics, history in self.run_files(trial).values():
                files += [metrics, history]
            files += list(trial.inputs)
        return sorted(set(files), key=files.index)

    def proposal_inputs(self, name: str, round_: int) -> list[str]:
        """A Bayesian round reads every earlier round's proposal and run results."""
        if self.spec(name).kind != "bayesian" or round_ >= self.specs[name].rounds:
            raise ZetalabError(
                f"sweep {name!r} has no Bayesian round {round_}",
                f"it is a {self.specs[name].kind} sweep with {self.specs[name].rounds} round(s)",
            )
        earlier = [t for t in self.trials[name] if t.round < round_]
        return self._result_inputs(earlier)

    def collect_inputs(self, name: str) -> list[str]:
        """The collector reads every run of the sweep and the files its trials refer to."""
        self.spec(name)
        return self._result_inputs(self.trials[name])

    def evaluation_files(self, trial: Trial) -> dict[tuple[str, int], str]:
        """(variant, seed) -> the evaluation.json of each run (final predictions scored)."""
        return {
            (variant, seed): self.run_dir.format(cfg=trial.cfg, variant=variant, seed=seed)
            + "/evaluation.json"
            for variant, seed in trial.runs()
        }

    def report_inputs(self, name: str) -> list[str]:
        """The report reads what the collector reads; a championship also reads each run's
        evaluation, to show the champions' holdout error (reported only, never ranked on)."""
        files = self.collect_inputs(name)
        if self.specs[name].kind == "championship":
            files += [f for t in self.trials[name] for f in self.evaluation_files(t).values()]
        return files

    def holdout_errors(self, name: str) -> dict[str, dict[str, float]]:
        """trial id -> its runs' mean final extrapolation and holdout error (championships)."""
        spec = self.specs[name]
        if spec.kind != "championship":
            return {}
        return {
            t.id: champion_errors(spec.metric, list(self.evaluation_files(t).values()))
            for t in self.trials[name]
        }

    def outputs(self, name: str) -> list[str]:
        """What the target `sweeps` asks for per sweep."""
        return [
            best_path(name),
            top_path(name),
            f"results/sweeps/{name}/leaderboard.csv",
            f"results/sweeps/{name}/leaderboard.md",
            f"results/sweeps/{name}/progress.png",
        ]

    def proposal_fingerprint(self, name: str) -> str:
        """What a round's proposal depends on besides its inputs (a rule param, so a changed
        search space or sampler re-proposes while an unchanged one never does)."""
        spec = self.specs[name]
        return json.dumps(
            {
                "space": {p.key: p.describe() for p in spec.space},
                "trials_per_round": spec.trials_per_round,
                "sampler": [spec.sampler_seed, spec.n_startup_trials],
                "objective": [spec.metric, spec.reduce],
            },
            sort_keys=True,
        )

    def ranking_settings(self, name: str) -> str:
        """What ranking a sweep's trials depends on besides the run results (a rule param of
        sweep_collect and sweep_report)."""
        spec = self.spec(name)
        return json.dumps([spec.kind, spec.metric, spec.reduce, spec.top], sort_keys=True)

    # --- job bodies -------------------------------------------------------------------

    def collect(self, name: str, root: Path | None = None) -> list[TrialResult]:
        """Every trial's results in run order."""
        spec = self.specs[name]
        return [collect_trial(t, spec, self.run_files(t), root) for t in self.trials[name]]

    def propose_job(self, name: str, round_: int, output: str | Path) -> dict[str, Any]:
        """Write round `round_`'s proposal, learning from the rounds before it."""
        spec = self.specs[name]
        earlier = [t for t in self.trials[name] if t.round < round_]
        keys = [p.key for p in spec.space]
        prior = []
        proposals: dict[str, Any] = {}
        for trial in earlier:
            path = proposal_path(name, trial.round)
            if path not in proposals:
                proposals[path] = read_json(path)
            tid = trial.id.split("-", 1)[1]
            values = proposal_values(proposals[path], tid, keys)
            result = collect_trial(trial, spec, self.run_files(trial))
            prior.append((values, result.objective))
        proposal = propose_round(spec, round_, prior)
        write_json_atomic(output, proposal)
        log.info(
            "sweep %s round %d: %d trials proposed from %d earlier results (best %s)",
            name, round_, len(proposal["trials"]), len(prior), proposal["best_prior"],
        )  # fmt: skip
        return proposal

    def collect_job(self, name: str, out_dir: str | Path) -> list[TrialResult]:
        """runs.csv, trials.csv, best.json and top.json of one sweep."""
        spec = self.specs[name]
        results = self.collect(name)
        ranked = rank(results)
        out = Path(out_dir)
        write_text_atomic(out / "runs.csv", runs_table(results))
        write_text_atomic(out / "trials.csv", trials_table(results))
        write_json_atomic(out / "top.json", ranking_record(spec, ranked))
        write_json_atomic(out / "best.json", winner_record(spec, ranked))
        bad = [r for r in results if r.status != COMPLETED]
        for result in bad:
            notes = "; ".join(f"{r.variant}/seed{r.seed}: {r.status} {r.note}" for r in result.runs)
            log.warning(
                "trial %s is %s (objective inf): %s", result.trial.cfg, result.status, notes
            )
        log.info(
            "sweep %s: %d trials, %d not ok; winner %s objective %s",
            name, len(results), len(bad), ranked[0].trial.cfg, ranked[0].objective,
        )  # fmt: skip
        return results

    def report_job(self, name: str, out_dir: str | Path) -> None:
        """leaderboard.csv/.md and progress.png of one sweep."""
        spec = self.specs[name]
        results = self.collect(name)
        out = Path(out_dir)
        write_leaderboard(
            spec,
            results,
            out / "leaderboard.csv",
            out / "leaderboard.md",
            self.holdout_errors(name),
        )
        plot_progress(spec, results, out / "progress.png")


def summary_job(best_files: list[str], csv_path: str | Path, md_path: str | Path) -> None:
    """summary.csv/.md: the winner of every phase, in dependency order."""
    bests = [read_json(p) for p in best_files]
    _write_summary(bests, Path(csv_path), Path(md_path))


def phase_order(specs: Mapping[str, SweepSpec]) -> list[str]:
    """Sweep names, each after the phases it refers to (ties by name)."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        spec = specs[name]
        for other in sorted({*spec.freeze.values(), *([spec.source] if spec.source else [])}):
            visit(other)
        order.append(name)

    for name in sorted(specs):
        visit(name)
    return order
