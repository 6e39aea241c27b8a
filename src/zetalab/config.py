"""Configuration: one JSON schema (split into one file per section) with the defaults.

The Snakefile, the scripts and the command-line tools all go through `load_config`, so an
invalid value is refused in the same words everywhere, before any job starts.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from zetalab.errors import ZetalabError

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "config" / "schema"
MAIN_SCHEMA = SCHEMA_DIR / "config.schema.yaml"


def load_schema(path: Path = MAIN_SCHEMA) -> dict[str, Any]:
    """The schema with every `$ref: "<file>.schema.yaml"` replaced by that file's content."""
    return copy.deepcopy(_cached_schema(path))


@functools.cache
def _cached_schema(path: Path) -> dict[str, Any]:
    # Parsed once per process: every run config of a large sweep is validated at parse time.
    return _inline_refs(yaml.safe_load(path.read_text()), path.parent)


def schema_enum(*path: str) -> tuple[str, ...]:
    """The allowed values of one config key, e.g. schema_enum("graph", "partition", "method"):
    code that dispatches on a setting takes its list from here, so the two cannot drift.
    Object levels are stepped through "properties", arrays through "items"."""
    node: Any = _cached_schema(MAIN_SCHEMA)
    for key in path:
        node = node["items"] if key == "[]" else node["properties"][key]
    return tuple(node["enum"])


def _inline_refs(node: Any, base: Path) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            target = base / ref
            resolved = _inline_refs(yaml.safe_load(target.read_text()), target.parent)
            resolved.pop("$schema", None)
            rest = {k: _inline_refs(v, base) for k, v in node.items() if k != "$ref"}
            return {**resolved, **rest}
        return {k: _inline_refs(v, base) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, base) for v in node]
    return node


def _fill_defaults(schema: Mapping[str, Any], instance: Any) -> Any:
    """Insert schema defaults recursively (objects without a value get their default or {})."""
    if not isinstance(instance, dict) or schema.get("type") != "object":
        return instance
    for key, sub in schema.get("properties", {}).items():
        if key not in instance:
            if "default" in sub:
                instance[key] = copy.deepcopy(sub["default"])
            elif sub.get("type") == "object":
                instance[key] = {}
            else:
                continue
        instance[key] = _fill_defaults(sub, instance[key])
    return instance


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in schema["enum"])
        return f"config key {key} = {error.instance!r} is not allowed; allowed values: {allowed}"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        return f"config key {key}: {error.message}; known keys here: {allowed}"
    hint = f" ({schema['description']})" if "description" in schema else ""
    return f"config key {key} = {error.instance!r} is invalid: {error.message}{hint}"


def validate_config(config: dict[str, Any], schema: Mapping[str, Any] | None = None) -> dict:
    """Fill defaults in place and validate; raise ZetalabError naming every bad key."""
    schema = load_schema() if schema is None else schema
    _drop_disabled_variants(config)
    _fill_defaults(schema, config)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = "\n  ".join(_describe(e) for e in errors)
        raise ZetalabError(
            f"invalid configuration:\n  {lines}",
            "edit the key(s) in your config file; the schema is config/schema/config.schema.yaml",
        )
    _check_ab_teams(config)
    return config


def _drop_disabled_variants(config: dict[str, Any]) -> None:
    """`train.variants: {name: null}` in a --configfile removes a variant the main config
    defines (Snakemake merges config files key by key, so nothing else can)."""
    variants = config.get("train", {}).get("variants")
    if isinstance(variants, dict):
        config["train"]["variants"] = {k: v for k, v in variants.items() if v is not None}


def _check_ab_teams(config: Mapping[str, Any]) -> None:
    """The A/B study's teams and ablation name variants that are trained (a schema cannot
    say that one key's value must be a key of another section)."""
    ab, variants = config.get("ab"), config.get("train", {}).get("variants")
    if not isinstance(ab, Mapping) or not isinstance(variants, Mapping):
        return
    bad = [
        f"ab.{k} = {ab[k]!r}" for k in ("team1", "team2", "ablation") if ab.get(k) not in variants
    ]
    if bad:
        raise ZetalabError(
            f"invalid configuration: {', '.join(bad)} names no variant of train.variants",
            f"use one of: {', '.join(sorted(variants))} (or add the variant to train.variants)",
        )


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict:
    """Read YAML (default config/config.yaml), merge overrides, fill defaults, validate."""
    config_path = Path(path) if path is not None else REPO_ROOT / "config" / "config.yaml"
    try:
        config = yaml.safe_load(config_path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ZetalabError(
            f"{config_path} is not valid YAML: {exc}", "fix the YAML syntax"
        ) from exc
    if overrides:
        config = deep_merge(config, overrides)
    return validate_config(config)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `override` merged in, nested mappings merged key by key."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
