"""The `flint` backend: certified zeros from python-flint (Arb), with their error radii.

`acb.zeta_zeros` isolates and refines zeros rigorously (Platt's method plus Turing's bound), so
each value is an enclosure; we keep its midpoint as an exact integer plus a float64 rest
(`zetalab.zeros.heights`) and the largest radius, plus that rounding, as the chunk's bound.
The working precision grows with the height so the radius stays far below a float64 ulp of γ.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import flint
import numpy as np

from zetalab.errors import ZetalabError
from zetalab.zeros.heights import ZeroHeights, from_parts, split_arb

BATCH = 100  # zeros per Arb call, so progress moves and memory stays flat


def flint_precision(gamma_estimate: float) -> int:
    """Bits so that the enclosure radius is well below the float64 spacing at that height."""
    return 64 + max(0, int(math.log2(max(gamma_estimate, 2.0))))


def compute_flint(
    start: int, end: int, progress: Callable[[int], None] | None = None
) -> tuple[np.ndarray, float]:
    """γ_start..γ_end as float64 midpoints (rounded heights) and the largest enclosure radius."""
    values, radius = compute_flint_heights(start, end, progress)
    return values.heights(), radius


def compute_flint_heights(
    start: int, end: int, progress: Callable[[int], None] | None = None
) -> tuple[ZeroHeights, float]:
    """γ_start..γ_end as exact ⌊midpoint⌋ + float64 rest, and the largest enclosure radius."""
    if start < 1 or end < start:
        raise ZetalabError(f"invalid zero range {start}..{end}", "use 1 ≤ start ≤ end")
    base = np.empty(end - start + 1, dtype=np.int64)
    out = np.empty(end - start + 1)
    max_radius = 0.0
    old = flint.ctx.prec
    try:
        for lo in range(start, end + 1, BATCH):
            num = min(BATCH, end + 1 - lo)
            # height of zero #lo from N(t) ≈ (t/2π) log(t/2πe): a rough estimate is enough here
            flint.ctx.prec = flint_precision(_rough_height(lo + num))
            zeros = flint.acb.zeta_zeros(lo, num)
            for k, z in enumerate(zeros):
                im = z.imag
                base[lo - start + k], out[lo - start + k] = split_arb(im)
                max_radius = max(max_radius, float(im.rad()))
            if progress:
                progress(num)
    finally:
        flint.ctx.prec = old
    return from_parts(base, out, start), max_radius


def certified_zeros(indices: np.ndarray, prec: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Single certified zeros γ_n (float64 midpoints, radii) for scattered indices."""
    balls = certified_balls(indices, prec)
    return np.array([float(z.mid()) for z in balls]), np.array([float(z.rad()) for z in balls])


def certified_balls(indices: np.ndarray, prec: int | None = None) -> list[flint.arb]:
    """Single certified zeros γ_n as Arb balls (exact midpoints: comparisons at any height)."""
    balls = []
    old = flint.ctx.prec
    try:
        for n in np.asarray(indices, dtype=np.int64):
            flint.ctx.prec = prec or flint_precision(_rough_height(int(n)))
            balls.append(flint.acb.zeta_zero(int(n)).imag)
    finally:
        flint.ctx.prec = old
    return balls


def _rough_height(n: int) -> float:
    # inverse of n ≈ (t/2π) log(t/2πe) + 7/8 by fixed-point iteration, to a few percent
    t = 2 * math.pi * max(n, 2)
    for _ in range(8):
        t = 2 * math.pi * max(n - 0.875, 1.0) / max(math.log(t / (2 * math.pi * math.e)), 0.5)
    return max(t, 14.0)
