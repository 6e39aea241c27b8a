"""A trained model applied, unchanged, to other windows of its task (issue 13's protocol).

Every evaluation window (zetalab.evaluation.protocol.Window) is the study's task moved to
another start: the same graph over N + 2H nodes, the first N observed, the last 2H predicted.
Only the zeros and the static features (which follow the true heights) change, so the model
is never retrained and never sees a zero after the window's origin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.evaluation.protocol import (
    evaluation_windows,
    study_start,
    window_config,
    window_zeros,
    zero_ranges,
)
from zetalab.evaluation.windows import save_windows
from zetalab.learning.dataset import ZeroData, load_zero_data, total_nodes
from zetalab.learning.loop import Trainer
from zetalab.learning.problem import build_problem

log = logging.getLogger("zetalab.learning")


def load_window_zeros(config: dict[str, Any], zeros: Sequence[str | Path]) -> list[ZeroData]:
    """The zeros of each range of zero_ranges(config), from its aggregate (same order)."""
    ranges = zero_ranges(config)
    if len(zeros) != len(ranges):
        raise ZetalabError(
            f"{len(zeros)} zeros files given for {len(ranges)} ranges {ranges}",
            "pass one aggregate per range (zetalab.evaluation.workflow builds the list)",
        )
    ds = config["dataset"]
    return [
        load_zero_data(path, ds["N"], ds["horizon"], first, count)
        for path, (first, count) in zip(zeros, ranges, strict=True)
    ]


def window_predictions(
    trainer: Trainer,
    config: dict[str, Any],
    zeros: Sequence[ZeroData],
    graph_files: Iterable[str | Path] | None,
) -> tuple[list[int], np.ndarray]:
    """Origins (absolute index of each window's last observed zero) and the (W, 2H) δ̂."""
    ds = config["dataset"]
    N, H = int(ds["N"]), int(ds["horizon"])
    total = total_nodes(N, H)
    files = list(graph_files) if graph_files is not None else None
    windows = evaluation_windows(config)
    out = np.empty((len(windows), 2 * H), dtype=np.float64)
    for i, window in enumerate(windows):
        if window.start == study_start(config):
            pred = trainer.predict()
        else:
            moved = window_config(config, window)
            table = trainer.problem.features.estimate if trainer.problem.features else None
            problem = build_problem(moved, window_zeros(window, total, zeros), files, table)
            pred = trainer.predict_on(problem)
        out[i] = pred[N:total]
        log.info("window %d (%s) at zero %d predicted", i, window.kind, window.start)
    return [w.origin(N) for w in windows], out


def write_window_predictions(
    trainer: Trainer,
    config: dict[str, Any],
    zeros: Sequence[ZeroData],
    graph_files: Iterable[str | Path] | None,
    path: str | Path,
) -> None:
    """windows.npz of a finished (or diverged, from its last good state) run."""
    origins, delta = window_predictions(trainer, config, zeros, graph_files)
    save_windows(path, origins, delta)


def write_failed_windows(config: dict[str, Any], path: str | Path) -> None:
    """windows.npz of a crashed run: NaN everywhere, so nothing can score it as a success."""
    N, H = int(config["dataset"]["N"]), int(config["dataset"]["horizon"])
    windows = evaluation_windows(config)
    save_windows(path, [w.origin(N) for w in windows], np.full((len(windows), 2 * H), np.nan))
