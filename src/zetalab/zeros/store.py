"""Chunk and aggregate files of zeros: layout, metadata, verification and streaming aggregation.

A chunk holds γ_start..γ_end (float64, index order) with a JSON record beside it; an aggregate
holds γ_1..γ_M assembled from aligned chunks, with a manifest. Everything that reads these
files goes through `read_chunk` / `load_aggregate`, so a corrupt or partial file is refused in
one place, with the file named and the fix given, instead of silently feeding wrong zeros to the
learning stage.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.io import (
    atomic_path,
    read_json,
    read_npy,
    rebuild_command,
    save_npy_atomic,
    sha256_file,
    write_json_atomic,
)

FORMAT_VERSION = 1
# Read this many zeros at a time when streaming a chunk into an aggregate or hashing-checking.
STREAM_BLOCK = 1 << 20


@dataclass(frozen=True)
class ChunkRange:
    """An inclusive index range start..end of zeros (1-based: γ_1 ≈ 14.1347)."""

    start: int
    end: int

    @property
    def count(self) -> int:
        return self.end - self.start + 1


def chunk_ranges(total: int, chunk_size: int) -> list[ChunkRange]:
    """The aligned chunks covering 1..total: chunk k is [k·cs + 1, (k + 1)·cs].

    Aligned chunks mean aggregates of different sizes share their chunk files; the last chunk
    may extend past `total` and the aggregate keeps only the first `total` zeros.
    """
    if total < 1:
        raise ZetalabError(f"an aggregate needs at least one zero, got total={total}", "use M ≥ 1")
    if chunk_size < 1:
        raise ZetalabError(f"zeros.chunk_size must be ≥ 1, got {chunk_size}", "set it ≥ 1")
    n_chunks = math.ceil(total / chunk_size)
    return [ChunkRange(k * chunk_size + 1, (k + 1) * chunk_size) for k in range(n_chunks)]


def chunk_path(root: str | os.PathLike[str], backend: str, start: int, end: int) -> Path:
    """data/zeros/{backend}/chunk_{start:012d}_{end:012d}.npy (zero-padded so names sort)."""
    return Path(root) / backend / f"chunk_{start:012d}_{end:012d}.npy"


def aggregate_chunk_files(
    backend: str, total: int, chunk_size: int, root: str = "data/zeros"
) -> list[str]:
    """The aligned chunk files an aggregate of `total` zeros is streamed from (rule inputs)."""
    return [str(chunk_path(root, backend, r.start, r.end)) for r in chunk_ranges(total, chunk_size)]


def meta_path(npy: str | os.PathLike[str]) -> Path:
    """The JSON record beside a chunk: chunk_…npy → chunk_….json."""
    return Path(npy).with_suffix(".json")


def manifest_path(npy: str | os.PathLike[str]) -> Path:
    """The manifest beside an aggregate: zeros_M.npy → zeros_M.manifest.json."""
    return Path(npy).with_suffix(".manifest.json")


def validate_values(values: np.ndarray, where: str, first_index: int) -> None:
    """Finite, positive, strictly increasing: the invariants every stored run of zeros obeys."""
    if values.ndim != 1:
        raise ZetalabError(f"{where}: expected a 1-D array, got shape {values.shape}", _REDO)
    if values.dtype != np.float64:
        raise ZetalabError(f"{where}: expected float64, got {values.dtype}", _REDO)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        n = first_index + int(bad[0])
        raise ZetalabError(f"{where}: zero #{n} is {values[bad[0]]} (not finite)", _REDO)
    if values.size and values[0] <= 0:
        raise ZetalabError(f"{where}: zero #{first_index} is {values[0]} ≤ 0", _REDO)
    steps = np.diff(values)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        n = first_index + int(bad[0])
        raise ZetalabError(
            f"{where}: not strictly increasing at zeros #{n} and #{n + 1} "
            f"({float(values[bad[0]])!r} then {float(values[bad[0] + 1])!r})",
            _REDO,
        )


_REDO = (
    "delete the file and its .json record, then rerun (snakemake recomputes only missing chunks)"
)


def write_chunk(
    path: str | os.PathLike[str], values: np.ndarray, start: int, meta: dict[str, Any]
) -> dict[str, Any]:
    """Validate and write one chunk plus its record, both atomically (data first, record last).

    The record is written after the data, so a chunk with a record is always complete; the
    record carries the data's sha256 so later corruption is detected.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    end = start + len(values) - 1
    validate_values(values, f"chunk {start}..{end} ({path})", start)
    save_npy_atomic(path, values)
    record = {
        "format": FORMAT_VERSION,
        "start": int(start),
        "end": int(end),
        "count": len(values),
        "sha256": sha256_file(path),
        **meta,
    }
    write_json_atomic(meta_path(path), record)
    return record


def read_chunk_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The chunk's JSON record; refuses a chunk whose record is missing (an interrupted job)."""
    record_file = meta_path(path)
    if not Path(path).exists():
        raise ZetalabError(f"chunk file {path} is missing", "rerun the zeros_chunk job for it")
    if not record_file.exists():
        raise ZetalabError(f"chunk {path} has no record {record_file}", _REDO)
    return read_json(record_file)


def read_chunk(
    path: str | os.PathLike[str], expect: ChunkRange | None = None, mmap: bool = True
) -> tuple[np.ndarray, dict[str, Any]]:
    """Load one chunk after checking sha256, length against its range, and the value invariants."""
    record = read_chunk_meta(path)
    actual = sha256_file(path)
    if actual != record.get("sha256"):
        raise ZetalabError(
            f"chunk {path}: sha256 {actual[:16]}… does not match its record "
            f"({str(record.get('sha256'))[:16]}…); the file is corrupt or was edited",
            _REDO,
        )
    values = read_npy(path, mmap=mmap, fix=_REDO)
    start, end = int(record["start"]), int(record["end"])
    if expect is not None and (start, end) != (expect.start, expect.end):
        raise ZetalabError(
            f"chunk {path} records range {start}..{end}, expected {expect.start}..{expect.end}",
            _REDO,
        )
    if len(values) != end - start + 1:
        raise ZetalabError(
            f"chunk {path}: {len(values)} values for range {start}..{end} "
            f"({end - start + 1} expected)",
            _REDO,
        )
    validate_values(np.asarray(values), f"chunk {start}..{end} ({path})", start)
    return values, record


def aggregate(
    chunk_files: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    total: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stream chunks into zeros_{total}.npy (first `total` zeros) and write its manifest.

    Chunks must tile 1..≥total in order without gap or overlap, and values must increase across
    chunk seams. The output is a memory-mapped .npy written block by block into a temporary file
    and renamed, so a 100M-zero aggregate never sits in memory (let alone twice) and a failure
    leaves nothing behind.
    """
    if total < 1:
        raise ZetalabError(f"aggregate size must be ≥ 1, got {total}", "use M ≥ 1")
    entries = []
    for f in chunk_files:
        record = read_chunk_meta(f)
        entries.append((int(record["start"]), int(record["end"]), Path(f), record))
    entries.sort(key=lambda e: (e[0], e[1]))
    _check_tiling([(s, e, p) for s, e, p, _ in entries], total)

    out = Path(out)
    chunks_manifest = []
    previous_last: float | None = None
    previous_end = 0
    with atomic_path(out) as tmp:
        target = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float64, shape=(total,))
        for start, end, path, _ in entries:
            if start > total:
                break
            values, record = read_chunk(path, ChunkRange(start, end))
            keep = min(end, total) - start + 1
            if previous_last is not None and not values[0] > previous_last:
                raise ZetalabError(
                    f"chunks meet out of order: zero #{previous_end} = {previous_last!r} ≥ "
                    f"zero #{start} = {values[0]!r} (chunk {path})",
                    _REDO,
                )
            for lo in range(0, keep, STREAM_BLOCK):
                hi = min(lo + STREAM_BLOCK, keep)
                target[start - 1 + lo : start - 1 + hi] = values[lo:hi]
            previous_last = float(values[keep - 1])
            previous_end = start + keep - 1
            chunks_manifest.append(
                {
                    "path": str(path),
                    "start": start,
                    "end": end,
                    "used": [start, start + keep - 1],
                    "sha256": record["sha256"],
                    "error_bound": record.get("error_bound"),
                }
            )
        target.flush()
        del target
        digest = sha256_file(tmp)
    manifest = {
        "format": FORMAT_VERSION,
        "count": total,
        "coverage": [1, total],
        "dtype": "float64",
        "sha256": digest,
        "chunks": chunks_manifest,
        "error_bound": max(
            (c["error_bound"] for c in chunks_manifest if c["error_bound"] is not None),
            default=None,
        ),
        **(extra or {}),
    }
    write_json_atomic(manifest_path(out), manifest)
    return manifest


def _check_tiling(entries: Iterable[tuple[int, int, Path]], total: int) -> None:
    expected = 1
    for start, end, path in entries:
        if start > total:
            break
        if start > expected:
            raise ZetalabError(
                f"gap in the chunks: zeros {expected}..{start - 1} are in no chunk "
                f"(next chunk is {path})",
                f"compute the chunk covering {expected}..{start - 1} (zeros_chunk)",
            )
        if start < expected:
            raise ZetalabError(
                f"overlapping chunks: {path} starts at zero #{start} but zeros up to "
                f"#{expected - 1} are already covered",
                "pass each aligned chunk once (chunk k covers k·chunk_size+1..(k+1)·chunk_size)",
            )
        expected = end + 1
    if expected <= total:
        raise ZetalabError(
            f"the chunks cover zeros 1..{expected - 1} only; {total} requested",
            f"compute the chunks covering {expected}..{total} (zeros_chunk)",
        )


def load_aggregate(
    path: str | os.PathLike[str], min_count: int | None = None, verify_checksum: bool = True
) -> np.ndarray:
    """γ_1..γ_M from an aggregate, memory-mapped read-only, after checking it against its manifest.

    This is the one entry point later stages use: it refuses a missing, truncated, edited or
    too-short aggregate with a message that names the file and the command that rebuilds it.
    """
    path = Path(path)
    rebuild = rebuild_command(path)
    if not path.exists():
        problem = f"zeros aggregate {path} does not exist"
        raise ZetalabError(problem, f"build it: snakemake --cores all {path}")
    manifest_file = manifest_path(path)
    if not manifest_file.exists():
        raise ZetalabError(f"zeros aggregate {path} has no manifest {manifest_file}", rebuild)
    manifest = read_json(manifest_file)
    if verify_checksum:
        actual = sha256_file(path)
        if actual != manifest.get("sha256"):
            raise ZetalabError(
                f"zeros aggregate {path}: sha256 does not match {manifest_file} "
                "(corrupt, truncated or edited)",
                rebuild,
            )
    values = read_npy(path, mmap=True, fix=rebuild)
    if values.dtype != np.float64 or values.ndim != 1:
        raise ZetalabError(
            f"zeros aggregate {path}: expected 1-D float64, got {values.dtype} {values.shape}",
            rebuild,
        )
    if len(values) != int(manifest.get("count", -1)):
        raise ZetalabError(
            f"zeros aggregate {path} holds {len(values)} zeros, its manifest says "
            f"{manifest.get('count')}",
            rebuild,
        )
    if min_count is not None and len(values) < min_count:
        raise ZetalabError(
            f"zeros aggregate {path} holds {len(values)} zeros, {min_count} needed",
            f"build a larger one: zeros_{min_count}.npy (dataset.N + 2·horizon zeros)",
        )
    return values
