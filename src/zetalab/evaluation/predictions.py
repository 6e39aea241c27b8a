"""The one file format every model run and baseline hands to evaluation.

`predictions.npz` holds `index` (1-based zero indices, int64) and `delta_pred` (δ̂_n, float64)
for every node 1..N+2H, plus `name` and `kind` ("model" or "baseline"). Evaluation scores
these against the true zeros, so models and baselines are compared by the same code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.io import atomic_path, read_npz, rebuild_command

KINDS = ("model", "baseline")


def save_predictions(
    path: str | Path, index: np.ndarray, delta_pred: np.ndarray, name: str, kind: str
) -> None:
    """Write predictions atomically after checking their shape and order."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    index = np.asarray(index, dtype=np.int64)
    delta_pred = np.asarray(delta_pred, dtype=np.float64)
    if index.shape != delta_pred.shape or index.ndim != 1:
        raise ValueError("index and delta_pred must be 1-D arrays of the same length")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, index=index, delta_pred=delta_pred, name=np.str_(name), kind=np.str_(kind))


def load_predictions(path: str | Path, total: int) -> dict[str, np.ndarray | str]:
    """Read and validate predictions for nodes 1..total (a damaged file: rebuild command)."""
    out = read_npz(path, lambda data: {k: data[k] for k in ("index", "delta_pred", "name", "kind")})
    if len(out["index"]) != total or not np.array_equal(out["index"], np.arange(1, total + 1)):
        raise ZetalabError(
            f"{path} does not cover nodes 1..{total} in order", rebuild_command(path)
        )
    out["name"] = str(out["name"])
    out["kind"] = str(out["kind"])
    return out
