"""Parse-time planning for Study S, kept free of torch so a dry run stays fast.

The Snakefile asks which inner concentrations to hold out before any job runs, so that an
edge index or too few concentrations fail at once, with the same checks the jobs apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.spectral.config import SpectralConfig


def held_out_indices(n_concentrations: int, requested: list[int] | tuple[int, ...] | None):
    """The inner indices to validate on; refuses edges, out-of-range and repeated indices."""
    if n_concentrations < 3:
        raise ZetalabError(
            f"Study S needs at least three concentrations, got {n_concentrations}",
            "give spectral.data.concentrations three or more values",
        )
    inner = list(range(1, n_concentrations - 1))
    if requested is None:
        return inner
    chosen = list(requested)
    for k in chosen:
        if k in (0, n_concentrations - 1):
            raise ZetalabError(
                f"spectral.validation.held_out contains {k}, an edge concentration: "
                "predicting it from a one-sided neighbour would be extrapolation",
                f"hold out inner indices only ({inner[0]}..{inner[-1]}), or null for all of them",
            )
        if not 0 < k < n_concentrations - 1:
            raise ZetalabError(
                f"spectral.validation.held_out contains {k}, but there are only "
                f"{n_concentrations} concentrations (indices 0..{n_concentrations - 1})",
                f"hold out inner indices only ({inner[0]}..{inner[-1]})",
            )
    if len(set(chosen)) != len(chosen) or not chosen:
        raise ZetalabError(
            f"spectral.validation.held_out = {chosen} is empty or repeats an index",
            "list each inner index once, or use null for all of them",
        )
    return chosen


def _n_concentrations(cfg: SpectralConfig) -> int:
    if cfg.data.source == "file" and cfg.data.file:
        path = Path(cfg.data.file)
        if not path.exists():
            raise ZetalabError(f"spectra file {path} does not exist", "check spectral.data.file")
        with np.load(path) as npz:
            return int(npz["concentrations"].shape[0])
    return len(cfg.data.concentrations)


def planned_held_out(section: Mapping[str, Any]) -> list[int]:
    """The inner held-out indices the workflow plans for, checked before any job runs.

    Counts the concentrations from the config (synthetic) or the data file's header, so that a
    too-short series or an edge index in spectral.validation.held_out fails at parse time.
    """
    cfg = SpectralConfig.from_mapping(section)
    return held_out_indices(_n_concentrations(cfg), cfg.validation.held_out)


def planned_extrapolation(section: Mapping[str, Any]) -> list[int]:
    """The end indices left out for the extrapolation scores (none when switched off)."""
    cfg = SpectralConfig.from_mapping(section)
    n = _n_concentrations(cfg)
    return [0, n - 1] if cfg.validation.extrapolate else []


def check_patience(tc: Any) -> None:
    """The documented minimum: patience > lr_patience, so the rate is cut before a stop."""
    if tc.patience <= tc.lr_patience:
        raise ZetalabError(
            f"spectral.train.patience = {tc.patience} is below its minimum "
            f"lr_patience + 1 = {tc.lr_patience + 1}",
            "raise spectral.train.patience above spectral.train.lr_patience, so the schedule "
            "lowers the learning rate at least once before the stopping rule ends the run",
        )


def check_settings(section: Mapping[str, Any]) -> None:
    """Cross-key checks the schema cannot express, at parse time (before any job runs).

    - ``train.patience`` must exceed ``train.lr_patience`` (the documented minimum: the
      schedule lowers the learning rate at least once before the stopping rule ends a run);
    - a fixed ``validation.low_rank_rank`` may not exceed the number of concentrations minus 2:
      a leave-one-out model has n - 1 training spectra, and the inner leave-one-out that picks
      the strongest baseline fits the low-rank model on n - 2 of them.
    """
    cfg = SpectralConfig.from_mapping(section)
    check_patience(cfg.train)
    rank = cfg.validation.low_rank_rank
    if rank is not None:
        n = _n_concentrations(cfg)
        if rank > n - 2:
            raise ZetalabError(
                f"spectral.validation.low_rank_rank = {rank} exceeds what the training spectra "
                f"allow: {n} concentrations leave {n - 1} per model and {n - 2} per inner "
                f"leave-one-out fit, so the rank can be at most {n - 2}",
                f"set spectral.validation.low_rank_rank to at most {n - 2}, or null",
            )


def planned_regimes(section: Mapping[str, Any]) -> list[str]:
    """The regimes to validate: spectral.regimes, or only spectral.data.regime when null."""
    cfg = SpectralConfig.from_mapping(section)
    regimes = list(cfg.regimes) if cfg.regimes else [cfg.data.regime]
    if len(set(regimes)) != len(regimes):
        raise ZetalabError(
            f"spectral.regimes = {regimes} repeats a regime", "list each regime once"
        )
    return regimes


# Keys that change how a job runs but not what it computes: changing them reruns nothing.
EXECUTION_ONLY = {"train": ("checkpoint_every", "profile", "profile_steps")}
STAGE_SECTIONS = {
    "data": ("seed", "dtype", "data"),
    "train": ("seed", "dtype", "data", "model", "solver", "shooting", "train"),
    "validate": ("data", "validation"),
    "benchmark": ("benchmark", "train", "solver", "shooting"),
    "export": ("export",),
}


def stage_settings(section: Mapping[str, Any], stage: str, regime: str) -> dict[str, Any]:
    """The settings a stage's outputs depend on, for the rule's ``params`` (rerun trigger).

    ``device`` and the keys of EXECUTION_ONLY are left out, so moving a run to a GPU or
    changing how often it checkpoints reruns nothing; the regime is the job's own.
    """
    out: dict[str, Any] = {}
    for name in STAGE_SECTIONS[stage]:
        value = section[name]
        if isinstance(value, Mapping):
            skip = EXECUTION_ONLY.get(name, ())
            value = {k: v for k, v in value.items() if k not in skip}
            if name == "data":
                value["regime"] = regime
        out[name] = value
    return out
