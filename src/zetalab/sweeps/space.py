"""Search-space parameters: grid values, categorical choices and (log-)ranges.

The same object expands a grid, builds the Optuna distribution of a Bayesian sweep, and
encodes values so that a rebuilt study sees exactly the distributions it proposed from.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)


@dataclass(frozen=True)
class Param:
    """One searched key: either a list of `values` or a range [low, high]."""

    key: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False

    @property
    def is_range(self) -> bool:
        return self.values is None

    def distribution(self) -> BaseDistribution:
        """The Optuna distribution; categorical choices are JSON strings (lists are values)."""
        if self.values is not None:
            return CategoricalDistribution(tuple(self.encode(v) for v in self.values))
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    def encode(self, value: Any) -> Any:
        """A config value as Optuna stores it."""
        return json.dumps(value) if self.values is not None else value

    def decode(self, value: Any) -> Any:
        """An Optuna value as the config takes it."""
        if self.values is not None:
            return json.loads(value)
        return int(value) if self.integer else float(value)

    def candidates(self) -> list[Any] | None:
        """Every value a trial can take, or None for a continuous range."""
        if self.values is not None:
            return list(self.values)
        if self.integer and not self.log and self.high - self.low <= 64:
            return list(range(int(self.low), int(self.high) + 1))
        return None

    def describe(self) -> str:
        if self.values is not None:
            return f"values {list(self.values)}"
        scale = "log " if self.log else ""
        return f"{scale}range [{self.low}, {self.high}]" + (" (int)" if self.integer else "")


def expand_grid(params: Sequence[Param]) -> list[dict[str, Any]]:
    """Every combination of the params' values, the first key varying slowest."""
    keys = [p.key for p in params]
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(p.values for p in params))
    ]


def grid_size(params: Sequence[Param]) -> int:
    size = 1
    for p in params:
        size *= len(p.values)
    return size
