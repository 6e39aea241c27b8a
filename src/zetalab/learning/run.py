"""One training run from its files: resolve the run config, check inputs, train, write outputs."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from zetalab.errors import ZetalabError
from zetalab.io import read_json
from zetalab.learning.dataset import ZeroData
from zetalab.learning.explicit import EstimateTable, load_estimate_table
from zetalab.learning.features import resolve_estimate
from zetalab.learning.loop import Trainer
from zetalab.learning.problem import build_problem
from zetalab.learning.records import RunPaths, failed_run
from zetalab.learning.runconfig import resolve_run_config
from zetalab.learning.transfer import (
    load_window_zeros,
    write_failed_windows,
    write_window_predictions,
)

log = logging.getLogger("zetalab.learning")


def train_run(
    config: dict[str, Any],
    zeros: ZeroData | str | Path,
    seed: int,
    cfg: str,
    paths: RunPaths,
    graph_files: Iterable[str | Path] | None = None,
    threads: int | None = None,
    window_zeros: Sequence[ZeroData | str | Path] | None = None,
    estimate: EstimateTable | None = None,
    **hooks: Any,
) -> dict[str, Any]:
    """Train one run of an already resolved config (zetalab.learning.runconfig); write outputs.

    `estimate` is the explicit-formula selection's table: with model.estimate "prime_sum"
    (the default) the run's feature column is its values and metrics.json records its
    setting. With `paths.windows` set, the trained model then predicts every evaluation
    window (zetalab.learning.transfer) from `window_zeros`: one aggregate per range of
    zetalab.evaluation.protocol.zero_ranges, or ZeroData covering them (default: `zeros`).
    """
    if "run" not in config:
        raise ZetalabError(
            "train_run needs a resolved run config (with its 'run' key)",
            "pass the result of zetalab.learning.runconfig.resolve_run_config",
        )
    if threads:
        torch.set_num_threads(int(threads))
    config = resolve_estimate(config, estimate)
    problem = build_problem(config, zeros, graph_files, estimate)
    trainer = Trainer(config, problem, seed, paths)
    metrics = trainer.run(cfg, **hooks)
    if paths.windows is not None:
        sources = list(window_zeros) if window_zeros is not None else [zeros]
        loaded = (
            sources
            if all(isinstance(z, ZeroData) for z in sources)
            else load_window_zeros(config, sources)
        )
        write_window_predictions(trainer, config, loaded, graph_files, paths.windows)
    return metrics


def train_job(
    base_config: dict[str, Any],
    run_config_path: str | Path,
    variant: str,
    seed: int,
    cfg: str,
    zeros_path: str | Path,
    graph_files: Iterable[str | Path],
    paths: RunPaths,
    threads: int | None = None,
    record_failure: bool = False,
    window_zeros: Sequence[str | Path] | None = None,
    estimate_path: str | Path | None = None,
) -> dict[str, Any]:
    """The `train` rule's job: everything is checked before the first epoch.

    With `record_failure` (sweep trials) a run that crashes after its config resolved is
    recorded as status "failed" instead of failing the job, so one bad trial of a swarm does
    not stop the sweep; its predictions are NaN, so nothing can score it as a success.
    """
    config = resolve_run_config(base_config, read_json(run_config_path), variant)
    try:
        table = load_estimate_table(estimate_path)[0] if estimate_path else None
        metrics = train_run(
            config, zeros_path, seed, cfg, paths, graph_files, threads, window_zeros, table
        )
    except Exception as error:
        if not record_failure:
            raise
        log.exception("%s failed; recorded as a failed trial", paths.metrics.parent)
        if paths.windows is not None:
            write_failed_windows(config, paths.windows)
        return failed_run(config, cfg, seed, paths, error)
    rmse = metrics["final_extrapolation"]["rmse_spacing"]
    log.info(
        "%s: status %s after %d epochs, extrapolation RMSE %.4f spacings",
        paths.metrics.parent,
        metrics["status"],
        metrics["epochs_run"],
        float("nan") if rmse is None else rmse,
    )
    return metrics
