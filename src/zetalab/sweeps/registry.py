"""Registering a sweep's trials as run configs of the training rule (rules/sweeps.smk).

A trial that freezes graph.primes to an earlier phase's winner only learns its primes when
it runs. Every prime set it may pick is known (the earlier phase's grid), so the graph and
partition files of all of them become inputs of the trial and the DAG stays static; the
candidates' primes and partition sizes are checked here, before any job starts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from zetalab.errors import ZetalabError
from zetalab.learning.runconfig import resolve_run_config
from zetalab.learning.workflow import check_graph_section, run_graph_files
from zetalab.sweeps.plan import SweepPlan
from zetalab.sweeps.trials import Trial


def trial_graph_files(
    trial: Trial,
    config: Mapping[str, Any],
    path: str,
    cache: MutableMapping[tuple[str, str], list[str]],
) -> list[str]:
    """Graph/partition files of every prime set `trial` may pick at run time."""
    files: list[str] = []
    for alternative in trial.static_alternatives():
        graph_part = {k: v for k, v in alternative.items() if k in ("dataset", "graph")}
        for variant in trial.variants:
            key = (json.dumps(graph_part, sort_keys=True), variant)
            if key not in cache:
                try:
                    # The sweep files' values were checked against the schema when loaded;
                    # a schema pass per trial would be too slow at parse time.
                    view = resolve_run_config(config, graph_part, variant, validate=False)
                    check_graph_section(view)
                except ZetalabError as error:
                    raise ZetalabError(
                        f"sweep file {path}: trial {trial.cfg} ({variant}): {error.problem}",
                        error.fix,
                    ) from None
                cache[key] = run_graph_files(view)
            files += [f for f in cache[key] if f not in files]
    return files


def register_trials(
    plan: SweepPlan,
    config: Mapping[str, Any],
    run_configs: MutableMapping[str, Any],
    run_config_inputs: MutableMapping[str, list[str]],
) -> None:
    """Add every trial to the run registry: its overrides (with `$from` references) and the
    files those references and its candidate graphs need."""
    cache: dict[tuple[str, str], list[str]] = {}
    for trial in plan.all_trials():
        if trial.cfg in run_configs:
            raise ZetalabError(
                f"sweep {trial.sweep}: run config {trial.cfg!r} is already registered",
                "rename the sweep",
            )
        path = plan.specs[trial.sweep].path
        run_configs[trial.cfg] = trial.overrides
        run_config_inputs[trial.cfg] = [
            *trial.inputs,
            *trial_graph_files(trial, config, path, cache),
        ]
