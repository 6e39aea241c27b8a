"""When a Study Z run stops, which epoch it keeps, and whether it converged (SPEC §6).

A run is scored on its extrapolation window after every epoch (the seeds' Extrapolation Error,
RMSE in mean spacings). It stops once that score has not improved for `train.patience` epochs,
or at `train.max_epochs`, and keeps the weights of its best epoch on that window: a comparison
between runs stopped by an epoch budget would measure how fast each design trains, not what it
reaches. A run converged when patience stopped it and the patience was at least MIN_PATIENCE
(a patience of one or two epochs stops on the first noisy epoch, which is not convergence).

The learning rate falls on plateaus of the same score (ReduceLROnPlateau, `train.schedule:
plateau`), so the schedule follows the run instead of pushing its best epoch to a fixed end;
`cosine` anneals over `max_epochs` and serves fixed budgets (sweep trials, `patience: null`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zetalab.errors import ZetalabError

if TYPE_CHECKING:  # torch is imported by the training job, not when configs are checked
    import torch

# The score a run is stopped and kept on: the extrapolation window's RMSE in mean spacings.
MONITOR = "extrap_rmse_spacing"
# The smallest patience whose stop counts as convergence (docs/learning.md, "Convergence").
MIN_PATIENCE = 10
# Why a run stopped, besides the statuses "diverged" and "failed" (zetalab.learning.records).
PATIENCE, MAX_EPOCHS = "patience", "max_epochs"


def check_stopping(train: Mapping[str, Any]) -> None:
    """Settings a schema cannot check alone: the patience must fit inside max_epochs."""
    patience, max_epochs = train.get("patience"), int(train["max_epochs"])
    if patience is not None and not 1 <= int(patience) <= max_epochs:
        raise ZetalabError(
            f"train.patience = {patience} must lie between 1 and train.max_epochs = {max_epochs}",
            f"use a patience from {MIN_PATIENCE} (the smallest that counts as convergence) to "
            f"{max_epochs}, or null for a fixed budget of max_epochs",
        )


def make_scheduler(optimizer: torch.optim.Optimizer, train: Mapping[str, Any]) -> Any:
    """ReduceLROnPlateau on the monitored score (plateau) or CosineAnnealingLR (cosine)."""
    import torch

    if train["schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=int(train["max_epochs"]), eta_min=float(train["lr_min"])
        )
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="min",
        factor=float(train["lr_factor"]),
        patience=int(train["lr_patience"]),
        threshold=float(train["min_delta"]),
        threshold_mode="rel",
        min_lr=float(train["lr_min"]),
    )


def step_scheduler(scheduler: Any, score: float) -> None:
    import torch

    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(score if math.isfinite(score) else math.inf)
    else:
        scheduler.step()


@dataclass
class BestEpoch:
    """The best epoch so far on the monitored score, its weights, and the epochs since."""

    epoch: int = 0
    score: float = math.inf
    since: int = 0
    weights: dict[str, torch.Tensor] | None = None

    def update(self, epoch: int, score: float, model: torch.nn.Module, min_delta: float) -> bool:
        """Record epoch `epoch`'s score; True (and its weights kept) when it improves on the
        best by more than the relative `min_delta`."""
        if math.isfinite(score) and score < self.score * (1.0 - min_delta):
            self.epoch, self.score, self.since = epoch, score, 0
            self.weights = copy.deepcopy(model.state_dict())
            return True
        self.since += 1
        return False

    def exhausted(self, patience: int | None) -> bool:
        return patience is not None and self.since >= patience

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "score": self.score, "since": self.since,
                "weights": self.weights}  # fmt: skip

    @classmethod
    def from_dict(cls, blob: Mapping[str, Any]) -> BestEpoch:
        return cls(int(blob["epoch"]), float(blob["score"]), int(blob["since"]), blob["weights"])


def convergence_record(
    best: BestEpoch, epochs_run: int, stop_reason: str, patience: int | None
) -> dict[str, Any]:
    """The top-level keys of metrics.json that say how a run ended and what it kept."""
    return {
        "best_epoch": best.epoch or None,
        "kept_epoch": best.epoch or None,
        "epochs_run": epochs_run,
        "converged": stop_reason == PATIENCE and patience is not None and patience >= MIN_PATIENCE,
        "stop_reason": stop_reason,
        "patience": patience,
    }
