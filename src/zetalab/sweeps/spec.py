"""Sweep files: load, validate against their schema, and check them against each other.

Everything here runs when the Snakefile is parsed, so a bad sweep file stops the workflow with
one message naming the file and the key before any job starts.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from zetalab.config import SCHEMA_DIR, deep_merge, load_schema, validate_config
from zetalab.errors import ZetalabError
from zetalab.sweeps.space import Param, grid_size

SWEEP_SCHEMA = SCHEMA_DIR / "sweep.schema.yaml"
# Sections of the main config a trial may override (the run config's sections).
RUN_SECTIONS = ("dataset", "graph", "model", "train", "loss")
EPOCHS_KEY = "train.max_epochs"
# A sweep's `epochs:` is a fixed budget: no early stop, the cosine schedule over the budget
# (seed 002's optimiser phase); its trials are recorded as not converged.
FIXED_BUDGET = {"train.patience": None, "train.schedule": "cosine"}
KINDS = ("grid", "bayesian", "championship")


@dataclass(frozen=True)
class Control:
    """The championship's control: the winner of the source phase on other variants."""

    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    rank: int


@dataclass(frozen=True)
class SweepSpec:
    """One validated sweep file (limits of the main config already applied)."""

    name: str
    kind: str
    path: str
    base: dict[str, Any]
    space: tuple[Param, ...]
    freeze: dict[str, str]
    trials_per_round: int
    rounds: int
    seeds: tuple[int, ...]
    epochs: int | None
    variants: tuple[str, ...]
    metric: str
    reduce: str
    sampler_seed: int = 0
    n_startup_trials: int | None = None
    source: str | None = None
    top: int = 10
    control: Control | None = None
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_trials(self) -> int:
        """Trials of the main search (a championship's control not counted)."""
        if self.kind == "grid":
            return self.trials_per_round
        if self.kind == "bayesian":
            return self.trials_per_round * self.rounds
        return self.top

    def param(self, key: str) -> Param:
        return next(p for p in self.space if p.key == key)


def _fail(path: str, key: str, problem: str, fix: str) -> ZetalabError:
    return ZetalabError(f"sweep file {path}: key {key}: {problem}", fix)


@lru_cache(maxsize=1)
def _sweep_schema() -> dict[str, Any]:
    return load_schema(SWEEP_SCHEMA)


@lru_cache(maxsize=1)
def _main_schema() -> dict[str, Any]:
    return load_schema()


def key_schema(key: str, schema: Mapping[str, Any] | None = None) -> Mapping[str, Any] | None:
    """The main-config schema of a dotted key of a run section, or None if it is unknown."""
    node: Mapping[str, Any] = _main_schema() if schema is None else schema
    parts = key.split(".")
    if len(parts) < 2 or parts[0] not in RUN_SECTIONS:
        return None
    for part in parts:
        props = node.get("properties", {}) if isinstance(node, Mapping) else {}
        if part not in props:
            return None
        node = props[part]
    return node


def _known_keys_hint(key: str) -> str:
    parts = key.split(".")
    section = parts[0]
    if section not in RUN_SECTIONS:
        return f"use a key of the sections {', '.join(RUN_SECTIONS)} (e.g. loss.w_nll)"
    node = _main_schema()["properties"][section]
    for part in parts[1:-1]:
        node = node.get("properties", {}).get(part, {})
    known = ", ".join(f"{'.'.join(parts[:-1])}.{k}" for k in sorted(node.get("properties", {})))
    return f"use one of the keys the main config schema knows: {known or '(none)'}"


def _check_value(path: str, where: str, key: str, value: Any) -> None:
    """Validate one value against the main schema of `key`."""
    sub = key_schema(key)
    errors = list(jsonschema.Draft202012Validator(sub).iter_errors(value)) if sub else []
    if errors:
        raise _fail(
            path,
            where,
            f"{value!r} is not a valid value of {key}: {errors[0].message}",
            f"see {key} in config/schema/{key.split('.')[0]}.schema.yaml",
        )


def _describe_schema_error(error: jsonschema.ValidationError) -> tuple[str, str]:
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    if error.validator == "oneOf" and isinstance(error.instance, Mapping):
        return key, (
            f"{dict(error.instance)!r} is neither {{values: [...]}} nor {{low, high, log, int}}"
        )
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return key, f"{error.message}; known keys here: {allowed}"
    return key, error.message


def parse_sweep(raw: Any, path: str, config: Mapping[str, Any]) -> SweepSpec:
    """Validate one sweep file's content (schema, keys, ranges) and apply the config's limits."""
    if not isinstance(raw, Mapping):
        raise ZetalabError(
            f"sweep file {path} is not a YAML mapping", "see config/schema/sweep.schema.yaml"
        )
    raw = copy.deepcopy(dict(raw))
    schema = _sweep_schema()
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: e.path)
    if errors:
        key, problem = _describe_schema_error(errors[0])
        raise _fail(path, key, problem, "see config/schema/sweep.schema.yaml")
    for name in ("base", "space", "freeze", "objective", "sampler"):
        raw.setdefault(name, {})
    name, kind = raw["name"], raw["kind"]

    space = tuple(_parse_param(path, key, body) for key, body in raw["space"].items())
    for key in list(raw["freeze"]):
        if key_schema(key) is None:
            raise _fail(path, f"freeze.{key}", "unknown parameter", _known_keys_hint(key))
        if key in raw["space"]:
            raise _fail(path, f"freeze.{key}", "is also searched in space", "keep one of them")
    _check_base(path, raw["base"], config, set(raw["space"]) | set(raw["freeze"]))
    _check_kind(path, raw, kind, space)

    limit = config.get("sweeps", {}).get("limit", {}) or {}
    seeds = tuple(raw.get("seeds", [0]))
    trials_per_round = raw.get("trials_per_round", 8)
    rounds = raw.get("rounds", 1)
    top = raw.get("top", 10)
    if kind == "grid":
        trials_per_round, rounds = grid_size(space), 1
    epochs = raw.get("epochs")
    if epochs is not None and key_schema(EPOCHS_KEY) is None:
        raise _fail(path, "epochs", f"the main config has no {EPOCHS_KEY}", "drop `epochs`")
    control = None
    if "control" in raw:
        body = raw["control"]
        control = Control(
            variants=tuple(body.get("variants", ["fullbatch"])),
            seeds=tuple(body.get("seeds", seeds)),
            rank=body.get("rank", 1),
        )
    trials_per_round = _cap(trials_per_round, limit.get("trials_per_round"))
    rounds = _cap(rounds, limit.get("rounds"))
    top = _cap(top, limit.get("top"))
    epochs = _cap(epochs, limit.get("epochs")) if epochs is not None else limit.get("epochs")
    if limit.get("seeds"):
        seeds = seeds[: limit["seeds"]]
        if control is not None:
            control = Control(control.variants, control.seeds[: limit["seeds"]], control.rank)
    if control is not None and control.rank > top:
        raise _fail(path, "control.rank", f"rank {control.rank} is beyond top = {top}", "lower it")
    variants = tuple(raw.get("variants", ["minibatch"]))
    known_variants = config.get("train", {}).get("variants", {})
    for where, names in (
        ("variants", variants),
        ("control.variants", control.variants if control else ()),
    ):
        for variant in names:
            if known_variants and variant not in known_variants:
                raise _fail(
                    path,
                    where,
                    f"unknown variant {variant!r}",
                    f"use one of train.variants: {', '.join(sorted(known_variants))}",
                )
    sampler = raw["sampler"]
    objective = raw["objective"]
    return SweepSpec(
        name=name,
        kind=kind,
        path=path,
        base=raw["base"],
        space=space,
        freeze=dict(raw["freeze"]),
        trials_per_round=trials_per_round,
        rounds=rounds,
        seeds=seeds,
        epochs=epochs,
        variants=variants,
        metric=objective.get("metric", "extrapolation_mse_height"),
        reduce=objective.get("reduce", "final"),
        sampler_seed=sampler.get("seed", 0),
        n_startup_trials=sampler.get("n_startup_trials"),
        source=raw.get("from"),
        top=top,
        control=control,
        description=raw.get("description", ""),
        raw=raw,
    )


def _cap(value: int, limit: int | None) -> int:
    return value if limit is None else min(value, limit)


def _parse_param(path: str, key: str, body: Mapping[str, Any]) -> Param:
    where = f"space.{key}"
    if key_schema(key) is None:
        raise _fail(path, where, "unknown parameter", _known_keys_hint(key))
    if "values" in body:
        values = tuple(body["values"])
        for value in values:
            _check_value(path, where, key, value)
        if len({repr(v) for v in values}) != len(values):
            raise _fail(path, where, f"repeated values in {list(values)}", "list each once")
        return Param(key, values=values)
    low, high = body["low"], body["high"]
    log, integer = body.get("log", False), body.get("int", False)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise _fail(path, where, f"range [{low}, {high}] is not finite", "use finite bounds")
    if low == high:
        raise _fail(path, where, f"range [{low}, {high}] is empty", "make low < high")
    if low > high:
        raise _fail(path, where, f"range [{low}, {high}] is inverted (low > high)", "swap them")
    if log and low <= 0:
        raise _fail(
            path,
            where,
            f"log range [{low}, {high}] touches zero (a log scale needs low > 0)",
            "use a positive low bound, e.g. 1e-4",
        )
    if integer and not (float(low).is_integer() and float(high).is_integer()):
        raise _fail(path, where, f"int range [{low}, {high}] has non-integer bounds", "fix")
    for bound in (low, high):
        _check_value(path, where, key, int(bound) if integer else bound)
    return Param(key, low=low, high=high, log=log, integer=integer)


def _check_base(
    path: str, base: Mapping[str, Any], config: Mapping[str, Any], searched: set[str]
) -> None:
    from zetalab.sweeps.dotted import leaf_keys

    for key in leaf_keys(base):
        if key_schema(key) is None:
            raise _fail(path, f"base.{key}", "unknown parameter", _known_keys_hint(key))
        if key in searched:
            raise _fail(path, f"base.{key}", "is also searched or frozen", "keep one of them")
    try:
        validate_config(deep_merge(config, base), schema=_main_schema())
    except ZetalabError as error:
        raise ZetalabError(f"sweep file {path}: base: {error.problem}", error.fix) from None


def _check_kind(path: str, raw: Mapping[str, Any], kind: str, space: tuple[Param, ...]) -> None:
    if kind != "championship":
        for key in ("from", "control"):
            if key in raw:
                raise _fail(path, key, f"only a championship has `{key}`", f"drop `{key}`")
    if kind == "grid":
        if not space:
            raise _fail(path, "space", "a grid needs at least one parameter", "add one")
        for param in space:
            if param.is_range:
                raise _fail(
                    path,
                    f"space.{param.key}",
                    "a grid needs a list of values, not a range",
                    "give `values: [...]` or make the sweep bayesian",
                )
        if raw.get("rounds", 1) != 1:
            raise _fail(path, "rounds", "a grid has one round", "drop `rounds`")
    elif kind == "bayesian":
        if not space:
            raise _fail(path, "space", "a bayesian sweep needs at least one parameter", "add one")
    else:
        if space:
            raise _fail(path, "space", "a championship searches nothing", "drop `space`")
        if "from" not in raw:
            raise _fail(path, "from", "a championship needs the phase it retrains", "add `from`")


def load_sweep_file(path: Path, config: Mapping[str, Any]) -> SweepSpec:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ZetalabError(
            f"sweep file {path} is not valid YAML: {exc}", "fix the syntax"
        ) from None
    return parse_sweep(raw, str(path), config)


def sweep_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def load_sweeps(directory: str | Path, config: Mapping[str, Any]) -> dict[str, SweepSpec]:
    """Every sweep file in `directory`, validated alone and together, keyed by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ZetalabError(
            f"sweeps.dir {directory} is not a folder",
            "create it or set sweeps.dir to the folder of your sweep files",
        )
    specs: dict[str, SweepSpec] = {}
    for path in sweep_files(directory):
        spec = load_sweep_file(path, config)
        if spec.name in specs:
            raise ZetalabError(
                f"sweep files {specs[spec.name].path} and {path}: key name: both are named "
                f"{spec.name!r}",
                "give every sweep a unique name",
            )
        specs[spec.name] = spec
    check_references(specs)
    return specs


def provided_keys(specs: Mapping[str, SweepSpec], name: str) -> list[str]:
    """Keys a phase's best.json carries under "config": what it searched or froze."""
    spec = specs[name]
    own = [p.key for p in spec.space] + list(spec.freeze)
    if spec.kind == "championship" and spec.source in specs:
        inherited = [k for k in provided_keys(specs, spec.source) if k not in spec.freeze]
        own = inherited + list(spec.freeze)
    return own


def check_references(specs: Mapping[str, SweepSpec]) -> None:
    """Phases named by `freeze`/`from` exist, are not cycles, and provide the frozen keys."""
    for spec in specs.values():
        refs = [(f"freeze.{k}", v) for k, v in spec.freeze.items()]
        if spec.source is not None:
            refs.append(("from", spec.source))
        for where, other in refs:
            if other not in specs:
                known = ", ".join(sorted(specs)) or "(none)"
                raise _fail(
                    spec.path,
                    where,
                    f"refers to a missing phase {other!r}",
                    f"name one of the sweeps in the sweeps folder: {known}",
                )
            if other == spec.name:
                raise _fail(spec.path, where, "refers to its own phase", "name an earlier phase")
    for spec in specs.values():
        _check_acyclic(specs, spec.name, [])
    for spec in specs.values():
        for key, other in spec.freeze.items():
            if key not in provided_keys(specs, other):
                raise _fail(
                    spec.path,
                    f"freeze.{key}",
                    f"phase {other!r} ({specs[other].path}) neither searches nor freezes {key}",
                    f"freeze one of: {', '.join(provided_keys(specs, other)) or '(none)'}",
                )
        if spec.source is not None:
            source = specs[spec.source]
            if spec.top > source.n_trials:
                raise _fail(
                    spec.path,
                    "top",
                    f"top = {spec.top} but phase {source.name!r} has {source.n_trials} trials",
                    f"use top <= {source.n_trials}",
                )


def _check_acyclic(specs: Mapping[str, SweepSpec], name: str, chain: list[str]) -> None:
    if name in chain:
        cycle = " -> ".join([*chain[chain.index(name) :], name])
        raise _fail(
            specs[name].path, "freeze/from", f"phases refer in a cycle: {cycle}", "break it"
        )
    spec = specs[name]
    for other in {*spec.freeze.values(), *([spec.source] if spec.source else [])}:
        _check_acyclic(specs, other, [*chain, name])
