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


def planned_held_out(section: Mapping[str, Any]) -> list[int]:
    """The held-out indices the workflow plans for, checked before any job runs.

    Counts the concentrations from the config (synthetic) or the data file's header, so that a
    too-short series or an edge index in spectral.validation.held_out fails at parse time.
    """
    cfg = SpectralConfig.from_mapping(section)
    if cfg.data.source == "file" and cfg.data.file:
        path = Path(cfg.data.file)
        if not path.exists():
            raise ZetalabError(f"spectra file {path} does not exist", "check spectral.data.file")
        with np.load(path) as npz:
            n = int(npz["concentrations"].shape[0])
    else:
        n = len(cfg.data.concentrations)
    return held_out_indices(n, cfg.validation.held_out)
