"""Paths and input lists of the evaluate stage (baselines, evaluation, leaderboard, verdict).

Kept out of rules/evaluate.smk (no function definitions beside rules): the rule file wires
these pure functions to Snakemake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zetalab.errors import ZetalabError

RUN_TARGET = re.compile(r"runs/(?P<cfg>[^/]+)/(?P<variant>[^/]+)/seed(?P<seed>\d+)")
BASELINE_TARGET = re.compile(r"baselines/(?P<name>[^/]+)")
# Wildcard constraint of the evaluate rule's {target}.
TARGET_PATTERN = r"runs/[^/]+/[^/]+/seed\d+|baselines/[^/]+"


def baseline_dir(name: str) -> str:
    return f"results/baselines/{name}"


def baseline_files(names: Iterable[str], file: str) -> list[str]:
    return [f"{baseline_dir(n)}/{file}" for n in names]


def evaluation_inputs(
    target: str,
    config: Mapping[str, Any],
    registry: tuple[Mapping[str, dict], Mapping[str, str], Mapping[str, list[str]]],
    zeros_path: Callable[[int], str],
) -> dict[str, str]:
    """Inputs of evaluate for one target: predictions, the zeros, and a run's metrics.

    A run reads the same zeros file as its train job (its cfg may change dataset.N); a
    baseline reads the main config's.
    """
    if m := RUN_TARGET.fullmatch(target):
        from zetalab.learning.workflow import train_inputs

        zeros = train_inputs(config, registry, m["cfg"], m["variant"], zeros_path)["zeros"]
        return {
            "predictions": f"results/{target}/predictions.npz",
            "metrics": f"results/{target}/metrics.json",
            "zeros": zeros,
        }
    if BASELINE_TARGET.fullmatch(target):
        ds = config["dataset"]
        return {
            "predictions": f"results/{target}/predictions.npz",
            "info": f"results/{target}/fit_info.json",
            "zeros": zeros_path(int(ds["N"]) + 2 * int(ds["horizon"])),
        }
    raise ZetalabError(
        f"cannot evaluate {target!r}",
        "ask for results/runs/<cfg>/<variant>/seed<k> or results/baselines/<name>",
    )
