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
    """Zeros of nodes 1..total with the quantities every model and baseline shares.

    Node i is zero first_index + i − 1 (dataset.start): δ, smooth heights and errors use the
    true index, so a study at 10^8 unfolds where it is.
    """

    gammas: np.ndarray  # γ_n, n = first_index..first_index + total − 1
    delta: np.ndarray  # δ_n = N0(γ_n) − (n − ½)
    smooth_heights: np.ndarray  # t0_n = N0⁻¹(n − ½), the height with δ = 0
    spacing: np.ndarray  # mean spacing 2π/log(γ_n/2π), to report errors in spacings
    first_index: int = 1

    @property
    def indices(self) -> np.ndarray:
        """Absolute zero indices of the nodes."""
        return np.arange(self.first_index, self.first_index + len(self.gammas), dtype=np.int64)

    def absolute(self, nodes: np.ndarray) -> np.ndarray:
        """Absolute zero indices of 1-based node numbers."""
        return np.asarray(nodes, dtype=np.int64) + (self.first_index - 1)

    def window(self, offset: int, count: int) -> ZeroData:
        """Nodes offset+1..offset+count as a ZeroData of their own (first index moved)."""
        if offset < 0 or offset + count > len(self.gammas):
            raise ZetalabError(
                f"zeros {self.first_index + offset}..{self.first_index + offset + count - 1} "
                f"are needed but {self.first_index}..{self.first_index + len(self.gammas) - 1} "
                "are given: the horizon reaches beyond the computed zeros",
                "lower dataset.N or dataset.horizon, or compute the zeros the window needs",
            )
        sl = slice(offset, offset + count)
        return ZeroData(
            self.gammas[sl],
            self.delta[sl],
            self.smooth_heights[sl],
            self.spacing[sl],
            self.first_index + offset,
        )


def zero_data(gammas: np.ndarray, first_index: int = 1) -> ZeroData:
    """Derive δ, smooth heights and spacings from zeros given in index order from first_index."""
    gammas = np.asarray(gammas, dtype=np.float64)
    n = np.arange(first_index, first_index + len(gammas), dtype=np.float64)
    return ZeroData(
        gammas=gammas,
        delta=deltas(gammas, first_index),
        smooth_heights=inverse_smooth_count(n - 0.5),
        spacing=mean_spacing(gammas),
        first_index=first_index,
    )


def load_zero_data(
    zeros_path: str | Path, N: int, horizon: int, start: int = 1, count: int | None = None
) -> ZeroData:
    """Zeros start..start+N+2H−1 (or `count` of them) from a verified aggregate; a clear error
    when the aggregate does not hold them all."""
    from zetalab.zeros.store import load_zeros

    need = total_nodes(N, horizon) if count is None else int(count)
    gammas, _ = load_zeros(zeros_path)
    lo = start - gammas.first_index
    if lo < 0 or lo + need > len(gammas):
        raise ZetalabError(
            f"{zeros_path} holds zeros {gammas.first_index}..{gammas.last_index} but zeros "
            f"{start}..{start + need - 1} are needed (dataset.start={start}, N={N}, "
            f"horizon={horizon}): the window reaches beyond the computed zeros",
            "lower dataset.N or dataset.horizon, or compute the zeros the window needs",
        )
    # δ from each zero's exact reference + offset: a float64 height loses digits above ~1e8
    return replace(
        zero_data(gammas.heights(lo, lo + need), start), delta=gammas.deltas(lo, lo + need)
    )
