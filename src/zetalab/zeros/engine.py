"""One entry point for every backend: compute a range, prove its indices, write a chunk.

`compute_range` returns γ_start..γ_end (exact integer references plus float64 offsets,
`zetalab.zeros.heights`) with a metadata record; `compute_chunk` writes it through
`store.write_chunk` (atomic, checksummed). The rule scripts and the command line both call
these, so a chunk is the same file whichever way it was made.

The recorded `error_bound` is what the stored data meet: the backend's own error plus the
rounding of what is written (the float64 offsets), never the computation alone.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.zeros import heights, store
from zetalab.zeros.counting import block_index_check, index_check
from zetalab.zeros.heights import ZeroHeights

BACKENDS = ("rs", "flint", "mpmath", "file")
# The supported range of zero indices (docs/zeros.md): up to here the stored offsets were
# checked per decade (benchmarks/zeros.py --heights: python-flint to 10¹³, Z in Arb at each
# side of sampled zeros above) and the frame's error-free phases hold (t0·log m < 2⁵³·2π, at
# 57 % of it at 10¹⁶). Beyond it the engine refuses rather than run for days.
MAX_INDEX = 10**16
PACKAGES = ("numpy", "numba", "python-flint", "mpmath", "zetalab")


def check_range(start: int, count: int) -> None:
    """Refuse start < 1, count ≤ 0 or a range beyond MAX_INDEX before any work."""
    if start < 1:
        raise ZetalabError(
            f"start must be ≥ 1 (γ_1 ≈ 14.1347 is the first zero), got {start}",
            "pass --start 1 or higher",
        )
    if count <= 0:
        raise ZetalabError(f"count must be ≥ 1, got {count}", "pass --count 1 or higher")
    end = start + count - 1
    if end > MAX_INDEX:
        raise ZetalabError(
            f"zeros {start}..{end} reach beyond the supported range 1..{MAX_INDEX:.0e} "
            f"(= {MAX_INDEX}) of zero indices",
            f"choose start + count − 1 ≤ {MAX_INDEX} (docs/zeros.md, 'Supported range')",
        )


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ZetalabError(
            f"unknown zeros backend {backend!r}", f"use one of: {', '.join(BACKENDS)}"
        )


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def compute_range(
    backend: str,
    start: int,
    count: int,
    table: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ZeroHeights, dict[str, Any]]:
    """γ_start..γ_{start+count−1} (index order, exact references) and the record saying how."""
    check_backend(backend)
    check_range(start, count)
    end = start + count - 1
    where = f"{backend} zeros {start}..{end}"
    began = time.perf_counter()
    meta: dict[str, Any] = {"backend": backend}
    proved_by_blocks = False
    if backend == "rs":
        from zetalab.zeros.rs import ARB_EVERY_BLOCK_BELOW, DELEGATE_BELOW, compute_rs

        # indices proved per block (Turing's method); Arb per chunk would cost more than rs
        proved_by_blocks = start >= ARB_EVERY_BLOCK_BELOW

        values, stats = compute_rs(start, end, progress)
        evaluations = stats.gram_evaluations + stats.refine_evaluations + stats.polish_evaluations
        computation = max(stats.error_estimate, 1e-12 if start <= DELEGATE_BELOW else 0.0)
        meta.update(
            error_bound_kind="estimate: Halley tail + Riemann–Siegel truncation / |Z′|, "
            "plus the float64 rounding of the stored offsets",
            gram_block_count_checks=stats.count_checks,
            sign_check=stats.sign_record(),
            arb_sign_evaluations=stats.arb_sign_evaluations,
            odlyzko_schonhage_blocks=stats.os_blocks,
            z_evaluations=evaluations,
            z_evaluations_per_zero=evaluations / max(1, count - max(0, DELEGATE_BELOW - start + 1)),
            evaluation_split={
                "gram": stats.gram_evaluations,
                "refine": stats.refine_evaluations,
                "polish": stats.polish_evaluations,
            },
            delegated_to_flint=[start, min(end, DELEGATE_BELOW)]
            if start <= DELEGATE_BELOW
            else None,
        )
    elif backend == "flint":
        from zetalab.zeros.flint_backend import compute_flint_heights

        values, computation = compute_flint_heights(start, end, progress)
        meta.update(
            error_bound_kind="certified: max Arb radius plus the float64 rounding of the "
            "stored offsets"
        )
    elif backend == "mpmath":
        from zetalab.zeros.mpmath_backend import compute_mpmath

        values, computation = compute_mpmath(start, end, progress)
        meta.update(error_bound_kind="mpmath 30 digits plus the float64 rounding of the offsets")
    else:
        from zetalab.zeros.file_backend import read_table, slice_table

        if table is None:
            raise ZetalabError("the file backend needs a table", "set zeros.table (or --table)")
        gammas = read_table(table)
        rows = slice_table(gammas, start, end, str(table))
        # a table parsed exactly (heights.from_decimal_strings) keeps its digits at any height
        values = rows if isinstance(rows, ZeroHeights) else heights.from_float64(rows, start)
        # the published accuracy is unknown here; what parsing into float64 cost is recorded
        computation = None
        meta.update(
            error_bound_kind="as published (unknown); parsed into float64 heights",
            parse_rounding=0.5 * float(np.spacing(values.heights(len(values) - 1)[0])),
            table=str(table),
        )
        if progress:
            progress(count)
    if len(values) != count:
        raise ZetalabError(f"{where}: backend returned {len(values)} zeros", "report this bug")
    store.validate_heights(values, where)
    rounding = 2.0 * values.max_rounding()  # the offset sum and the re-basing: ≤ 2 roundings
    meta["error_bound"] = None if computation is None else computation + rounding
    meta["error_bound_parts"] = {"computation": computation, "stored_rounding": rounding}
    if proved_by_blocks:
        meta["count_check"] = block_index_check(meta["gram_block_count_checks"], start, end, where)
    else:
        meta["count_check"] = index_check(values.heights(), start, where)
    # Every backend's count is proved: Arb's zeta_nzeros, or (rs) Turing's method on samples
    # whose signs all passed a rigorous bound (plain kernel, Odlyzko–Schönhage, the exact
    # re-summation) or Arb. Records written before the bounds were rigorous lack the key, and
    # an aggregate counts them as "estimate" (store.aggregate).
    meta["sign_bound"] = "rigorous"
    meta["seconds"] = time.perf_counter() - began
    meta["versions"] = versions()
    return values, meta


def compute_chunk(
    backend: str,
    start: int,
    end: int,
    out: str | os.PathLike[str],
    table: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Compute zeros start..end and write them as a chunk with its record (atomically)."""
    values, meta = compute_range(backend, start, end - start + 1, table, progress)
    return store.write_chunk(out, values, start, meta)
