"""Render the config schema as a Markdown reference (docs/config.md).

Generated from the schema so the documentation of every key, its default and its allowed
values cannot drift from what validation enforces; a test checks the file is current.
Run: `python -m zetalab.config_reference > docs/config.md`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from zetalab.config import load_schema


def _allowed(node: Mapping[str, Any]) -> str:
    if "enum" in node:
        return ", ".join(f"`{v}`" for v in node["enum"])
    kinds = node.get("type", "")
    kinds = " or ".join(kinds) if isinstance(kinds, list) else kinds
    bounds = [
        f"{word} {node[key]}"
        for key, word in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
        )
        if key in node
    ]
    if kinds == "array" and isinstance(node.get("items"), Mapping):
        kinds = f"list of {_allowed(node['items'])}"
    return ", ".join([kinds, *bounds]) if kinds else ", ".join(bounds)


def _rows(node: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    for key, sub in node.get("properties", {}).items():
        name = f"{prefix}{key}"
        children = sub.get("properties")
        if sub.get("type") == "object" and children:
            yield from _rows(sub, f"{name}.")
            continue
        default = json.dumps(sub["default"]) if "default" in sub else ""
        description = " ".join(str(sub.get("description", "")).split())
        yield name, _allowed(sub), default, description.replace("|", "\\|")


def render(schema: Mapping[str, Any] | None = None) -> str:
    """The whole reference: one table per top-level section."""
    schema = load_schema() if schema is None else schema
    out = [
        "# Configuration reference",
        "",
        "Generated from `config/schema/*.schema.yaml` by `python -m zetalab.config_reference`;",
        "do not edit by hand. Every key is optional: the default applies when it is absent.",
    ]
    for section, node in schema["properties"].items():
        out += ["", f"## `{section}`", ""]
        if node.get("description"):
            out += [" ".join(str(node["description"]).split()), ""]
        out += ["| key | allowed | default | meaning |", "|---|---|---|---|"]
        out += [f"| `{k}` | {a} | `{d}` | {m} |" for k, a, d, m in _rows(node, f"{section}.")]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
