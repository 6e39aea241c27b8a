"""Grid searches that end at the setting's own optimum, not at the edge of a guessed grid.

A baseline's searched setting is chosen on the selection window (the extrapolation block).
When the winner is the first or last value of its grid and the parameter's domain continues
beyond it, the grid is extended one step in that direction and the search repeats, until the
winner lies inside its grid, sits on a bound of its own domain (a taper or ridge of 0), or
reaches a cost cap. `at_grid_edge` records, per axis, whether the winner still lies on an edge
the domain continues beyond (a cost cap is such an edge; a domain bound is not).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zetalab.errors import ZetalabError

# At most this many extensions per axis: a score that keeps falling at the edge of any
# domain would otherwise never end the search (reported through at_grid_edge).
MAX_EXTENSIONS = 12


@dataclass(frozen=True)
class Axis:
    """One searched setting: its first grid and how the grid grows.

    `factor` is the multiplicative step of an extension. Below, values shrink towards the
    domain bound `low` (reached once a step would fall under `low_snap`); above, they grow up
    to `high`, which is a domain bound when `high_is_domain` and a cost cap otherwise.
    """

    name: str
    values: tuple[float, ...]
    factor: float
    low: float
    low_snap: float
    high: float = math.inf
    high_is_domain: bool = False
    integer: bool = False

    def up(self, value: float) -> float | None:
        if value >= self.high:
            return None
        nxt = min(value * self.factor, self.high)
        return float(math.ceil(nxt)) if self.integer else nxt

    def down(self, value: float) -> float | None:
        if value <= self.low:
            return None
        nxt = value / self.factor
        if nxt < self.low_snap:
            return self.low
        return float(math.floor(nxt)) if self.integer else nxt

    def at_edge(self, value: float, grid: Sequence[float]) -> bool:
        """The chosen value ends the searched grid and the domain continues beyond it."""
        upper = value == grid[-1] and not (self.high_is_domain and value >= self.high)
        lower = value == grid[0] and value > self.low
        return bool(upper or lower)

    def cast(self, value: float) -> float | int:
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class SearchResult:
    best: dict[str, Any]
    table: list[dict[str, Any]]  # every evaluated candidate with its score, in order
    grids: dict[str, list[float | int]]  # the final grid of each axis
    at_grid_edge: dict[str, bool]


def check_axis(axis: Axis, where: str) -> None:
    """A grid must lie inside its domain and below its cost cap (a config error otherwise)."""
    too_big = [v for v in axis.values if v > axis.high]
    if too_big:
        raise ZetalabError(
            f"{where}: the grid value {axis.cast(min(too_big))} lies above the cap "
            f"{axis.cast(axis.high)}",
            "raise the cap or lower the grid's values",
        )


def extended_search(
    axes: Sequence[Axis],
    score: Callable[[Mapping[str, Any]], float],
    score_key: str = "extrapolation_rmse_spacing",
) -> SearchResult:
    """The candidate of lowest finite score over the product of the axes' grids, each grid
    extended while its winner lies on an edge the domain continues beyond (module docstring)."""
    grids = {a.name: sorted({float(v) for v in a.values}) for a in axes}
    scores: dict[tuple[float, ...], float] = {}
    extensions = dict.fromkeys(grids, 0)
    while True:
        for combo in itertools.product(*(grids[a.name] for a in axes)):
            if combo not in scores:
                candidate = {a.name: a.cast(v) for a, v in zip(axes, combo, strict=True)}
                scores[combo] = float(score(candidate))
        best = _argmin(axes, grids, scores)
        grown = False
        for axis, value in zip(axes, best, strict=True):
            if extensions[axis.name] >= MAX_EXTENSIONS:
                continue
            grid = grids[axis.name]
            for nxt in (axis.up(value) if value == grid[-1] else None,
                        axis.down(value) if value == grid[0] else None):  # fmt: skip
                if nxt is not None and nxt not in grid:
                    grid.append(nxt)
                    grid.sort()
                    extensions[axis.name] += 1
                    grown = True
        if not grown:
            break
    table = [
        {**{a.name: a.cast(v) for a, v in zip(axes, combo, strict=True)}, score_key: s}
        for combo, s in scores.items()
    ]
    return SearchResult(
        best={a.name: a.cast(v) for a, v in zip(axes, best, strict=True)},
        table=table,
        grids={a.name: [a.cast(v) for v in grids[a.name]] for a in axes},
        at_grid_edge={a.name: a.at_edge(v, grids[a.name]) for a, v in zip(axes, best, strict=True)},
    )


def _argmin(
    axes: Sequence[Axis], grids: Mapping[str, list[float]], scores: Mapping[tuple, float]
) -> tuple[float, ...]:
    """The lowest finite score on the current grids (the first in grid order on ties)."""
    combos = itertools.product(*(grids[a.name] for a in axes))
    finite = [(scores[c], c) for c in combos if math.isfinite(scores[c])]
    if not finite:
        raise ZetalabError(
            "no baseline candidate gives a finite error on the extrapolation window",
            "check the zeros and the baselines section of the config",
        )
    return min(finite, key=lambda item: item[0])[1]
