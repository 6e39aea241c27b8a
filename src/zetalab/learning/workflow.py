"""Path and input logic of the graph and train rules, kept out of the rule files.

The rule files only wire these functions to Snakemake (snakemake-workflows style: no function
definitions beside rules). Everything here is pure: the config and the run registry
(RUN_CONFIGS, RUN_CONFIG_FILES, RUN_CONFIG_INPUTS of rules/common.smk) are passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from zetalab.errors import ZetalabError
from zetalab.evaluation.protocol import zero_ranges
from zetalab.learning.dataset import dataset_total
from zetalab.learning.features import SELECTED, feature_spec
from zetalab.learning.graph import validate_primes
from zetalab.learning.partition import check_num_parts
from zetalab.learning.paths import (
    EXPLICIT_FORMULA,
    graph_path,
    partition_path,
    run_config_path,
)
from zetalab.learning.runconfig import (
    MissingReferenceError,
    resolve_run_config,
    result_settings,
)


def check_graph_section(config: Mapping[str, Any]) -> None:
    """Parse-time check: primes, and no more partitions than nodes (ZetalabError otherwise)."""
    validate_primes(config["graph"]["primes"])
    check_num_parts(config["graph"]["partition"]["num_parts"], dataset_total(config["dataset"]))


def run_config_file(cfg: str, run_config_files: Mapping[str, str]) -> str:
    """The JSON run config of cfg: another rule's output, or the run_config rule's."""
    return run_config_files.get(cfg, run_config_path(cfg))


RunRegistry = tuple[Mapping[str, dict], Mapping[str, str], Mapping[str, list[str]]]


def static_run_config(
    config: Mapping[str, Any], registry: RunRegistry, cfg: str, variant: str
) -> dict | None:
    """The resolved config of a static cfg, or None if it is only known once files exist."""
    run_configs, run_config_files, _ = registry
    if cfg in run_config_files:
        return None
    if cfg not in run_configs:
        known = ", ".join(sorted([*run_configs, *run_config_files]))
        raise ZetalabError(f"unknown run config {cfg!r}", f"use a registered one: {known}")
    try:
        resolved = resolve_run_config(config, {"overrides": run_configs[cfg]}, variant)
    except MissingReferenceError:
        return None
    except ZetalabError as error:
        problem = f"run config {cfg!r}, variant {variant!r}: {error.problem}"
        raise ZetalabError(problem, error.fix) from None
    try:
        check_graph_section(resolved)
    except ZetalabError as error:
        raise ZetalabError(f"run config {cfg!r}: {error.problem}", error.fix) from None
    return resolved


def train_settings(config: Mapping[str, Any], registry: RunRegistry, cfg: str, variant: str) -> str:
    """The train rule's `settings` param: the result-relevant resolved config (canonical JSON).

    A run config known only from files (a $from reference, a Bayesian round's proposal)
    is represented by the main config with its variant plus its unresolved overrides; the
    files it reads are the job's inputs, so their changes rerun it through Snakemake's
    input trigger.
    """
    resolved = static_run_config(config, registry, cfg, variant)
    if resolved is not None:
        settings: dict[str, Any] = result_settings(resolved)
    else:
        base = resolve_run_config(config, {}, variant, validate=False)
        settings = {"base": result_settings(base), "overrides": registry[0].get(cfg)}
    return json.dumps(settings, sort_keys=True, default=str)


def run_graph_files(resolved: Mapping[str, Any]) -> list[str]:
    """Graph (and, for minibatch, partition) files a resolved run reads."""
    total = dataset_total(resolved["dataset"])
    primes = resolved["graph"]["primes"]
    files = [graph_path(total, primes)]
    if resolved["run"]["kind"] == "minibatch":
        part = resolved["graph"]["partition"]
        files.append(partition_path(total, primes, part["method"], part["num_parts"]))
    return files


def train_inputs(
    config: Mapping[str, Any],
    registry: RunRegistry,
    cfg: str,
    variant: str,
    zeros_path: Callable[..., str],
) -> dict[str, Any]:
    """Named inputs of one train job: zeros (the study's), window_zeros (one aggregate per range
    of zetalab.evaluation.protocol.zero_ranges), run_config, graphs, extra, and estimate (the
    explicit-formula selection, when the run's column is prime_sum's: read inside the job, so
    the DAG does not depend on what was chosen)."""
    _, run_config_files, run_config_inputs = registry
    resolved = static_run_config(config, registry, cfg, variant)
    source = resolved if resolved is not None else config
    # the study's zeros (through its rolling windows), then one aggregate per height-shift window
    windows = [zeros_path(count, first=first) for first, count in zero_ranges(source)]
    return {
        "zeros": windows[0],
        "window_zeros": windows,
        "run_config": run_config_file(cfg, run_config_files),
        "graphs": run_graph_files(resolved) if resolved is not None else [],
        "extra": list(run_config_inputs.get(cfg, [])),
        "estimate": [EXPLICIT_FORMULA] if uses_selection(source["model"]) else [],
    }


def uses_selection(model: Mapping[str, Any]) -> bool:
    """Whether a model section's estimate column is the prime_sum baseline's selection."""
    return model.get("estimate", SELECTED) == SELECTED


def train_mem_mb(config: Mapping[str, Any], registry: RunRegistry, cfg: str, variant: str) -> int:
    """Memory request from the measured peaks (docs/benchmarks.md, N = 10^6 on CPU):
    full-batch ~4 KB per node (4.0 GB peak RSS), mini-batch ~1.4 KB per node (host-side
    data; its training working memory is flat), plus 1.5 GB for the runtime; those were
    measured with 15 input columns and cluster-wise inference. Mini-batch now predicts on the
    whole graph (about 1 KB per node of activations, no gradients), and each further input
    column costs 8 bytes per node (the float32 static features and the model input built
    from them): 3.2 KB per node with the default 200 wave primes and the estimate column."""
    resolved = static_run_config(config, registry, cfg, variant)
    source = resolved if resolved is not None else config
    total = dataset_total(source["dataset"])
    kind = (
        resolved["run"]["kind"]
        if resolved is not None
        else config["train"]["variants"].get(variant, {}).get("kind", "fullbatch")
    )
    columns = feature_spec(source["model"], source["graph"]["primes"]).num_features
    per_node_kb = (5 if kind == "fullbatch" else 3) + 8 * max(columns - 15, 0) / 1000
    return int(1500 + total * per_node_kb // 1000)
