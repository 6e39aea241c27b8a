"""Chunk and aggregate files of zeros: layout, metadata, verification and streaming aggregation.

A zero is stored as an exact integer reference (one per block, in the JSON record) plus a
float64 offset (the .npy), so the stored accuracy does not decay with the height
(`zetalab.zeros.heights`). A chunk holds γ_start..γ_end with a JSON record beside it; an
aggregate holds γ_first..γ_last assembled from aligned chunks, with a manifest listing every
block's reference. A 1e8-zero aggregate is 800 MB of offsets plus a few thousand references.

Everything that reads these files goes through `read_chunk` / `load_zeros` (the one reader:
exact references + offsets, `ZeroHeights.deltas` for accurate unfolding), so a corrupt or
partial file is refused in one place, with the file named and the fix given. Files of the
first format (one float64 height per zero) are read as one block with reference 0, and their
error bound is raised by half an ulp of their largest height: their true, lower accuracy.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
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
from zetalab.zeros.heights import BLOCK, DECIMALS, ZeroHeights, from_float64

# 1: one float64 height per zero (legacy, read only); 2: integer reference + float64 offset
FORMAT_VERSION = 2
LEGACY_FORMAT = 1
# Read this many zeros at a time when streaming a chunk into an aggregate or validating.
STREAM_BLOCK = 1 << 20
# Chunk file names: indices zero-padded to 12 digits (names sort up to 10^12); beyond that they
# simply grow, written without leading zeros, so every index has exactly one name.
INDEX_WIDTH = 12
INDEX_PATTERN = r"\d{12}|[1-9]\d{12,18}"


@dataclass(frozen=True)
class ChunkRange:
    """An inclusive index range start..end of zeros (1-based: γ_1 ≈ 14.1347)."""

    start: int
    end: int

    @property
    def count(self) -> int:
        return self.end - self.start + 1


# From these heights on, a chunk job holds at least this many zeros: a job pays 2–4 s of start-up
# (interpreter, Snakemake's script wrapper, imports, the JIT cache, the first frame), and at
# height the warmed engine computes ~10⁵ zeros a second, so 5,000-zero chunks would spend most
# of their time starting (docs/benchmarks.md, "Chunk jobs at height").
CHUNK_FLOORS = ((10**8, 200_000), (10**10, 500_000), (10**12, 1_000_000))


def chunk_bands(chunk_size: int) -> list[tuple[int, int]]:
    """[(first zero index, zeros per chunk)] of each height band: `chunk_size` from zero 1,
    then max(chunk_size, floor) from the first chunk boundary at or above each CHUNK_FLOORS
    height, so every band is tiled without gaps by aligned chunks."""
    bands = [(1, chunk_size)]
    for height, floor in CHUNK_FLOORS:
        first, size = bands[-1]
        grown = max(chunk_size, floor)
        if grown != size:
            bands.append((first + -(-(height - first) // size) * size, grown))
    return bands


def chunk_ranges(total: int, chunk_size: int, first: int = 1) -> list[ChunkRange]:
    """The aligned chunks covering first..first+total−1 (`chunk_bands`): below n = 10⁸ chunk k
    is [k·cs + 1, (k + 1)·cs]; above, chunks grow with the height, aligned the same way.

    Aligned chunks mean aggregates of different sizes share their chunk files; the first and
    last chunk may extend beyond the range and the aggregate keeps only the zeros it covers.
    """
    if total < 1:
        raise ZetalabError(f"an aggregate needs at least one zero, got total={total}", "use M ≥ 1")
    if chunk_size < 1:
        raise ZetalabError(f"zeros.chunk_size must be ≥ 1, got {chunk_size}", "set it ≥ 1")
    if first < 1:
        raise ZetalabError(f"the first zero index must be ≥ 1, got {first}", "use start ≥ 1")
    last = first + total - 1
    bands = chunk_bands(chunk_size)
    out = []
    for (band_first, size), following in zip(bands, [*bands[1:], (None, None)], strict=True):
        band_last = last if following[0] is None else following[0] - 1
        lo, hi = max(first, band_first), min(last, band_last)
        if lo > hi:
            continue
        for k in range((lo - band_first) // size, (hi - band_first) // size + 1):
            out.append(ChunkRange(band_first + k * size, band_first + (k + 1) * size - 1))
    return out


def chunk_name(start: int, end: int) -> str:
    """chunk_{start}_{end}.npy with indices padded to INDEX_WIDTH digits."""
    return f"chunk_{start:0{INDEX_WIDTH}d}_{end:0{INDEX_WIDTH}d}.npy"


def chunk_path(root: str | os.PathLike[str], backend: str, start: int, end: int) -> Path:
    """data/zeros/{backend}/chunk_{start:012d}_{end:012d}.npy (see INDEX_PATTERN)."""
    return Path(root) / backend / chunk_name(start, end)


def parse_index(text: str, what: str) -> int:
    """An index wildcard in its one canonical spelling (refuses e.g. a 13-digit '0…')."""
    if not re.fullmatch(INDEX_PATTERN, text):
        raise ZetalabError(
            f"{what} {text!r} is not a chunk index (12 digits, or more without a leading zero)",
            "ask for chunk files by the names zetalab.zeros.store.chunk_path gives",
        )
    return int(text)


def aggregate_chunk_files(
    backend: str, total: int, chunk_size: int, root: str = "data/zeros", first: int = 1
) -> list[str]:
    """The aligned chunk files an aggregate of `total` zeros is streamed from (rule inputs)."""
    return [
        str(chunk_path(root, backend, r.start, r.end))
        for r in chunk_ranges(total, chunk_size, first)
    ]


def meta_path(npy: str | os.PathLike[str]) -> Path:
    """The JSON record beside a chunk: chunk_…npy → chunk_….json."""
    return Path(npy).with_suffix(".json")


def manifest_path(npy: str | os.PathLike[str]) -> Path:
    """The manifest beside an aggregate: zeros_M.npy → zeros_M.manifest.json."""
    return Path(npy).with_suffix(".manifest.json")


def validate_values(values: np.ndarray, where: str, first_index: int) -> None:
    """Finite, positive, strictly increasing float64 heights (a table, a legacy file)."""
    if values.ndim != 1:
        raise ZetalabError(f"{where}: expected a 1-D array, got shape {values.shape}", _REDO)
    if values.dtype != np.float64:
        raise ZetalabError(f"{where}: expected float64, got {values.dtype}", _REDO)
    validate_heights(from_float64(values, first_index) if len(values) else _EMPTY, where)


def validate_heights(values: ZeroHeights, where: str) -> None:
    """Finite, positive, strictly increasing: the invariants every stored run of zeros obeys.

    Streamed in runs of one reference, so a memory-mapped aggregate is read once; across runs
    the step is (R′ − R) + (o′ − o), exact integers plus a float64 difference.
    """
    previous: tuple[int, float] | None = None
    for lo, hi, ref in values.segments(STREAM_BLOCK):
        off = np.asarray(values.offsets[lo:hi])
        bad = np.flatnonzero(~np.isfinite(off))
        if bad.size:
            n = values.first_index + lo + int(bad[0])
            raise ZetalabError(f"{where}: zero #{n} is {off[bad[0]]} (not finite)", _REDO)
        if previous is None and ref + float(off[0]) <= 0:
            n = values.first_index + lo
            raise ZetalabError(f"{where}: zero #{n} is {ref + float(off[0])} ≤ 0", _REDO)
        if previous is not None:
            p_ref, p_off = previous
            if not (ref - p_ref) + (float(off[0]) - p_off) > 0:
                n = values.first_index + lo - 1
                raise ZetalabError(
                    f"{where}: not strictly increasing at zeros #{n} and #{n + 1}", _REDO
                )
        bad = np.flatnonzero(np.diff(off) <= 0)
        if bad.size:
            n = values.first_index + lo + int(bad[0])
            raise ZetalabError(
                f"{where}: not strictly increasing at zeros #{n} and #{n + 1} "
                f"({ref} + {float(off[bad[0]])!r} then {ref} + {float(off[bad[0] + 1])!r})",
                _REDO,
            )
        previous = (ref, float(off[-1]))


_EMPTY = ZeroHeights(np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64))
_REDO = (
    "delete the file and its .json record, then rerun (snakemake recomputes only missing chunks)"
)


def write_chunk(
    path: str | os.PathLike[str],
    values: ZeroHeights | np.ndarray,
    start: int,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Validate and write one chunk plus its record, both atomically (data first, record last).

    The .npy holds the float64 offsets, the record the blocks' exact references and the data's
    sha256; it is written after the data, so a chunk with a record is always complete.
    Plain float64 heights (a table) are re-expressed exactly as reference + offset.
    """
    if not isinstance(values, ZeroHeights):
        values = from_float64(np.ascontiguousarray(values, dtype=np.float64), start)
    if values.first_index != start:
        raise ValueError(f"values start at zero #{values.first_index}, not #{start}")
    end = start + len(values) - 1
    validate_heights(values, f"chunk {start}..{end} ({path})")
    save_npy_atomic(path, np.ascontiguousarray(values.offsets, dtype=np.float64))
    record = {
        "format": FORMAT_VERSION,
        "start": int(start),
        "end": int(end),
        "count": len(values),
        "sha256": sha256_file(path),
        "storage": "reference + offset: γ = blocks[b][1] + offsets[k] for zeros k of block b",
        "blocks": _blocks_record(values),
        **meta,
    }
    write_json_atomic(meta_path(path), record)
    return record


def write_text(
    path: str | os.PathLike[str], values: ZeroHeights, meta: dict[str, Any]
) -> dict[str, Any]:
    """One decimal height per line (DECIMALS digits after the point) plus the .json record.

    Each line is the stored reference + offset rounded once to DECIMALS digits, so the text
    is as accurate as the stored data (the record's bound adds that half-unit of rounding).
    """
    validate_heights(values, f"zeros {values.first_index}..{values.last_index} ({path})")
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            for lo in range(0, len(values), BLOCK):
                lines = values.decimal_lines(lo, min(lo + BLOCK, len(values)))
                fh.write("\n".join(lines) + "\n")
        digest = sha256_file(tmp)
    rounding = 0.5 * 10.0**-DECIMALS
    bound = meta.get("error_bound")
    record = {
        **meta,
        "format": "text",
        "start": values.first_index,
        "end": values.last_index,
        "count": len(values),
        "sha256": digest,
        "decimals": DECIMALS,
        "error_bound": None if bound is None else float(bound) + rounding,
        "error_bound_parts": {**meta.get("error_bound_parts", {}), "decimal_rounding": rounding},
    }
    write_json_atomic(meta_path(path), record)
    return record


def _blocks_record(values: ZeroHeights) -> list[list[Any]]:
    """[[first zero index of the block, "exact integer reference"], …]."""
    return [
        [values.first_index + int(s), str(int(r))]
        for s, r in zip(values.block_starts, values.references, strict=True)
    ]


def _heights_from_record(
    offsets: np.ndarray, record: dict[str, Any], first: int, where: Path
) -> ZeroHeights:
    """ZeroHeights for a chunk or aggregate record (legacy float64 files: one block, ref 0)."""
    if int(record.get("format", LEGACY_FORMAT)) == LEGACY_FORMAT:
        return ZeroHeights(offsets, np.zeros(1, np.int64), np.zeros(1, np.int64), first)
    try:
        blocks = record["blocks"]
        starts = np.array([int(b[0]) - first for b in blocks], dtype=np.int64)
        refs = np.array([int(b[1]) for b in blocks], dtype=np.int64)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        problem = f"{where}: its record has no valid 'blocks' list ({exc})"
        raise ZetalabError(problem, _REDO) from exc
    if (
        len(starts) == 0
        or starts[0] != 0
        or np.any(np.diff(starts) <= 0)
        or starts[-1] >= max(1, len(offsets))
    ):
        raise ZetalabError(f"{where}: its record's blocks do not tile its zeros", _REDO)
    return ZeroHeights(offsets, starts, refs, first)


def legacy_rounding(values: ZeroHeights) -> float:
    """Half an ulp of the largest height of a legacy (float64 height) file: what it lost."""
    if not len(values):
        return 0.0
    return 0.5 * float(np.spacing(float(values.offsets[len(values) - 1])))


def _true_bound(record: dict[str, Any], values: ZeroHeights) -> dict[str, Any]:
    """The record with `error_bound` raised to what a legacy float64 file really meets."""
    if int(record.get("format", LEGACY_FORMAT)) != LEGACY_FORMAT:
        return record
    lost = legacy_rounding(values)
    recorded = record.get("error_bound")
    return {
        **record,
        "legacy_float64": True,
        "error_bound": None if recorded is None else float(recorded) + lost,
        "error_bound_parts": {"recorded": recorded, "float64_height_rounding": lost},
    }


def read_chunk_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The chunk's JSON record; refuses a chunk whose record is missing (an interrupted job)."""
    record_file = meta_path(path)
    if not Path(path).exists():
        raise ZetalabError(f"chunk file {path} is missing", "rerun the zeros_chunk job for it")
    if not record_file.exists():
        raise ZetalabError(f"chunk {path} has no record {record_file}", _REDO)
    return read_json(record_file, fix=_REDO)


def read_chunk(
    path: str | os.PathLike[str], expect: ChunkRange | None = None, mmap: bool = True
) -> tuple[ZeroHeights, dict[str, Any]]:
    """Load one chunk after checking sha256, length against its range, and the value invariants.

    The record returned carries the chunk's true error bound (legacy files: raised by their
    float64 rounding).
    """
    record = read_chunk_meta(path)
    actual = sha256_file(path)
    if actual != record.get("sha256"):
        raise ZetalabError(
            f"chunk {path}: sha256 {actual[:16]}… does not match its record "
            f"({str(record.get('sha256'))[:16]}…); the file is corrupt or was edited",
            _REDO,
        )
    offsets = read_npy(path, mmap=mmap, fix=_REDO)
    start, end = int(record["start"]), int(record["end"])
    if expect is not None and (start, end) != (expect.start, expect.end):
        raise ZetalabError(
            f"chunk {path} records range {start}..{end}, expected {expect.start}..{expect.end}",
            _REDO,
        )
    if offsets.ndim != 1 or offsets.dtype != np.float64:
        raise ZetalabError(f"chunk {path}: expected 1-D float64, got {offsets.dtype}", _REDO)
    if len(offsets) != end - start + 1:
        raise ZetalabError(
            f"chunk {path}: {len(offsets)} values for range {start}..{end} "
            f"({end - start + 1} expected)",
            _REDO,
        )
    values = _heights_from_record(offsets, record, start, Path(path))
    validate_heights(values, f"chunk {start}..{end} ({path})")
    return values, _true_bound(record, values)


def aggregate(
    chunk_files: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    total: int,
    extra: dict[str, Any] | None = None,
    first: int = 1,
) -> dict[str, Any]:
    """Stream chunks into an aggregate of zeros first..first+total−1 and write its manifest.

    Chunks must tile the range in order without gap or overlap, and values must increase across
    chunk seams. The offsets go into a memory-mapped .npy written block by block into a
    temporary file and renamed, so a 100M-zero aggregate never sits in memory (let alone
    twice) and a failure leaves nothing behind; the blocks' references go into the manifest.
    """
    if total < 1:
        raise ZetalabError(f"aggregate size must be ≥ 1, got {total}", "use M ≥ 1")
    last = first + total - 1
    entries = []
    for f in chunk_files:
        record = read_chunk_meta(f)
        entries.append((int(record["start"]), int(record["end"]), Path(f)))
    entries.sort(key=lambda e: (e[0], e[1]))
    entries = [e for e in entries if e[1] >= first and e[0] <= last]
    _check_tiling(entries, first, last)

    out = Path(out)
    chunks_manifest: list[dict[str, Any]] = []
    blocks: list[list[Any]] = []
    previous: tuple[int, float, int] | None = None  # reference, offset, index of the last zero
    with atomic_path(out) as tmp:
        target = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float64, shape=(total,))
        for start, end, path in entries:
            values, record = read_chunk(path, ChunkRange(start, end))
            lo, hi = max(first, start) - start, min(last, end) - start + 1
            used = values.slice(lo, hi)
            ref0 = int(used.references[0])
            if previous is not None:
                p_ref, p_off, p_n = previous
                if not (ref0 - p_ref) + (float(used.offsets[0]) - p_off) > 0:
                    raise ZetalabError(
                        f"chunks meet out of order: zero #{p_n} ≥ zero #{p_n + 1} (chunk {path})",
                        _REDO,
                    )
            at = used.first_index - first
            for k in range(0, len(used), STREAM_BLOCK):
                m = min(k + STREAM_BLOCK, len(used))
                target[at + k : at + m] = used.offsets[k:m]
            blocks.extend(_blocks_record(used))
            previous = (int(used.references[-1]), float(used.offsets[-1]), used.last_index)
            chunks_manifest.append(
                {
                    "path": str(path),
                    "start": start,
                    "end": end,
                    "used": [used.first_index, used.last_index],
                    "sha256": record["sha256"],
                    "format": int(record.get("format", LEGACY_FORMAT)),
                    "error_bound": record.get("error_bound"),
                    "sign_bound": record.get("sign_bound", "estimate"),
                }
            )
        target.flush()
        del target
        digest = sha256_file(tmp)
    bounds = [c["error_bound"] for c in chunks_manifest]
    manifest = {
        "format": FORMAT_VERSION,
        "count": total,
        "coverage": [first, last],
        "dtype": "float64 offsets",
        "storage": "reference + offset: γ = blocks[b][1] + offsets[k] for zeros k of block b",
        "sha256": digest,
        "chunks": chunks_manifest,
        # the largest chunk bound; null when any chunk has none (a table of unknown accuracy)
        "error_bound": None if any(b is None for b in bounds) else max(bounds),
        # "rigorous" when every chunk's count rests on proved signs only (SPEC §3)
        "sign_bound": "rigorous"
        if all(c["sign_bound"] == "rigorous" for c in chunks_manifest)
        else "estimate",
        "blocks": blocks,
        **(extra or {}),
    }
    write_json_atomic(manifest_path(out), manifest)
    return manifest


def _check_tiling(entries: Sequence[tuple[int, int, Path]], first: int, last: int) -> None:
    expected = first
    for start, end, path in entries:
        if start > expected:
            raise ZetalabError(
                f"gap in the chunks: zeros {expected}..{start - 1} are in no chunk "
                f"(next chunk is {path})",
                f"compute the chunk covering {expected}..{start - 1} (zeros_chunk)",
            )
        if start < expected and expected != first:
            raise ZetalabError(
                f"overlapping chunks: {path} starts at zero #{start} but zeros up to "
                f"#{expected - 1} are already covered",
                "pass each aligned chunk once (store.chunk_ranges lists them)",
            )
        expected = end + 1
    if expected <= last:
        raise ZetalabError(
            f"the chunks cover zeros {first}..{expected - 1} only; {first}..{last} requested",
            f"compute the chunks covering {expected}..{last} (zeros_chunk)",
        )


def load_zeros(
    path: str | os.PathLike[str], min_count: int | None = None, verify_checksum: bool = True
) -> tuple[ZeroHeights, dict[str, Any]]:
    """The zeros of an aggregate (offsets memory-mapped read-only) and its manifest.

    This is the one reader later stages use: exact references plus float64 offsets, so
    `values.deltas()` unfolds accurately at any height and `values.heights()` gives float64
    heights where their rounding does not matter. The manifest returned carries the true error
    bound (legacy float64 aggregates: raised by half an ulp of their largest height). A missing,
    truncated, edited or too-short aggregate is refused naming the file and the rebuild command.
    """
    path = Path(path)
    rebuild = rebuild_command(path)
    if not path.exists():
        problem = f"zeros aggregate {path} does not exist"
        raise ZetalabError(problem, f"build it: snakemake --cores all {path}")
    manifest_file = manifest_path(path)
    if not manifest_file.exists():
        raise ZetalabError(f"zeros aggregate {path} has no manifest {manifest_file}", rebuild)
    manifest = read_json(manifest_file, fix=rebuild)
    if verify_checksum:
        actual = sha256_file(path)
        if actual != manifest.get("sha256"):
            raise ZetalabError(
                f"zeros aggregate {path}: sha256 does not match {manifest_file} "
                "(corrupt, truncated or edited)",
                rebuild,
            )
    offsets = read_npy(path, mmap=True, fix=rebuild)
    if offsets.dtype != np.float64 or offsets.ndim != 1:
        raise ZetalabError(
            f"zeros aggregate {path}: expected 1-D float64, got {offsets.dtype} {offsets.shape}",
            rebuild,
        )
    if len(offsets) != int(manifest.get("count", -1)):
        raise ZetalabError(
            f"zeros aggregate {path} holds {len(offsets)} zeros, its manifest says "
            f"{manifest.get('count')}",
            rebuild,
        )
    if min_count is not None and len(offsets) < min_count:
        raise ZetalabError(
            f"zeros aggregate {path} holds {len(offsets)} zeros, {min_count} needed",
            f"build a larger one: zeros_{min_count}.npy (dataset.N + 2·horizon zeros)",
        )
    first = int(manifest.get("coverage", [1])[0])
    values = _heights_from_record(offsets, manifest, first, path)
    return values, _true_bound(manifest, values)


def load_aggregate(
    path: str | os.PathLike[str], min_count: int | None = None, verify_checksum: bool = True
) -> np.ndarray:
    """γ as float64 heights (rounded to 2^-53·γ: for δ at large heights use `load_zeros`)."""
    values, _ = load_zeros(path, min_count, verify_checksum)
    return values.heights()


def error_bound_of(record: dict[str, Any]) -> float:
    """A record's error bound as a number (nan when the accuracy is unknown)."""
    bound = record.get("error_bound")
    return math.nan if bound is None else float(bound)
