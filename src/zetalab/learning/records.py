"""What a training run leaves behind: one record type for every ending, and its three files.

A run ends `completed`, `diverged` (NaN/Inf; predictions from the last good checkpoint) or
`failed` (a sweep trial that crashed; NaN predictions so nothing scores it as a success).
These three words are the status vocabulary of every reader (leaderboard, verdict, sweeps).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.evaluation.predictions import save_predictions
from zetalab.io import json_safe, write_json_atomic, write_text_atomic
from zetalab.learning.dataset import dataset_total
from zetalab.learning.resources import PeakMemory, process_peak_bytes
from zetalab.learning.stopping import BestEpoch, convergence_record

COMPLETED, DIVERGED, FAILED = "completed", "diverged", "failed"
STATUSES = (COMPLETED, DIVERGED, FAILED)

HISTORY_COLUMNS = (
    "epoch",
    "loss_total",
    "loss_mse",
    "loss_gue_nll",
    "loss_gue_mmd",
    "loss_rg_penalty",
    "validation_loss",
    "extrap_mse_height",
    "extrap_mae_height",
    "extrap_mse_spacing",
    "extrap_rmse_spacing",
    "lr",
    "epoch_time_s",
    "elapsed_s",
    "peak_mem_bytes",
    "nodes_per_s",
    "device",
)
EXTRAPOLATION_KEYS = ("mse_height", "mae_height", "mse_spacing", "rmse_spacing")


@dataclass
class RunPaths:
    """The train rule's outputs; the checkpoint lives beside them."""

    metrics: Path
    history: Path
    predictions: Path
    # (W, 2H) predictions of every evaluation window (zetalab.learning.transfer); None: none
    windows: Path | None = None

    @property
    def checkpoint(self) -> Path:
        return self.metrics.parent / "checkpoint.pt"


@dataclass
class RunRecord:
    """metrics.json of one (cfg, variant, seed) run, whatever its ending.

    Measurements a crashed run never took stay None, so every reader sees the same keys.
    """

    status: str
    message: str
    cfg: str
    variant: str
    kind: str
    seed: int
    N: int
    horizon: int
    max_epochs: int
    epochs_run: int
    config: dict[str, Any]
    final_extrapolation: dict[str, float] | None = None
    best_extrapolation: dict[str, Any] | None = None
    final_validation_loss: float | None = None
    nodes: int | None = None
    edges: int | None = None
    wall_time_s: float | None = None
    mean_epoch_time_s: float | None = None
    nodes_per_s: float | None = None
    peak_mem_bytes: int | None = None
    peak_mem_kind: str | None = None
    peak_mem_bytes_per_node: float | None = None
    train_loop_mem_growth_bytes: int | None = None
    process_peak_rss_bytes: int | None = None
    device: str | None = None
    num_parameters: int | None = None
    config_hash: str | None = None
    diverged_at_epoch: int | None = None
    restored_epoch: int | None = None
    resumed_from_epoch: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"run status {self.status!r} is not one of {', '.join(STATUSES)}")

    @property
    def name(self) -> str:
        return f"{self.cfg}/{self.variant}/seed{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(out.pop("extra"))
        return out


def best_extrapolation(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The epoch with the lowest finite extrapolation MSE in height units (reported; runs
    stop and keep by RMSE in spacings, zetalab.learning.stopping.MONITOR)."""
    finite = [r for r in history if np.isfinite(r["extrap_mse_height"])]
    if not finite:
        return None
    best = min(finite, key=lambda r: r["extrap_mse_height"])
    return {"epoch": best["epoch"], **{k: best[f"extrap_{k}"] for k in EXTRAPOLATION_KEYS}}


def finish_record(
    record: RunRecord,
    history: list[dict[str, Any]],
    final: dict[str, float],
    edges: int,
    memory: PeakMemory,
    device: str,
    num_parameters: int,
    config_hash: str,
) -> None:
    """Fill a trained run's final scores (`final`: Trainer._scores of its predictions) and
    measurements; peak memory is the largest per-epoch reading."""
    total = dataset_total(record.config["dataset"])
    peak = max([r["peak_mem_bytes"] for r in history], default=memory.peak_bytes())
    record.final_validation_loss = final["validation_loss"]
    record.final_extrapolation = {k: final[f"extrap_{k}"] for k in EXTRAPOLATION_KEYS}
    record.best_extrapolation = best_extrapolation(history)
    record.nodes, record.edges = total, edges
    record.wall_time_s = history[-1]["elapsed_s"] if history else 0.0
    record.mean_epoch_time_s = record.wall_time_s / len(history) if history else None
    record.nodes_per_s = float(np.mean([r["nodes_per_s"] for r in history])) if history else None
    record.peak_mem_bytes, record.peak_mem_kind = peak, memory.kind
    record.peak_mem_bytes_per_node = peak / total
    record.train_loop_mem_growth_bytes = memory.loop_growth_bytes()
    record.process_peak_rss_bytes = process_peak_bytes()
    record.device, record.num_parameters, record.config_hash = device, num_parameters, config_hash


def write_run_outputs(
    paths: RunPaths, record: RunRecord, history: list[dict[str, Any]], pred: np.ndarray
) -> dict[str, Any]:
    """predictions.npz, history.csv and metrics.json (written last: the job's completion mark)."""
    if record.status != FAILED and not np.all(np.isfinite(pred)):
        raise ZetalabError(
            "the model's predictions are not finite even at the last good checkpoint",
            "lower train.lr or the loss weights",
        )
    save_predictions(paths.predictions, np.arange(1, len(pred) + 1), pred, record.name, "model")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    write_text_atomic(paths.history, buf.getvalue())
    metrics = record.to_dict()
    write_json_atomic(paths.metrics, json_safe(metrics))
    return metrics


def failed_run(
    config: dict[str, Any], cfg: str, seed: int, paths: RunPaths, error: BaseException
) -> dict[str, Any]:
    """The outputs of a run that crashed: status "failed", no history rows, NaN predictions."""
    record = RunRecord(
        status=FAILED,
        message=f"{type(error).__name__}: {error}",
        cfg=cfg,
        variant=config["run"]["variant"],
        kind=config["run"]["kind"],
        seed=seed,
        N=config["dataset"]["N"],
        horizon=config["dataset"]["horizon"],
        max_epochs=config["train"]["max_epochs"],
        epochs_run=0,
        config=config,
        extra=convergence_record(BestEpoch(), 0, FAILED, config["train"]["patience"]),
    )
    return write_run_outputs(paths, record, [], np.full(dataset_total(config["dataset"]), np.nan))
