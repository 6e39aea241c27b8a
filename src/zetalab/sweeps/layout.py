"""Where each sweep's files live (relative to the workflow's working directory)."""

from __future__ import annotations

ROOT = "results/sweeps"
LOGS = "logs/sweeps"
CFG_PREFIX = "sweep-"


def cfg_name(sweep: str, trial_id: str) -> str:
    """The run-registry name of one trial, e.g. sweep-lossweights-r2-t07."""
    return f"{CFG_PREFIX}{sweep}-{trial_id}"


def proposal_path(sweep: str, round_: int | str) -> str:
    """Parameters of one Bayesian round, written by `sweep_propose`."""
    return f"{ROOT}/{sweep}/round{round_}/proposal.json"


def sweep_file(sweep: str, name: str) -> str:
    """One of a sweep's collected files (runs.csv, trials.csv, best.json, top.json, ...)."""
    return f"{ROOT}/{sweep}/{name}"


def best_path(sweep: str) -> str:
    """The phase winner: its overrides under "config" and its objective."""
    return sweep_file(sweep, "best.json")


def top_path(sweep: str) -> str:
    """Every trial of the phase ranked, each with its overrides, for a championship."""
    return sweep_file(sweep, "top.json")


SUMMARY_CSV = f"{ROOT}/summary.csv"
SUMMARY_MD = f"{ROOT}/summary.md"
