"""Run configurations: the main config plus a named set of overrides plus a variant.

A training run is (cfg, variant, seed). `cfg` names overrides of the sections dataset, graph,
model, train and loss (the A/B study is cfg "ab" with none; each sweep trial is one cfg). A
value may refer to another workflow output, {"$from": "<JSON path>", "key": "dotted.key"}, so a
later sweep phase can take, say, the primes an earlier phase chose, and the DAG stays static.
Everything is validated by the same schema as the main config, before any training starts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zetalab.config import deep_merge, validate_config
from zetalab.errors import ZetalabError
from zetalab.io import read_json
from zetalab.learning.features import check_run_settings

RUN_SECTIONS = ("dataset", "graph", "model", "train", "loss")
# Keys of a run's sections that do not change what the run computes: where and how it runs
# (device, checkpoint interval) and the lists naming the other runs (the other seeds, the
# other variants; a run's own variant is merged in and its seed is in its path).
NOT_RESULT_KEYS = {"train": ("device", "checkpoint_every", "seeds", "variants")}


class MissingReferenceError(ZetalabError):
    """A $from reference names a file that does not exist yet (perhaps a later rule's output).

    The workflow uses this to tell a run config that cannot be resolved at parse time (its
    inputs come through RUN_CONFIG_INPUTS) from one that is simply wrong.
    """


def run_overrides(run_config: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides of a run-config JSON: its "overrides" object, or the object itself.

    Files carry metadata beside the overrides ({"cfg": ..., "overrides": {...}}); a bare
    mapping of sections is accepted too, so RUN_CONFIGS entries and files read the same way.
    """
    overrides = run_config["overrides"] if "overrides" in run_config else run_config
    if not isinstance(overrides, Mapping):
        raise ZetalabError(
            "a run config's 'overrides' must be a mapping of sections",
            f"use keys among: {', '.join(RUN_SECTIONS)}",
        )
    unknown = sorted(set(overrides) - set(RUN_SECTIONS))
    if unknown:
        raise ZetalabError(
            f"run config overrides unknown section(s): {', '.join(unknown)}",
            f"a run may override only: {', '.join(RUN_SECTIONS)}",
        )
    return dict(overrides)


def resolve_references(node: Any, base_dir: str | Path = ".") -> Any:
    """Replace every {"$from": path, "key": "a.b"} by that key's value in that JSON file."""
    if isinstance(node, Mapping):
        if "$from" in node:
            return _lookup(node, Path(base_dir))
        return {k: resolve_references(v, base_dir) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_references(v, base_dir) for v in node]
    return node


def _lookup(ref: Mapping[str, Any], base_dir: Path) -> Any:
    extra = sorted(set(ref) - {"$from", "key"})
    if extra or not isinstance(ref.get("$from"), str) or not isinstance(ref.get("key"), str):
        raise ZetalabError(
            f"malformed reference {dict(ref)!r}",
            'write references as {"$from": "<path to JSON>", "key": "dotted.key"}',
        )
    path = base_dir / ref["$from"]
    key = ref["key"]
    if not path.exists():
        raise MissingReferenceError(
            f"run config refers to {path} (key {key!r}), which does not exist",
            "build the file first (it is an output of an earlier rule) or fix the path",
        )
    value: Any = read_json(path)
    for part in key.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise ZetalabError(
                f"{path} has no key {key!r} (missing at {part!r})",
                "fix the reference's key or rebuild the file",
            )
    return copy.deepcopy(value)


def resolve_run_config(
    base_config: Mapping[str, Any],
    run_config: Mapping[str, Any],
    variant: str,
    base_dir: str | Path = ".",
    validate: bool = True,
) -> dict[str, Any]:
    """Main config + run overrides (references resolved) + variant: the one place a run's
    config is put together (train rule, sweeps, tests).

    The result is a full config with one extra top-level key, "run": {"variant", "kind"}.
    A minibatch variant with a non-zero w_rg is refused: the RG penalty is global and a
    cluster cannot compute it (SPEC §6). `validate=False` skips the schema pass, for callers
    that resolve thousands of sweep trials at parse time from values already validated.
    """
    check = validate_config if validate else (lambda config: config)
    overrides = resolve_references(run_overrides(run_config), base_dir)
    merged = check(deep_merge(_strip_run(base_config), overrides))
    variants = merged["train"]["variants"]
    if variant not in variants:
        raise ZetalabError(
            f"unknown variant {variant!r}",
            f"use one of train.variants: {', '.join(sorted(variants))}",
        )
    spec = dict(variants[variant])
    kind = spec.pop("kind")
    merged = check(deep_merge(merged, spec))
    if kind == "minibatch" and merged["loss"]["w_rg"] != 0:
        raise ZetalabError(
            f"variant {variant!r} is minibatch but loss.w_rg = {merged['loss']['w_rg']}: "
            "rg_penalty is global and cannot be computed on clusters",
            f"set loss.w_rg: 0 in train.variants.{variant} (or in the run config)",
        )
    merged["run"] = {"variant": variant, "kind": kind}
    try:
        check_run_settings(merged)
    except ZetalabError as error:
        raise ZetalabError(f"variant {variant!r}: {error.problem}", error.fix) from None
    return merged


def result_settings(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a resolved run config its results depend on: the train rule declares it
    as a param, so Snakemake reruns a run when (and only when) one of these values changes;
    moving a run to a GPU or changing its checkpoint interval keeps its results."""
    out = {k: copy.deepcopy(resolved[k]) for k in RUN_SECTIONS if k in resolved}
    for section, keys in NOT_RESULT_KEYS.items():
        for key in keys:
            out.get(section, {}).pop(key, None)
    out["run"] = dict(resolved.get("run", {}))
    if out["run"].get("kind") == "fullbatch":
        # A full-batch run never reads the partition; only its size (steps per epoch).
        out.get("graph", {}).get("partition", {}).pop("method", None)
    return out


def _strip_run(config: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(config))
    out.pop("run", None)
    return out
