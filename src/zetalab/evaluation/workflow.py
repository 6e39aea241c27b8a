"""Input logic of the evaluate stage's rules, kept out of rules/evaluate.smk (no function
definitions beside rules). Paths come from zetalab.learning.paths, the one home of Study Z's
file patterns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from zetalab.errors import ZetalabError
from zetalab.evaluation.protocol import zero_ranges
from zetalab.learning.paths import (
    BASELINE_TARGET,
    EXPLICIT_FORMULA,
    RUN_TARGET,
    WILDCARDS,
    baseline_dir,
    baseline_identity,
    run_dir,
)


def _target_regex(pattern: str) -> re.Pattern[str]:
    """A {target} pattern of zetalab.learning.paths as a regex with named groups."""
    parts = re.split(r"\{(\w+)\}", pattern)
    regex = "".join(
        f"(?P<{p}>{WILDCARDS.get(p, '[^/]+')})" if i % 2 else re.escape(p)
        for i, p in enumerate(parts)
    )
    return re.compile(regex)


_RUN = _target_regex(RUN_TARGET)
_BASELINE = _target_regex(BASELINE_TARGET)


def baseline_params(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """What baseline instance `name` reads from the config, and nothing else: the rule declares
    these as params, so a changed value reruns that baseline only (a new name in
    baselines.names or another baseline's setting leaves it alone). `linear` and the mlps see
    the GNN's features, so the model and graph sections are theirs too."""
    from zetalab.evaluation.baselines import FEATURE_BASELINES

    section = config["baselines"]
    name = baseline_identity(name)[0]
    own = name.removesuffix("_fit").removesuffix("-residual")
    features = name in FEATURE_BASELINES
    return {
        "dataset": config["dataset"],
        "baselines": {own: section[own]} if isinstance(section.get(own), Mapping) else {},
        "model": config["model"] if features else None,
        "graph": config["graph"] if features else None,
    }


def baseline_estimate(name: str) -> list[str]:
    """The explicit-formula selection, for the baselines that read it: prime_sum (its setting
    and values) and the feature learners (their estimate column)."""
    from zetalab.evaluation.baselines import FEATURE_BASELINES

    base = baseline_identity(name)[0]
    return [EXPLICIT_FORMULA] if base == "prime_sum" or base in FEATURE_BASELINES else []


def baseline_zeros(config: Mapping[str, Any], zeros_path: Callable[..., str]) -> list[str]:
    """The zeros aggregates a baseline reads: the study's (through its rolling windows), then
    one per height-shift window."""
    return [zeros_path(count, first=first) for first, count in zero_ranges(config)]


def evaluation_inputs(
    target: str,
    config: Mapping[str, Any],
    registry: tuple[Mapping[str, dict], Mapping[str, str], Mapping[str, list[str]]],
    zeros_path: Callable[..., str],
) -> dict[str, Any]:
    """Inputs of evaluate for one {target}: predictions, window predictions, the zeros, and a
    run's metrics.

    A run reads the same zeros files as its train job (its cfg may change dataset.N); a
    baseline reads the main config's. `window_zeros` holds one aggregate per range of
    zetalab.evaluation.protocol.zero_ranges (the rolling windows, each height-shift window).
    """
    if m := _RUN.fullmatch(target):
        from zetalab.learning.workflow import train_inputs

        zeros = train_inputs(config, registry, m["cfg"], m["variant"], zeros_path)
        base = run_dir(m["cfg"], m["variant"], m["seed"])
        return {
            "predictions": f"{base}/predictions.npz",
            "windows": f"{base}/windows.npz",
            "metrics": f"{base}/metrics.json",
            "zeros": zeros["zeros"],
            "window_zeros": zeros["window_zeros"],
        }
    if m := _BASELINE.fullmatch(target):
        base = baseline_dir(m["name"])
        windows = baseline_zeros(config, zeros_path)
        return {
            "predictions": f"{base}/predictions.npz",
            "windows": f"{base}/windows.npz",
            "info": f"{base}/fit_info.json",
            "zeros": windows[0],
            "window_zeros": windows,
        }
    raise ZetalabError(
        f"cannot evaluate {target!r}",
        "ask for results/runs/<cfg>/<variant>/seed<k> or results/baselines/<name>",
    )
