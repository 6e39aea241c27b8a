"""A run's training record as the verdict and the leaderboard read it: did it converge?

A comparison between runs that stopped at `train.max_epochs` with their score still improving
measures which design trains faster within the budget, not which design is better (SPEC §6,
"Convergence"). metrics.json says how a run ended (`converged`, `stop_reason`, `best_epoch`,
`kept_epoch`, `epochs_run`); files written before those keys existed lack them, and a record
that does not say it converged is read as not converged: unknown is never taken for yes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The run statuses that count as failures (zetalab.learning.records), not as unconverged runs.
FAILURES = ("diverged", "failed")
# metrics.json's stop_reason of a run that ran its whole epoch budget.
MAX_EPOCHS = "max_epochs"


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class Training:
    """How one run's training ended. `recorded` is False when metrics.json predates the
    convergence keys (then `converged` is False: unknown ⇒ not converged)."""

    converged: bool = False
    recorded: bool = False
    stop_reason: str | None = None
    best_epoch: int | None = None
    kept_epoch: int | None = None
    epochs_run: int | None = None

    @classmethod
    def from_metrics(cls, metrics: Mapping[str, Any]) -> Training:
        """The record of a run's metrics.json (or a baseline's fit_info.json)."""
        recorded = "converged" in metrics and metrics["converged"] is not None
        return cls(
            converged=bool(metrics["converged"]) if recorded else False,
            recorded=recorded,
            stop_reason=metrics.get("stop_reason"),
            best_epoch=_int_or_none(metrics.get("best_epoch")),
            kept_epoch=_int_or_none(metrics.get("kept_epoch")),
            epochs_run=_int_or_none(metrics.get("epochs_run")),
        )

    def why_not(self) -> str:
        """Why a run counts as not converged, in a few words."""
        return why_not(self.stop_reason)


def why_not(stop_reason: str | None) -> str:
    """How a run that did not converge stopped: "hit max_epochs", "diverged", …, or
    "convergence not recorded"."""
    if not stop_reason:
        return "convergence not recorded"
    return f"hit {stop_reason}" if stop_reason == MAX_EPOCHS else stop_reason


def converged_label(converged: bool | None, stop_reason: str | None) -> str:
    """A `converged` cell: "yes", "no (hit max_epochs)", or "" where nothing is recorded
    (a baseline that does not train)."""
    if converged is None:
        return ""
    return "yes" if converged else f"no ({why_not(stop_reason)})"


def unconverged(status: str, training: Training) -> bool:
    """A run that ended without failing and without converging; diverged and failed runs are
    counted as failures instead (zetalab.evaluation.verdict), not here."""
    return status not in FAILURES and not training.converged
