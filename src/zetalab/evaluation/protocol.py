"""The evaluation protocol's checks and arithmetic, kept apart from the rules that call them.

Config errors here are found while the workflow is planned (rule input functions or parse
time), so a study that could not be decided fails before any job runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from zetalab.errors import ZetalabError

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
