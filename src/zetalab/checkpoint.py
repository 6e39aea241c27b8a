"""Training checkpoints of both studies: written atomically, read back with one clear error.

A checkpoint is a plain dict of tensors, numbers, lists and strings (model, optimiser and
random-generator states, the history so far, and a key saying which settings it belongs to),
so it loads with `weights_only=True`: nothing in it can run code when it is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from zetalab.errors import ZetalabError
from zetalab.io import atomic_path, read_torch


class CheckpointError(ZetalabError):
    """A checkpoint file exists but cannot be read (damaged, or from an incompatible torch)."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write `state` so that a crash mid-write leaves the previous checkpoint in place."""
    with atomic_path(Path(path)) as tmp:
        torch.save(state, tmp)


def load_checkpoint(
    path: str | Path, device: torch.device | str = "cpu", weights_only: bool = True
) -> dict[str, Any] | None:
    """The saved state, or None if there is no checkpoint; CheckpointError if unreadable."""
    path = Path(path)
    if not path.exists():
        return None
    fix = f"delete it to train from scratch: rm {path}"
    if weights_only:  # io's reader also checks the zip's CRCs, which torch.load skips
        try:
            return read_torch(path, device, fix)
        except ZetalabError as exc:
            raise CheckpointError(f"checkpoint {exc.problem}", exc.fix) from exc
    try:
        return torch.load(path, map_location=device, weights_only=weights_only)
    except Exception as exc:  # truncated, corrupt, or written by an incompatible torch
        raise CheckpointError(
            f"checkpoint {path} is damaged (corrupt, truncated or unreadable: "
            f"{type(exc).__name__}: {exc})",
            fix,
        ) from exc
