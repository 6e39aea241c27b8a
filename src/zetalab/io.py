"""Atomic file writes and checksums.

Every output of the workflow is written to a temporary file in the same directory and renamed
into place, so an interrupted job never leaves a partial file that a rerun would trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def save_npy_atomic(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write one array as .npy atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    """Write JSON atomically, with stable key order so reruns give identical bytes."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def json_safe(obj: Any) -> Any:
    """NaN/Inf become null: strict JSON has neither, and every reader turns null back into NaN."""
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read JSON, naming the file if it is not valid JSON."""
    from zetalab.errors import ZetalabError

    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ZetalabError(
            f"{path} is not valid JSON ({exc})", "delete it and rerun the rule that writes it"
        ) from exc


def read_npz(path: str | os.PathLike[str], read: Callable[[Any], T], what: str, rule: str) -> T:
    """`read(data)` on an .npz file; a missing or damaged file names the rule that rewrites it."""
    from zetalab.errors import ZetalabError

    try:
        with np.load(path, allow_pickle=False) as data:
            return read(data)
    except (OSError, ValueError, KeyError) as exc:
        raise ZetalabError(
            f"{path} is not a readable {what} file ({exc})", f"delete it and rerun the {rule} rule"
        ) from exc


def sha256_file(path: str | os.PathLike[str], block: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in blocks so large aggregates stream."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
