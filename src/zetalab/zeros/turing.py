"""Turing's method: the exact zero count N(T) at a block end from the engine's own samples.

Why: Arb's `zeta_nzeros` is rigorous but costs 0.5 s per call at n = 10¹² and 73 s at 10¹⁴;
Turing's method needs only the signs of Z the engine has already sampled around T.

With S(t) = π⁻¹ arg ζ(½ + it), N(t) = θ(t)/π + 1 + S(t) for t not the height of a zero, and
(Trudgian 2011, Math. Comp. 80, Thm 5; Lehman 1970) for 168π < t1 < t2

    |∫_{t1}^{t2} S(t) dt| ≤ B(t2) = min(2.067 + 0.059 log t2, 1.91 + 0.114 log(t2/2π)).

Every sign change between two certified samples a_i < b_i is at least one zero in (a_i, b_i].
Above T (a sample with certified sign, so not a zero), N(t) ≥ N(T) + c(t) with c(t) the number
of brackets inside (T, t]; integrating S over [T, T + H] gives

    N(T) ≤ [B(T+H) + ∫_T^{T+H} θ/π dt + H − ∫_T^{T+H} c(t) dt] / H,

and below T, N(t) ≤ N(T) − d(t) with d(t) the brackets inside (t, T]:

    N(T) ≥ [∫_{T−H}^T θ/π dt + H + ∫_{T−H}^T d(t) dt − B(T)] / H.

Both hold for every H (T − H > 168π), so the best over the sampled H is taken. When the two
integers meet, N(T) is proved; a block is complete when the sign changes in (T_a, T_b] equal
N_hi(T_b) − N_lo(T_a), which then equals N(T_b) − N(T_a) exactly (the count is never more
than the bounds allow, and never less than the changes found).

All heights are offsets h from a frame's t0 (θ(t0)/π = gram0 + excess/π with gram0 an exact
integer from Arb), so no float64 ever holds a large height. θ is convex here, so the trapezoid
rule over-estimates ∫θ and the trapezoid minus Σ w³·max θ″/12 under-estimates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

T_MIN = 168.0 * math.pi  # lower end of the S-integral bounds
TRUDGIAN = (2.067, 0.059)  # B(t2) = a + b·log t2
LEHMAN = (1.91, 0.114)  # B(t2) = a + b·log(t2/2π)
# count units: at least this allowance for rounding; `_margin` adds the float64 rounding of Δθ
# (8 eps per unit of |h|·(½ log τ + 1) rad, as in the kernel: ≤ 1.5e-9 at 10¹⁶) so the bounds
# stay proved; the trapezoid sums run on θ/π minus a local integer, so they are small numbers
MARGIN = 1e-6
EPS = 2.0**-52
STEP = 0.05  # trapezoid step for ∫θ (the convexity correction is ~STEP²/(12π·t) per unit)


def s_integral_bound(t2: float) -> float:
    """Bound on |∫_{t1}^{t2} S(t) dt| for 168π < t1 < t2 (Trudgian; Lehman where smaller)."""
    if t2 <= T_MIN:
        raise ValueError(f"the S-integral bound needs t > 168π ≈ {T_MIN:.1f}, got {t2}")
    return min(
        TRUDGIAN[0] + TRUDGIAN[1] * math.log(t2),
        LEHMAN[0] + LEHMAN[1] * math.log(t2 / (2.0 * math.pi)),
    )


@dataclass(frozen=True)
class ThetaFrame:
    """θ near t0: θ(t0 + h)/π = gram0 + (excess + Δθ(h))/π, gram0 exact (from Arb)."""

    t0: float
    log_t0: float  # log(t0 / 2π)
    gram0: int
    excess: float  # θ(t0) − gram0·π ∈ [0, π)

    def rel_theta_over_pi(self, h: np.ndarray) -> np.ndarray:
        """(θ(t0 + h) − gram0·π)/π: small numbers, exact to ~1e-15 relative.

        Δθ is the kernel's cancellation-free form (`rs_kernel.delta_theta`), in numpy.
        """
        h = np.asarray(h, dtype=np.float64)
        t = self.t0 + h
        dth = (
            0.5 * h * self.log_t0
            + 0.5 * t * np.log1p(h / self.t0)
            - 0.5 * h
            + (_theta_series(t) - _theta_series(self.t0))
        )
        return (self.excess + dth) / math.pi


def _theta_series(t: np.ndarray | float) -> np.ndarray:
    inv = 1.0 / np.asarray(t, dtype=np.float64)
    inv2 = inv * inv
    return inv * (
        1.0 / 48.0 + inv2 * (7.0 / 5760.0 + inv2 * (31.0 / 80640.0 + inv2 * (127.0 / 430080.0)))
    )


def brackets(pts_h: np.ndarray, pts_z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a_i, b_i): consecutive samples (sorted offsets, certified signs) with a sign change."""
    change = np.flatnonzero(np.signbit(pts_z[1:]) != np.signbit(pts_z[:-1]))
    return pts_h[change], pts_h[change + 1]


def _margin(frame: ThetaFrame, h: float) -> float:
    """Count units that cover the float64 rounding of θ/π − gram0 at offsets up to |h|."""
    tau = (frame.t0 + abs(h)) / (2.0 * math.pi)
    dtheta = 8.0 * EPS * abs(h) * (0.5 * math.log(tau) + 1.0) + 4.0 * EPS * math.pi
    return MARGIN + dtheta / math.pi


def _theta_integral_bounds(
    frame: ThetaFrame, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Upper and lower bounds on ∫_lo^hi (θ/π − gram0 − g) dt for arrays of intervals, and
    the integer g (θ/π − gram0 near the first end: subtracting it keeps the sums small, so
    their rounding is far below the margin even where θ/π − gram0 is ~10⁶, near 10¹⁶).

    Composite trapezoid on a grid of step ≤ STEP through every end point: θ is convex, so it
    over-estimates; θ″(t) = 1/(2t) + O(t⁻³) ≤ 1/t bounds the excess by Σ w³/(12π·t_min).
    """
    ends = np.unique(np.concatenate((lo, hi)))
    # each gap split into k equal steps; the end points themselves stay exact
    k = np.maximum(1, np.ceil(np.diff(ends) / STEP).astype(np.int64))
    gap = np.repeat(np.arange(k.size), k)
    step = np.arange(gap.size) - np.repeat(np.cumsum(k) - k, k)
    inner = ends[gap] + (ends[gap + 1] - ends[gap]) * step / k[gap]
    inner[step == 0] = ends[gap[step == 0]]
    nodes = np.concatenate((inner, ends[-1:]))
    vals = frame.rel_theta_over_pi(nodes)
    g = math.floor(float(vals[0]))
    vals = vals - g
    w = np.diff(nodes)
    trap = np.concatenate(([0.0], np.cumsum(0.5 * w * (vals[1:] + vals[:-1]))))
    t_min = frame.t0 + float(nodes[0])
    curv = np.concatenate(([0.0], np.cumsum(w**3 / (12.0 * math.pi * t_min))))
    i_lo = np.searchsorted(nodes, lo, side="left")
    i_hi = np.searchsorted(nodes, hi, side="left")
    upper = trap[i_hi] - trap[i_lo]
    return upper, upper - (curv[i_hi] - curv[i_lo]), g


def upper_count(
    frame: ThetaFrame, h0: float, a: np.ndarray, b: np.ndarray, ends: np.ndarray
) -> int | None:
    """Smallest proved upper bound on N(t0 + h0) from the brackets above h0, over H = e − h0
    for e in `ends` (> h0); None if no end lies above h0."""
    ends = np.sort(ends[ends > h0])
    if ends.size == 0 or frame.t0 + h0 <= T_MIN:
        return None
    keep = a >= h0
    bs = np.sort(b[keep])
    cum = np.concatenate(([0.0], np.cumsum(bs - h0)))
    k = np.searchsorted(bs, ends, side="right")  # brackets inside (h0, e]
    lengths = ends - h0
    integral_c = k * lengths - cum[k]  # Σ (e − b_i) = Σ (H − (b_i − h0))
    theta_hi, _, g = _theta_integral_bounds(frame, np.full(ends.size, h0), ends)
    # B(t) grows with t: B at the farthest end bounds every candidate
    bound = s_integral_bound(frame.t0 + float(ends[-1]))
    x = (bound + theta_hi + lengths - integral_c) / lengths
    reach = max(abs(h0), abs(float(ends[-1])))
    return frame.gram0 + g + math.floor(float(x.min()) + _margin(frame, reach))


def lower_count(
    frame: ThetaFrame, h0: float, a: np.ndarray, b: np.ndarray, starts: np.ndarray
) -> int | None:
    """Largest proved lower bound on N(t0 + h0) from the brackets below h0, over H = h0 − s
    for s in `starts` (< h0, with t0 + s > 168π); None if there is none."""
    starts = np.sort(starts[(starts < h0) & (frame.t0 + starts > T_MIN)])
    if starts.size == 0:
        return None
    keep = b <= h0
    as_ = np.sort(a[keep])
    # Σ over brackets with s ≤ a_i of (a_i − s), in offsets from h0 (small numbers)
    rel = as_ - h0
    suffix = np.concatenate((np.cumsum(rel[::-1])[::-1], [0.0]))
    k = np.searchsorted(as_, starts, side="left")
    count = as_.size - k
    integral_d = suffix[k] - count * (starts - h0)
    lengths = h0 - starts
    _, theta_lo, g = _theta_integral_bounds(frame, starts, np.full(starts.size, h0))
    bound = s_integral_bound(frame.t0 + h0)
    x = (theta_lo + lengths + integral_d - bound) / lengths
    reach = max(abs(h0), abs(float(starts[0])))
    return frame.gram0 + g + math.ceil(float(x.max()) - _margin(frame, reach))


@dataclass(frozen=True)
class TuringCount:
    """Bounds on N at the two block ends and whether they prove the block complete."""

    n_a_lo: int | None
    n_a_hi: int | None
    n_b_lo: int | None
    n_b_hi: int | None
    found: int

    @property
    def proved(self) -> bool:
        return (
            self.n_a_lo is not None
            and self.n_b_hi is not None
            and self.n_b_hi - self.n_a_lo <= self.found
        )

    @property
    def required(self) -> int | None:
        """N_hi(T_b) − N_lo(T_a): as many sign changes as the block must show."""
        if self.n_a_lo is None or self.n_b_hi is None:
            return None
        return self.n_b_hi - self.n_a_lo


def turing_count(
    frame: ThetaFrame,
    pts_h: np.ndarray,
    pts_z: np.ndarray,
    h_a: float,
    h_b: float,
    gram_h: np.ndarray,
    window: float,
) -> TuringCount:
    """Turing's bounds at T_a = t0 + h_a and T_b = t0 + h_b from sorted certified samples.

    The candidate lengths H ≤ `window` end at the sampled Gram points (`gram_h`) on each side.
    """
    a, b = brackets(pts_h, pts_z)
    found = int(np.count_nonzero((a >= h_a) & (b <= h_b)))

    def near(h0: float) -> np.ndarray:
        return gram_h[np.abs(gram_h - h0) <= window]

    return TuringCount(
        n_a_lo=lower_count(frame, h_a, a, b, near(h_a)),
        n_a_hi=upper_count(frame, h_a, a, b, near(h_a)),
        n_b_lo=lower_count(frame, h_b, a, b, near(h_b)),
        n_b_hi=upper_count(frame, h_b, a, b, near(h_b)),
        found=found,
    )
