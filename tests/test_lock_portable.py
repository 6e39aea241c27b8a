"""requirements.lock installs on any machine: every line is a plain `name==version` pin.

A `name @ file:///…` or a path points at one machine's disk and fails everywhere else; the pip
set-up of a machine with local wheels supplies them for the same version pin (find-links).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.!+_-]+$")


def lock_lines() -> list[str]:
    lines = (REPO / "requirements.lock").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_lock_names_no_local_path_or_url():
    for line in lock_lines():
        assert "file:" not in line and " @ " not in line and "/" not in line, line
        assert PIN.match(line), f"requirements.lock: {line!r} is not a name==version pin"


def test_lock_pins_torch_by_version():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in deps
    assert [line for line in lock_lines() if line.split("==")[0] == "torch"] == ["torch==2.13.0"]
