"""The evaluation protocol's checks and arithmetic, kept apart from the rules that call them.

Config errors here are found while the workflow is planned (rule input functions or parse
time), so a study that could not be decided fails before any job runs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zetalab.errors import ZetalabError
from zetalab.evaluation.windows import span, window_origins

if TYPE_CHECKING:
    from zetalab.learning.dataset import ZeroData

# A paired test needs at least this many seeds (one pair has no spread).
MIN_VERDICT_SEEDS = 2


def verdict_files(seeds: Sequence[int], files: list[str]) -> list[str]:
    """The run files the A/B verdict reads; a config error when it could never be decided."""
    if len(set(seeds)) < MIN_VERDICT_SEEDS:
        raise ZetalabError(
            f"train.seeds = {list(seeds)}: the A/B verdict pairs runs by seed and needs at "
            f"least {MIN_VERDICT_SEEDS} seeds",
            "list 3 or more seeds under train.seeds (the default is [0, 1, 2]), or ask only "
            "for targets other than results/ab_verdict.json",
        )
    return files


def study_span(config: Mapping[str, Any]) -> int:
    """Nodes 1..span a study's zeros, graph and predictions cover (through its last window)."""
    ds, ev = config["dataset"], config.get("evaluation", {})
    return span(int(ds["N"]), int(ds["horizon"]), int(ev.get("windows", 1)), ev.get("stride"))


def study_start(config: Mapping[str, Any]) -> int:
    """Absolute index of the study's first zero (dataset.start, default 1)."""
    return int(config["dataset"].get("start", 1))


def shift_span(config: Mapping[str, Any]) -> int:
    """Zeros of one height-shift window: N observed, then the 2H scored."""
    ds = config["dataset"]
    return int(ds["N"]) + 2 * int(ds["horizon"])


def _engine_limit() -> int | None:
    from zetalab.zeros import engine

    return getattr(engine, "MAX_INDEX", None)


def check_protocol(config: Mapping[str, Any]) -> None:
    """Parse-time checks of dataset.start, the windows (no overlap: a holdout zero is never
    another window's extrapolation target) and the height-shift windows."""
    start, total = study_start(config), study_span(config)
    last = start + total - 1
    limit = _engine_limit()
    if start < 1:
        raise ZetalabError(
            f"dataset.start = {start}: zero indices start at 1 (γ_1 ≈ 14.1347)",
            "use dataset.start ≥ 1",
        )
    if limit is not None and last > limit:
        raise ZetalabError(
            f"dataset.start = {start} with {total} zeros (N + the windows) reaches zero #{last}, "
            f"beyond the zero engine's supported range 1..{limit}",
            f"use dataset.start ≤ {limit - total + 1} (docs/zeros.md, 'Supported range')",
        )
    stride, horizon = config.get("evaluation", {}).get("stride"), int(config["dataset"]["horizon"])
    if stride is not None and int(stride) < 2 * horizon:
        raise ZetalabError(
            f"evaluation.stride = {stride} is below 2·dataset.horizon = {2 * horizon}: rolling "
            "windows would overlap, and a window's holdout zeros would be scored as the next "
            "window's extrapolation, which the A/B verdict decides on",
            f"use evaluation.stride ≥ {2 * horizon}, or null (2·horizon, adjacent windows)",
        )
    width = shift_span(config)
    for s in config.get("evaluation", {}).get("shift_starts", []):
        end = s + width - 1
        if s <= last and end >= start:
            raise ZetalabError(
                f"evaluation.shift_starts: the window {s}..{end} overlaps the training span "
                f"{start}..{last} (dataset.start + N + the rolling windows)",
                f"start height-shift windows after zero #{last} or end them before #{start}",
            )
        if limit is not None and end > limit:
            raise ZetalabError(
                f"evaluation.shift_starts: the window {s}..{end} reaches beyond the zero "
                f"engine's supported range 1..{limit}",
                f"use starts ≤ {limit - width + 1}",
            )


ROLLING, SHIFT = "rolling", "shift"


@dataclass(frozen=True)
class Window:
    """One evaluation window: the study's task moved to start at zero `start`.

    Its nodes are zeros start..start+N+2H−1 on the run's own graph; the first N are observed
    inputs (validation nodes hidden, as in training), the last 2H are predicted: the
    extrapolation block O+1..O+H and the holdout block O+H+1..O+2H, O = start + N − 1. Rolling
    window k starts k·stride after the study (window 0 is the study itself); a height-shift
    window starts at one of evaluation.shift_starts.
    """

    kind: str
    start: int

    def origin(self, N: int) -> int:
        """Absolute index of the window's last observed zero."""
        return self.start + N - 1


def evaluation_windows(config: Mapping[str, Any]) -> list[Window]:
    """Rolling windows (the study's first), then the height-shift windows, in config order."""
    ds, ev = config["dataset"], config.get("evaluation", {})
    N, H = int(ds["N"]), int(ds["horizon"])
    start = study_start(config)
    rolling = [
        Window(ROLLING, start + o - N)
        for o in window_origins(N, H, int(ev.get("windows", 1)), ev.get("stride"))
    ]
    return rolling + [Window(SHIFT, int(s)) for s in ev.get("shift_starts", [])]


def window_config(config: Mapping[str, Any], window: Window) -> dict[str, Any]:
    """The config of the study moved to the window (dataset.start = window.start)."""
    out = copy.deepcopy(dict(config))
    out["dataset"] = {**out["dataset"], "start": window.start}
    return out


def zero_ranges(config: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(first, count) of each zeros aggregate a study needs: the span of its rolling windows,
    then one per height-shift window. Nothing below `first` is ever computed."""
    ranges = [(study_start(config), study_span(config))]
    width = shift_span(config)
    ranges += [(int(s), width) for s in config.get("evaluation", {}).get("shift_starts", [])]
    return ranges


def window_zeros(window: Window, total: int, zeros: Sequence[ZeroData]) -> ZeroData:
    """The window's own zeros, cut from whichever loaded range holds them."""
    for data in zeros:
        offset = window.start - data.first_index
        if 0 <= offset and offset + total <= len(data.gammas):
            return data.window(offset, total)
    raise ZetalabError(
        f"no loaded zeros cover the window {window.start}..{window.start + total - 1}",
        "compute the aggregate of that window (zetalab.evaluation.protocol.zero_ranges)",
    )
