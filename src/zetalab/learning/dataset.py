"""The learning task's data: zeros 1..N+2H, their unfolded offsets δ_n, and the splits.

Splits (SPEC §4): `train` 1..N (a seeded random fraction of it is `validation`),
`extrapolation` N+1..N+H (the per-epoch Extrapolation Error and the HPO objective), and
`holdout` N+H+1..N+2H, reported only in final tables and never used for any selection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.unfold import deltas, inverse_smooth_count, mean_spacing

SPLITS = ("train", "validation", "extrapolation", "holdout")


def total_nodes(N: int, horizon: int) -> int:
    """Zeros 1..N+2H: train, then the extrapolation window, then the holdout."""
    return int(N) + 2 * int(horizon)


def dataset_total(dataset: Mapping[str, Any]) -> int:
    """total_nodes of a config's dataset section."""
    return total_nodes(dataset["N"], dataset["horizon"])


@dataclass(frozen=True)
class Splits:
    """1-based zero indices of each split (validation ⊂ train)."""

    N: int
    horizon: int
    train: np.ndarray
    validation: np.ndarray
    extrapolation: np.ndarray
    holdout: np.ndarray

    @property
    def total(self) -> int:
        return total_nodes(self.N, self.horizon)

    def indices(self, name: str) -> np.ndarray:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; known: {', '.join(SPLITS)}")
        return getattr(self, name)


def make_splits(N: int, horizon: int, validation_fraction: float, seed: int) -> Splits:
    """Deterministic splits for a given seed."""
    if N < 2 or horizon < 1:
        raise ZetalabError(
            f"dataset N={N}, horizon={horizon} is too small", "use N ≥ 2 and horizon ≥ 1"
        )
    if not 0 < validation_fraction < 1:
        raise ZetalabError(
            f"dataset.validation_fraction={validation_fraction} must lie in (0, 1)",
            "use e.g. 0.1",
        )
    train = np.arange(1, N + 1, dtype=np.int64)
    rng = np.random.default_rng(seed)
    n_val = max(1, round(validation_fraction * N))
    validation = np.sort(rng.choice(train, size=n_val, replace=False))
    extrapolation = np.arange(N + 1, N + horizon + 1, dtype=np.int64)
    holdout = np.arange(N + horizon + 1, total_nodes(N, horizon) + 1, dtype=np.int64)
    return Splits(N, horizon, train, validation, extrapolation, holdout)


@dataclass(frozen=True)
class ZeroData:
    """Zeros 1..total with the quantities every model and baseline shares."""

    gammas: np.ndarray  # γ_n, n = 1..total
    delta: np.ndarray  # δ_n = N0(γ_n) − (n − ½)
    smooth_heights: np.ndarray  # t0_n = N0⁻¹(n − ½), the height with δ = 0
    spacing: np.ndarray  # mean spacing 2π/log(γ_n/2π), to report errors in spacings

    @property
    def indices(self) -> np.ndarray:
        return np.arange(1, len(self.gammas) + 1, dtype=np.int64)


def zero_data(gammas: np.ndarray) -> ZeroData:
    """Derive δ, smooth heights and spacings from zeros given in index order from n = 1."""
    gammas = np.asarray(gammas, dtype=np.float64)
    n = np.arange(1, len(gammas) + 1, dtype=np.float64)
    return ZeroData(
        gammas=gammas,
        delta=deltas(gammas),
        smooth_heights=inverse_smooth_count(n - 0.5),
        spacing=mean_spacing(gammas),
    )


def load_zero_data(zeros_path: str | Path, N: int, horizon: int) -> ZeroData:
    """Zeros 1..N+2H from a verified aggregate; a clear error when there are too few."""
    from zetalab.zeros.store import load_zeros

    need = total_nodes(N, horizon)
    gammas, _ = load_zeros(zeros_path)
    if len(gammas) < need:
        raise ZetalabError(
            f"{zeros_path} holds {len(gammas)} zeros but N + 2·horizon = {need} are needed "
            f"(N={N}, horizon={horizon}): the horizon reaches beyond the computed zeros",
            "lower dataset.N or dataset.horizon, or compute more zeros",
        )
    # δ from each zero's exact reference + offset: a float64 height loses digits above ~1e8
    return replace(zero_data(gammas.heights(0, need)), delta=gammas.deltas(0, need))
