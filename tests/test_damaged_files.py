"""A damaged file (cut short, bytes overwritten, not the format at all) gets the project's message.

Every reader of a workflow file must answer with a ZetalabError that names the file, says it is
damaged, and gives a command that rebuilds it; never numpy's, zipfile's, json's or torch's own
exception. The end-to-end test runs the rebuild command exactly as the message prints it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SNAKEMAKE

from zetalab.errors import ZetalabError
from zetalab.evaluation.predictions import load_predictions, save_predictions
from zetalab.io import read_json, read_npy, read_npz, read_torch, write_json_atomic
from zetalab.learning.graph import build_graph, load_graph, read_graph_meta, save_graph
from zetalab.learning.partition import (
    load_partition,
    partition_graph,
    read_partition_meta,
    save_partition,
)

DAMAGED = "is damaged (corrupt, truncated or unreadable"


def cut(path: Path) -> None:
    """Truncate to half its length, as a copy or a write cut short would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def overwrite_middle(path: Path) -> None:
    """Overwrite 32 bytes in the middle, as a bad disk or a bad sync would (length unchanged)."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 32] = b"\xff" * 32
    path.write_bytes(bytes(data))


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not the file you are looking for\n" * 3)


DAMAGES = [cut, empty, overwrite_middle, garbage]


def assert_damaged(exc: pytest.ExceptionInfo[ZetalabError], path: Path) -> None:
    message = str(exc.value)
    assert f"{path} {DAMAGED}" in message
    assert f"snakemake --cores all --forcerun {path}" in message
    assert "Traceback" not in message


def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "graph_60_2-3.npz"
    save_graph(path, build_graph(60, [2, 3]))
    return path


def partition_file(tmp_path: Path) -> Path:
    path = tmp_path / "partition.npz"
    graph = build_graph(60, [2, 3])
    save_partition(path, partition_graph(graph, "contiguous", 3), graph.primes)
    return path


def predictions_file(tmp_path: Path) -> Path:
    path = tmp_path / "predictions.npz"
    save_predictions(path, np.arange(1, 501), np.linspace(-1, 1, 500), "smooth", "baseline")
    return path


NPZ_READERS: list[tuple[Callable[[Path], Path], Callable[[Path], object]]] = [
    (graph_file, load_graph),
    (graph_file, read_graph_meta),
    (partition_file, load_partition),
    (partition_file, read_partition_meta),
    (predictions_file, lambda p: load_predictions(p, 500)),
]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("make", "read"), NPZ_READERS, ids=["graph", "graph-meta", "partition", "part-meta", "pred"]
)
def test_damaged_npz_is_refused_with_the_rebuild_command(tmp_path, make, read, damage):
    if damage is overwrite_middle and read in (read_graph_meta, read_partition_meta):
        pytest.skip("the meta readers read only the small header arrays, which stay intact")
    path = make(tmp_path)
    read(path)  # intact: reads
    damage(path)
    with pytest.raises(ZetalabError) as exc:
        read(path)
    assert_damaged(exc, path)


def test_npz_missing_an_array_is_refused(tmp_path):
    path = tmp_path / "predictions.npz"
    np.savez(path, index=np.arange(1, 4))
    with pytest.raises(ZetalabError) as exc:
        load_predictions(path, 3)
    assert_damaged(exc, path)


def test_npz_reader_lets_its_own_check_through(tmp_path):
    """A ZetalabError raised by the reading function is not relabelled as damage."""
    path = predictions_file(tmp_path)

    def read(data):
        raise ZetalabError("a specific problem", "a specific fix")

    with pytest.raises(ZetalabError, match="a specific problem"):
        read_npz(path, read)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("mmap", [False, True])
def test_damaged_npy_is_refused(tmp_path, damage, mmap):
    path = tmp_path / "values.npy"
    np.save(path, np.linspace(14.0, 100.0, 1000))
    assert read_npy(path, mmap=mmap).shape == (1000,)
    damage(path)
    if damage is overwrite_middle:  # the header survives: the bytes are the values' problem
        pytest.skip("overwritten values are caught by the sha256 of the record, tested below")
    with pytest.raises(ZetalabError) as exc:
        read_npy(path, mmap=mmap)
    assert_damaged(exc, path)


@pytest.mark.parametrize("damage", [cut, overwrite_middle], ids=lambda f: f.__name__)
def test_damaged_zeros_aggregate_is_refused_with_the_rebuild_command(odlyzko, tmp_path, damage):
    from zetalab.zeros.store import aggregate, load_aggregate, write_chunk

    chunk = tmp_path / "chunk.npy"
    write_chunk(chunk, odlyzko[:300], 1, {"backend": "file"})
    zeros = tmp_path / "zeros_300.npy"
    aggregate([chunk], zeros, 300)
    damage(zeros)
    with pytest.raises(ZetalabError) as exc:
        load_aggregate(zeros)
    message = str(exc.value)
    assert str(zeros) in message and re.search(r"corrupt|truncated|damaged", message)
    assert f"snakemake --cores all --forcerun {zeros}" in message
    assert not re.search(rf"snakemake {re.escape(str(zeros))}\b", message)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
def test_damaged_json_is_refused(tmp_path, damage):
    path = tmp_path / "metrics.json"
    write_json_atomic(path, {"status": "ok", "history": list(range(200))})
    assert read_json(path)["status"] == "ok"
    damage(path)
    with pytest.raises(ZetalabError) as exc:
        read_json(path)
    assert_damaged(exc, path)


def test_damaged_run_metrics_stop_evaluation_with_the_message(tmp_path, odlyzko):
    from zetalab.evaluation.jobs import evaluate_job
    from zetalab.zeros.store import aggregate, write_chunk

    chunk = tmp_path / "chunk.npy"
    write_chunk(chunk, odlyzko[:300], 1, {"backend": "file"})
    zeros = tmp_path / "zeros_300.npy"
    aggregate([chunk], zeros, 300)
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"config": {"dataset": {"N": 2')
    dataset = {"N": 200, "horizon": 50, "validation_fraction": 0.1, "split_seed": 0}
    with pytest.raises(ZetalabError) as exc:
        evaluate_job(predictions_file(tmp_path), zeros, dataset, tmp_path / "e.json", metrics)
    assert_damaged(exc, metrics)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
def test_damaged_checkpoint_is_refused(tmp_path, damage):
    path = tmp_path / "checkpoint.pt"
    torch.save({"epoch": 3, "model": {"w": torch.arange(2000.0)}}, path)
    assert read_torch(path)["epoch"] == 3
    damage(path)
    fix = f"delete it to start that run afresh: rm {path}"
    with pytest.raises(ZetalabError) as exc:
        read_torch(path, fix=fix)
    assert f"{path} {DAMAGED}" in str(exc.value) and fix in str(exc.value)


def test_missing_file_is_named_as_missing(tmp_path):
    with pytest.raises(ZetalabError, match=r"nothing\.json does not exist"):
        read_json(tmp_path / "nothing.json")


WORKFLOW = """
rule all:
    input:
        "results/evaluation.json",


rule predict:
    output:
        "results/predictions.npz",
    run:
        import numpy as np
        from zetalab.evaluation.predictions import save_predictions

        save_predictions(output[0], np.arange(1, 301), np.zeros(300), "smooth", "baseline")


rule evaluate:
    input:
        predictions="results/predictions.npz",
    output:
        "results/evaluation.json",
    log:
        "logs/evaluate.log",
    script:
        "evaluate.py"
"""

# A thin entry point like those under scripts/: the log set-up, then the project's reader.
SCRIPT = """
from zetalab.evaluation.predictions import load_predictions
from zetalab.io import write_json_atomic
from zetalab.logsetup import log_to

log_to(snakemake.log[0])
predictions = load_predictions(snakemake.input.predictions, 300)
write_json_atomic(snakemake.output[0], {"name": predictions["name"]})
"""


def test_damaged_input_of_a_job_message_log_and_rebuild_command(tmp_path):
    """A job script meets a damaged predictions.npz inside Snakemake: stderr has the message
    (no raw traceback), the log has the traceback and the one-line reason, and the printed
    command, run as written, rebuilds the file and finishes the workflow."""
    (tmp_path / "Snakefile").write_text(WORKFLOW)
    (tmp_path / "evaluate.py").write_text(SCRIPT)
    env = {**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"}

    def snakemake(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(SNAKEMAKE), *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    first = snakemake("--cores", "1")
    assert first.returncode == 0, first.stderr
    predictions = "results/predictions.npz"
    cut(tmp_path / predictions)  # newer than evaluation.json: evaluate reruns and meets it
    failed = snakemake("--cores", "1")
    assert failed.returncode != 0
    assert f"{predictions} {DAMAGED}" in failed.stderr
    assert "Traceback" not in failed.stderr.split("Error in rule evaluate")[0]
    log_text = (tmp_path / "logs" / "evaluate.log").read_text()
    assert "Traceback (most recent call last)" in log_text
    last = log_text.strip().splitlines()[-1]
    assert "reason:" in last and f"{predictions} {DAMAGED}" in last

    command = re.search(r"fix: rebuild it and what is made from it: (snakemake [^(\n]+)", last)
    assert command, last
    args = shlex.split(command.group(1))[1:]
    rebuilt = snakemake(*args)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert load_predictions(tmp_path / predictions, 300)["name"] == "smooth"
    assert (tmp_path / "results" / "evaluation.json").exists()


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__)
def test_damaged_training_checkpoint_is_named_by_the_shared_loader(tmp_path, damage):
    """Both studies load checkpoints through zetalab.checkpoint; a damaged one (also bytes
    overwritten inside a tensor, which torch.load alone would accept) is a CheckpointError."""
    from zetalab.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"epoch": 3, "model": {"w": torch.arange(2000.0)}})
    assert load_checkpoint(path)["epoch"] == 3
    damage(path)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(path)
    assert f"checkpoint {path} {DAMAGED}" in str(exc.value)
    assert f"rm {path}" in str(exc.value)
