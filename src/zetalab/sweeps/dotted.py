"""Dotted keys ("loss.w_nll") over nested config dicts, and `$from` references.

A later phase freezes an earlier phase's winner by *referring* to its result file, so the
value is read when the trial runs, never copied into a config at parse time; the references
are resolved by zetalab.learning.runconfig, the same code the training rule uses.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

REF_KEY = "$from"


def get_dotted(tree: Mapping[str, Any], key: str) -> Any:
    """The value at `key`; KeyError names the missing part."""
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def set_dotted(tree: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` in place, creating the intermediate sections."""
    *parents, leaf = key.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"loss.w_nll": 0.1} -> {"loss": {"w_nll": 0.1}}."""
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        set_dotted(tree, key, copy.deepcopy(value))
    return tree


def leaf_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of the leaves (a `$from` reference counts as one leaf)."""
    keys = []
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and not is_ref(value):
            keys += leaf_keys(value, key + ".")
        else:
            keys.append(key)
    return keys


def ref(path: str, key: str) -> dict[str, str]:
    """A reference to the value at `key` in the JSON file `path`."""
    return {REF_KEY: path, "key": key}


def is_ref(value: Any) -> bool:
    return isinstance(value, Mapping) and REF_KEY in value
