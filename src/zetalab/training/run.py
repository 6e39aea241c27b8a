"""One training job from its files: resolve the run config, check inputs, train, write outputs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from zetalab.dataset import ZeroData
from zetalab.errors import ZetalabError
from zetalab.io import read_json
from zetalab.runconfig import resolve_run_config
from zetalab.training.loop import RunPaths, Trainer
from zetalab.training.problem import build_problem

log = logging.getLogger("zetalab.training")


def train_run(
    config: dict[str, Any],
    zeros: ZeroData | str | Path,
    seed: int,
    cfg: str,
    paths: RunPaths,
    graph_files: Iterable[str | Path] | None = None,
    threads: int | None = None,
    **hooks: Any,
) -> dict[str, Any]:
    """Train one run of an already resolved config (see zetalab.runconfig) and write outputs."""
    if "run" not in config:
        raise ZetalabError(
            "train_run needs a resolved run config (with its 'run' key)",
            "pass the result of zetalab.runconfig.resolve_run_config",
        )
    if threads:
        torch.set_num_threads(int(threads))
    problem = build_problem(config, zeros, graph_files)
    return Trainer(config, problem, seed, paths).run(cfg, **hooks)


def train_from_files(
    base_config: dict[str, Any],
    run_config_path: str | Path,
    variant: str,
    seed: int,
    cfg: str,
    zeros_path: str | Path,
    graph_files: Iterable[str | Path],
    paths: RunPaths,
    threads: int | None = None,
) -> dict[str, Any]:
    """The `train` rule's job: everything is checked before the first epoch."""
    config = resolve_run_config(base_config, read_json(run_config_path), variant)
    metrics = train_run(config, zeros_path, seed, cfg, paths, graph_files, threads)
    log.info(
        "%s: status %s after %d epochs, extrapolation RMSE %.4f spacings",
        paths.metrics.parent,
        metrics["status"],
        metrics["epochs_run"],
        metrics["final_extrapolation"]["rmse_spacing"] or float("nan"),
    )
    return metrics
