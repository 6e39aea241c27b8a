"""Outputs get the mode any new file gets (0644 under umask 022), not mkstemp's private 0600.

A 0600 output cannot be read by the group of a shared results directory or by a web server
serving the report; the mode must follow the user's umask like any other program's files.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from zetalab.evaluation.predictions import save_predictions
from zetalab.io import atomic_path, save_npy_atomic, write_json_atomic, write_text_atomic
from zetalab.learning.graph import build_graph, save_graph


@pytest.fixture
def umask(request) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _torch_save(path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save({"w": torch.zeros(3)}, tmp)


WRITERS = {
    "json": lambda p: write_json_atomic(p, {"a": 1}),
    "text": lambda p: write_text_atomic(p, "hello\n"),
    "npy": lambda p: save_npy_atomic(p, np.arange(3.0)),
    "predictions": lambda p: save_predictions(p, np.arange(1, 4), np.zeros(3), "x", "model"),
    "graph": lambda p: save_graph(p, build_graph(20, [2, 3])),
    "torch": _torch_save,
}


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077], indirect=True, ids=oct)
@pytest.mark.parametrize("writer", WRITERS, ids=str)
def test_outputs_follow_the_umask(tmp_path, umask, writer):
    path = tmp_path / "out" / f"file.{writer}"
    WRITERS[writer](path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_a_rewrite_keeps_the_usual_mode(tmp_path, umask):
    path = tmp_path / "a.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"a": 2})
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.umask(umask) == umask  # reading the mode left the process umask as it was
