"""The `mpmath` backend: `mpmath.zetazero(n)` at 30 digits, as the seeds computed zeros.

Slow (seconds per zero at large n) and kept as an independent reference: its algorithm
(Gram points and Turing-style counting in mpmath) shares no code with Arb or our kernel.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np

from zetalab.errors import ZetalabError
from zetalab.zeros.heights import ZeroHeights, from_parts

DPS = 30


def compute_mpmath(
    start: int, end: int, progress: Callable[[int], None] | None = None
) -> tuple[ZeroHeights, float]:
    """γ_start..γ_end (exact ⌊γ⌋ + float64 rest) and the error of 30 digits before storing."""
    if start < 1 or end < start:
        raise ZetalabError(f"invalid zero range {start}..{end}", "use 1 ≤ start ≤ end")
    base = np.empty(end - start + 1, dtype=np.int64)
    out = np.empty(end - start + 1)
    top = 0.0
    with mpmath.workdps(DPS):
        for n in range(start, end + 1):
            gamma = mpmath.zetazero(n).imag
            whole = int(mpmath.floor(gamma))
            base[n - start], out[n - start] = whole, float(gamma - whole)
            top = max(top, float(gamma))
            if progress:
                progress(1)
    return from_parts(base, out, start), top * 10.0 ** (1 - DPS)
