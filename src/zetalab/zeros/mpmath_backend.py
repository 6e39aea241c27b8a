"""The `mpmath` backend: `mpmath.zetazero(n)` at 30 digits, as the seeds computed zeros.

Slow (seconds per zero at large n) and kept as an independent reference: its algorithm
(Gram points and Turing-style counting in mpmath) shares no code with Arb or our kernel.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np

from zetalab.errors import ZetalabError

DPS = 30


def compute_mpmath(
    start: int, end: int, progress: Callable[[int], None] | None = None
) -> tuple[np.ndarray, float]:
    """γ_start..γ_end as float64 and an error bound (30 digits: float64 rounding dominates)."""
    if start < 1 or end < start:
        raise ZetalabError(f"invalid zero range {start}..{end}", "use 1 ≤ start ≤ end")
    out = np.empty(end - start + 1)
    with mpmath.workdps(DPS):
        for n in range(start, end + 1):
            out[n - start] = float(mpmath.zetazero(n).imag)
            if progress:
                progress(1)
    bound = float(np.spacing(out.max())) if out.size else 0.0
    return out, bound
