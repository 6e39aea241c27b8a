"""Atomic file writes, guarded reads and checksums.

Every output of the workflow is written to a temporary file in the same directory and renamed
into place, so an interrupted job never leaves a partial file that a rerun would trust. Files
can still be damaged afterwards (a full disk, a copy cut short, a bad sync), so every reader
here turns whatever numpy, zipfile, json or torch raises on a damaged file into one
ZetalabError that names the file and gives a command that rebuilds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from zetalab.errors import ZetalabError

T = TypeVar("T")

# What numpy, zipfile, zlib, json and torch raise on a truncated or corrupt file: numpy parses
# the .npy header with ast (SyntaxError, tokenize.TokenError), an .npz is a zip archive
# (BadZipFile, zlib.error, EOFError), torch's checkpoints are zip archives (RuntimeError) of
# pickles (UnpicklingError), and JSON text may be cut or not UTF-8 (ValueError).
DAMAGED = (
    OSError,
    ValueError,
    KeyError,
    EOFError,
    RuntimeError,
    SyntaxError,
    tokenize.TokenError,
    zipfile.BadZipFile,
    zlib.error,
    pickle.UnpicklingError,
)


def rebuild_command(path: str | os.PathLike[str]) -> str:
    """The command that remakes `path` and everything made from it.

    `--forcerun FILE` reruns the job that writes FILE and every job downstream of it; a plain
    `snakemake FILE` would answer "Nothing to be done" because the damaged file is newer than
    its inputs.
    """
    return (
        f"rebuild it and what is made from it: snakemake --cores all --forcerun {path} "
        "(with the same --configfile/--profile as the run)"
    )


def damaged(
    path: str | os.PathLike[str], exc: BaseException, fix: str | None = None
) -> ZetalabError:
    """The ZetalabError for a file that exists but cannot be read back (or is missing)."""
    if not Path(path).exists():
        return ZetalabError(f"{path} does not exist", fix or rebuild_command(path))
    return ZetalabError(
        f"{path} is damaged (corrupt, truncated or unreadable: {type(exc).__name__}: {exc})",
        fix or rebuild_command(path),
    )


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
        # mkstemp creates 0600; outputs get the mode any new file gets (0644 under umask 022)
        os.chmod(tmp, 0o666 & ~_umask())
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


def read_json(path: str | os.PathLike[str], fix: str | None = None) -> Any:
    """Read JSON; a cut, corrupt or non-UTF-8 file raises `damaged` (fix: rebuild it)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise damaged(path, exc, fix) from exc


def read_npz(
    path: str | os.PathLike[str],
    read: Callable[[Any], T],
    what: str = "",
    rule: str = "",
    fix: str | None = None,
) -> T:
    """`read(data)` on an .npz file; a missing, damaged or incomplete file raises `damaged`.

    `read` runs inside the guard because an .npz decompresses each array only when it is
    accessed, so a corrupt member fails there, not at open. `what` and `rule` are kept for
    callers that name them; the message names the file and the command that remakes it.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            return read(data)
    except ZetalabError:
        raise
    except DAMAGED as exc:
        raise damaged(path, exc, fix) from exc


def read_npy(
    path: str | os.PathLike[str], mmap: bool = False, fix: str | None = None
) -> np.ndarray:
    """One .npy array (memory-mapped if `mmap`); a damaged file raises `damaged`."""
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except DAMAGED as exc:
        raise damaged(path, exc, fix) from exc


def read_torch(
    path: str | os.PathLike[str], map_location: Any = "cpu", fix: str | None = None
) -> Any:
    """A torch file (a checkpoint or a saved state) with `weights_only=True`.

    Nothing in such a file can run code when read; a damaged one (or one needing pickled
    objects) raises `damaged`. torch does not check the CRC-32 of its zip members, so bytes
    overwritten inside a tensor would load silently: the zip's own check runs first.
    """
    import torch

    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
        if bad is not None:
            raise zipfile.BadZipFile(f"bad CRC-32 for {bad}")
        return torch.load(path, map_location=map_location, weights_only=True)
    except DAMAGED as exc:
        raise damaged(path, exc, fix) from exc


def sha256_file(path: str | os.PathLike[str], block: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in blocks so large aggregates stream."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def _umask() -> int:
    """The process umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
