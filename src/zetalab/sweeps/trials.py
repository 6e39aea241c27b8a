"""A sweep's trials: each one ordinary training run (cfg, variants, seeds) with its overrides.

Values that are only known later — a Bayesian round's proposal, an earlier phase's winner, a
championship's ranked configs — enter the overrides as `$from` references to the file that
will hold them, so the list of trials (and the DAG) is fixed when the Snakefile is parsed.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zetalab.config import deep_merge
from zetalab.sweeps.dotted import is_ref, nest, ref, set_dotted
from zetalab.sweeps.layout import best_path, cfg_name, proposal_path, top_path
from zetalab.sweeps.space import expand_grid
from zetalab.sweeps.spec import EPOCHS_KEY, FIXED_BUDGET, SweepSpec, provided_keys

CONTROL_ID = "control"


@dataclass(frozen=True)
class Trial:
    """One configuration of a sweep, run for each of its variants and seeds."""

    sweep: str
    id: str
    round: int
    index: int
    params: dict[str, Any]  # dotted key -> value or `$from` reference (searched/frozen keys)
    overrides: dict[str, Any]  # the run config: base + params (+ train.epochs)
    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    inputs: tuple[str, ...]  # files the references point at
    candidates: dict[str, list[Any]] = field(default_factory=dict)  # finite choices of refs

    @property
    def cfg(self) -> str:
        return cfg_name(self.sweep, self.id)

    def runs(self) -> list[tuple[str, int]]:
        return [(v, s) for v in self.variants for s in self.seeds]

    def static_alternatives(self, sections: tuple[str, ...] = ("dataset", "graph")) -> list[dict]:
        """The run config for every value its references in `sections` can take.

        A run picks e.g. its prime set at run time from an earlier phase's result, so the
        files it may need (graphs, partitions) are all of these alternatives' files.
        """
        keys = [k for k in self.candidates if k.split(".")[0] in sections]
        out = []
        for combo in itertools.product(*(self.candidates[k] for k in keys)):
            overrides = copy.deepcopy(self.overrides)
            for key, value in zip(keys, combo, strict=True):
                set_dotted(overrides, key, value)
            out.append(_drop_refs(overrides))
        return out


def _drop_refs(tree: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in tree.items():
        if is_ref(value):
            continue
        out[key] = _drop_refs(value) if isinstance(value, Mapping) else value
    return out


def candidate_values(specs: Mapping[str, SweepSpec], name: str, key: str) -> list[Any] | None:
    """Every value phase `name` can hand on for `key`, or None when it is continuous."""
    spec = specs[name]
    if key in spec.freeze:
        return candidate_values(specs, spec.freeze[key], key)
    if any(p.key == key for p in spec.space):
        return spec.param(key).candidates()
    if spec.kind == "championship" and spec.source is not None:
        return candidate_values(specs, spec.source, key)
    return None


def _width(n: int) -> int:
    return max(2, len(str(max(n - 1, 0))))


def expand_trials(spec: SweepSpec, specs: Mapping[str, SweepSpec]) -> list[Trial]:
    """All trials of one sweep in run order (round, index)."""
    frozen = {key: ref(best_path(other), f"config.{key}") for key, other in spec.freeze.items()}
    trials: list[Trial] = []

    def add(tid: str, rnd: int, idx: int, params: dict, variants=None, seeds=None) -> None:
        params = {**params, **frozen}
        overrides = deep_merge(spec.base, nest(params))
        if spec.epochs is not None:
            set_dotted(overrides, EPOCHS_KEY, spec.epochs)
            for key, value in FIXED_BUDGET.items():
                set_dotted(overrides, key, value)
        inputs = sorted({v["$from"] for v in params.values() if is_ref(v)})
        candidates = {}
        for key, value in params.items():
            if is_ref(value):
                choices = _candidates_for(spec, specs, key)
                if choices is not None:
                    candidates[key] = choices
        trials.append(
            Trial(
                sweep=spec.name,
                id=tid,
                round=rnd,
                index=idx,
                params=params,
                overrides=overrides,
                variants=tuple(variants or spec.variants),
                seeds=tuple(seeds or spec.seeds),
                inputs=tuple(inputs),
                candidates=candidates,
            )
        )

    if spec.kind == "grid":
        combos = expand_grid(spec.space)[: spec.trials_per_round]
        width = _width(len(combos))
        for i, combo in enumerate(combos):
            add(f"t{i:0{width}d}", 0, i, combo)
    elif spec.kind == "bayesian":
        width = _width(spec.trials_per_round)
        for r in range(spec.rounds):
            proposal = proposal_path(spec.name, r)
            for i in range(spec.trials_per_round):
                tid = f"t{i:0{width}d}"
                params = {p.key: ref(proposal, f"trials.{tid}.{p.key}") for p in spec.space}
                add(f"r{r}-{tid}", r, i, params)
    else:
        source_keys = [k for k in provided_keys(specs, spec.source) if k not in spec.freeze]
        ranking = top_path(spec.source)
        width = _width(spec.top + 1)
        for i in range(1, spec.top + 1):
            params = {k: ref(ranking, f"ranks.rank{i}.config.{k}") for k in source_keys}
            add(f"top{i:0{width}d}", 0, i - 1, params)
        if spec.control is not None:
            rank = spec.control.rank
            params = {k: ref(ranking, f"ranks.rank{rank}.config.{k}") for k in source_keys}
            add(CONTROL_ID, 1, 0, params, spec.control.variants, spec.control.seeds)
    return trials


def _candidates_for(spec: SweepSpec, specs: Mapping[str, SweepSpec], key: str) -> list[Any] | None:
    if key in spec.freeze:
        return candidate_values(specs, spec.freeze[key], key)
    if spec.kind == "championship":
        return candidate_values(specs, spec.source, key)
    return spec.param(key).candidates()


def expand_all(specs: Mapping[str, SweepSpec]) -> dict[str, list[Trial]]:
    """Trials of every sweep, keyed by sweep name."""
    return {name: expand_trials(spec, specs) for name, spec in specs.items()}
