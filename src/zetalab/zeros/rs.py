"""The `rs` backend: zeros by Riemann–Siegel in float64, separated at Gram points, proved complete.

Steps for an index range start..end (start above DELEGATE_BELOW):
1. Gram points g_j around the range, Z at each (≈ one evaluation per zero).
   Every sample's sign is certified: |Z| must exceed a rigorous bound on the Riemann–Siegel
   truncation plus the float64 rounding (`rs_bounds`), or Z is re-evaluated there in Arb.
2. Bracket T_a < T_b at good Gram points ((−1)^j Z(g_j) > 0) and count
   the zeros in (T_a, T_b] with Arb's rigorous `zeta_nzeros`: that count is what must be found.
3. Gram blocks that show fewer sign changes than their length (Rosser's rule) are sampled more
   densely; if the total is still short (a Rosser-rule violation moves zeros between blocks),
   neighbouring blocks are refined too, until the sign changes equal the Arb count. Every sign
   change is a zero, so equality proves none is missing; if refinement cannot reach it the job
   fails naming the range (a wrong chunk is never written).
4. Each bracket is polished by safeguarded Halley steps on (Z, Z′, Z″) from one kernel pass.
Indices follow from the count: the first zero above T_a is γ_{N(T_a)+1}.
Below DELEGATE_BELOW (t < 542) the Riemann–Siegel truncation error exceeds ~1e-9, so those
zeros come from the certified flint backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.unfold import inverse_smooth_count
from zetalab.zeros.counting import count_zeros_upto
from zetalab.zeros.frame import Frame, frame_heights
from zetalab.zeros.heights import ZeroHeights, concatenate
from zetalab.zeros.rs_bounds import certify_signs

DELEGATE_BELOW = 300  # zeros 1..300 (t < 542) come from flint
GRAM_PAD = 8  # Gram points beyond each end of the range, so T_a and T_b can sit on good ones
MAX_REFINE_ROUNDS = 12
MAX_DENSITY = 512  # samples per Gram interval at the deepest refinement
# Accept a Halley step s when the error it leaves, about K·|s|³ with K ≈ log²(t/2π) (the scale of
# Z‴/Z′), is below this. K is a rough scale (1e-10 here left 2.6e-10 errors near t ≈ 1500), so
# the limit sits 100× under the 1e-9 target; it still saves a confirming evaluation per zero.
HALLEY_TAIL = 1e-11
MAX_POLISH = 40


@dataclass
class RsStats:
    """What a chunk cost: every evaluation point is counted (sampling, refinement, polishing)."""

    zeros: int = 0
    evaluations: int = 0
    gram_evaluations: int = 0
    refine_evaluations: int = 0
    polish_evaluations: int = 0
    refined_blocks: int = 0
    # samples whose |Z| did not exceed the rigorous error bound, so Arb decided their sign
    arb_sign_evaluations: int = 0
    count_checks: list[dict] = field(default_factory=list)
    error_estimate: float = 0.0


def compute_rs(
    start: int,
    end: int,
    progress: Callable[[int], None] | None = None,
    block: int = 20000,
) -> tuple[ZeroHeights, RsStats]:
    """γ_start..γ_end (exact reference + offsets) and the costs; `progress(k)` after k more."""
    if start < 1 or end < start:
        raise ZetalabError(f"invalid zero range {start}..{end}", "use 1 ≤ start ≤ end")
    stats = RsStats()
    parts: list[ZeroHeights] = []
    if start <= DELEGATE_BELOW:
        from zetalab.zeros.flint_backend import compute_flint_heights

        low_end = min(end, DELEGATE_BELOW)
        values, _ = compute_flint_heights(start, low_end)
        parts.append(values)
        if progress:
            progress(len(values))
        start = low_end + 1
    # Long ranges are done in sub-blocks: each gets its own frame (small offsets h keep the
    # float64 phase exact) and its own Arb count check, and progress is reported per block.
    for lo in range(start, end + 1, block):
        hi = min(lo + block - 1, end)
        parts.append(_compute_block(lo, hi, stats))
        if progress:
            progress(hi - lo + 1)
    values = concatenate(parts)
    stats.zeros = len(values)
    return values, stats


def _compute_block(start: int, end: int, stats: RsStats) -> ZeroHeights:
    pad = GRAM_PAD
    for _attempt in range(6):
        result = _try_block(start, end, pad, stats)
        if result is not None:
            return result
        pad *= 4
    raise ZetalabError(
        f"rs: could not place count-check boundaries around zeros {start}..{end}",
        "compute this range with --backend flint",
    )


def _try_block(start: int, end: int, pad: int, stats: RsStats) -> ZeroHeights | None:
    # Zero n usually lies in the Gram interval (g_{n−2}, g_{n−1}].
    ja = max(start - 2 - pad, DELEGATE_BELOW // 2)
    jb = end - 1 + pad
    j = np.arange(ja, jb + 1)
    t_lo = float(inverse_smooth_count(ja + 0.5))
    t_hi = float(inverse_smooth_count(jb + 2.5))
    frame = Frame(t_lo, t_hi + 1.0)
    h = frame.gram_offsets(j)
    zz = frame.z(h, derivs=True)
    z, weak = certify_signs(frame.t0, h, zz[0])
    zd = zz[1]
    stats.gram_evaluations += len(h)
    stats.arb_sign_evaluations += weak
    good = ((-1.0) ** (j % 2)) * z > 0.0
    good_idx = np.flatnonzero(good)
    if good_idx.size < 2:
        return None
    ia, ib = int(good_idx[0]), int(good_idx[-1])
    t_a, t_b = frame.t0 + h[ia], frame.t0 + h[ib]
    try:
        n_a, n_b = count_zeros_upto(t_a), count_zeros_upto(t_b)
    except ArithmeticError:
        return None
    if n_a >= start or n_b < end:
        return None
    stats.count_checks.append({"T_a": t_a, "T_b": t_b, "N_a": n_a, "N_b": n_b})
    required = n_b - n_a
    roots = _separate_and_polish(
        frame,
        h[ia : ib + 1],
        z[ia : ib + 1],
        zd[ia : ib + 1],
        good[ia : ib + 1],
        required,
        start,
        end,
        stats,
    )
    # Offsets from the frame's exact t0: γ = t0 + root is never rounded to one float64 here.
    if not (np.all(np.diff(roots) > 0) and roots[0] > h[ia] and roots[-1] <= h[ib]):
        raise ZetalabError(
            f"rs: zeros {start}..{end} lost strict order after polishing (near-coincident zeros)",
            "compute this range with --backend flint",
        )
    return frame_heights(frame.t0, roots[start - n_a - 1 : end - n_a], start)


def _separate_and_polish(
    frame: Frame,
    gram_h: np.ndarray,
    gram_z: np.ndarray,
    gram_d: np.ndarray,
    good: np.ndarray,
    required: int,
    start: int,
    end: int,
    stats: RsStats,
) -> np.ndarray:
    """Sign changes in (gram_h[0], gram_h[-1]] refined until they number `required`; polished."""
    n_int = len(gram_h) - 1
    # All samples, flat: offset, Z, and the Gram interval each sample opens (the last Gram
    # point closes the range and belongs to no interval).
    pts_h, pts_z, pts_d = gram_h.copy(), gram_z.copy(), gram_d.copy()
    pts_int = np.minimum(np.arange(len(gram_h)), n_int - 1)
    density = np.ones(n_int, dtype=np.int64)
    good_pos = np.flatnonzero(good)
    block_of = np.searchsorted(good_pos, np.arange(n_int), side="right") - 1
    block_len = np.diff(good_pos)
    n_blocks = len(block_len)

    def counts_now() -> np.ndarray:
        change = np.signbit(pts_z[1:]) != np.signbit(pts_z[:-1])
        return np.bincount(pts_int[:-1][change], minlength=n_int)

    counts = counts_now()
    found = int(counts.sum())
    radius = 0
    for _round in range(MAX_REFINE_ROUNDS):
        if found >= required:
            break
        block_found = np.bincount(block_of, weights=counts, minlength=n_blocks)
        deficient = np.flatnonzero(block_found < block_len)
        if deficient.size == 0:
            deficient = np.arange(n_blocks)
        offsets = np.arange(-radius, radius + 1)
        targets = np.unique(
            np.clip((deficient[:, None] + offsets[None, :]).ravel(), 0, n_blocks - 1)
        )
        intervals = np.flatnonzero(np.isin(block_of, targets))
        intervals = intervals[density[intervals] < MAX_DENSITY]
        if _round == 0:
            # first try only the intervals of a short block that show no sign change: the
            # missing pair of a Gram block is usually there (fewer evaluations per zero)
            empty = intervals[counts[intervals] == 0]
            intervals = empty if empty.size else intervals
        if intervals.size == 0:
            break
        d_new = density[intervals] * 2
        reps = d_new // 2  # new points per interval: odd multiples of width/d_new
        owner = np.repeat(intervals, reps)
        dens = np.repeat(d_new, reps)
        first = np.repeat(np.cumsum(reps) - reps, reps)
        k = 2 * (np.arange(owner.size) - first) + 1
        new_h = gram_h[owner] + (gram_h[owner + 1] - gram_h[owner]) * k / dens
        new_zz = frame.z(new_h, derivs=True)
        new_z, weak = certify_signs(frame.t0, new_h, new_zz[0])
        stats.arb_sign_evaluations += weak
        density[intervals] = d_new
        stats.refine_evaluations += new_h.size
        stats.refined_blocks += targets.size
        pts_h = np.concatenate((pts_h, new_h))
        pts_z = np.concatenate((pts_z, new_z))
        pts_d = np.concatenate((pts_d, new_zz[1]))
        pts_int = np.concatenate((pts_int, owner))
        order = np.argsort(pts_h, kind="stable")
        pts_h, pts_z, pts_d, pts_int = pts_h[order], pts_z[order], pts_d[order], pts_int[order]
        counts = counts_now()
        new_found = int(counts.sum())
        if new_found == found:
            radius += 1
        found = new_found
    if found != required:
        raise ZetalabError(
            f"rs: found {found} sign changes where Arb counts {required} zeros "
            f"(t in ({frame.t0 + gram_h[0]:.9f}, {frame.t0 + gram_h[-1]:.9f}]) around zeros "
            f"{start}..{end}, even after refinement",
            "compute this range with --backend flint",
        )
    change = np.flatnonzero(np.signbit(pts_z[1:]) != np.signbit(pts_z[:-1]))
    guess = _hermite_guess(pts_h, pts_z, pts_d, change)
    return _polish(
        frame, pts_h[change], pts_h[change + 1], pts_z[change], pts_z[change + 1], guess, stats
    )


def _hermite_guess(
    pts_h: np.ndarray, pts_z: np.ndarray, pts_d: np.ndarray, change: np.ndarray
) -> np.ndarray:
    """Root of the cubic Hermite interpolant of (Z, Z′) on each bracket: no extra evaluation.

    The samples carry Z′ (it shares the kernel's sin/cos, so it costs little): from this start
    one Halley step lands within ~1e-7 and the next evaluation confirms convergence, where a
    secant start (~5% of a spacing off) needs a third.
    """
    a, b = pts_h[change], pts_h[change + 1]
    za, zb = pts_z[change], pts_z[change + 1]
    width = b - a
    ma, mb = pts_d[change] * width, pts_d[change + 1] * width
    secant = za / (za - zb)  # bracket fraction in (0, 1)
    u = secant.copy()
    for _ in range(8):
        u2, u3 = u * u, u * u * u
        val = (
            (2 * u3 - 3 * u2 + 1) * za
            + (u3 - 2 * u2 + u) * ma
            + (-2 * u3 + 3 * u2) * zb
            + (u3 - u2) * mb
        )
        der = (6 * u2 - 6 * u) * za + (3 * u2 - 4 * u + 1) * ma + (6 * u - 6 * u2) * zb
        der = der + (3 * u2 - 2 * u) * mb
        step = np.where(der != 0, val / np.where(der != 0, der, 1.0), 0.0)
        u = np.clip(u - step, 0.0, 1.0)
    ok = np.isfinite(u) & (u > 0.0) & (u < 1.0)
    return a + width * np.where(ok, u, secant)


def _polish(
    frame: Frame,
    a: np.ndarray,
    b: np.ndarray,
    za: np.ndarray,
    zb: np.ndarray,
    guess: np.ndarray,
    stats: RsStats,
) -> np.ndarray:
    """Safeguarded Halley iteration inside each bracket [a, b] (Z(a)·Z(b) < 0), vectorised."""
    a, b, za = a.copy(), b.copy(), za.copy()
    x = guess.copy()
    done = np.zeros(x.size, dtype=bool)
    last_step = np.full(x.size, np.inf)
    for _ in range(MAX_POLISH):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        zs = frame.z(x[act], derivs=True)
        stats.polish_evaluations += act.size
        z0, z1, z2 = zs
        # shrink the bracket with the sign at x
        same = np.signbit(z0) == np.signbit(za[act])
        a[act] = np.where(same, x[act], a[act])
        za[act] = np.where(same, z0, za[act])
        b[act] = np.where(same, b[act], x[act])
        denom = 2.0 * z1 * z1 - z0 * z2
        step = np.where(denom != 0.0, 2.0 * z0 * z1 / np.where(denom != 0, denom, 1.0), np.inf)
        xn = x[act] - step
        lo, hi = a[act], b[act]
        outside = ~((xn > np.minimum(lo, hi)) & (xn < np.maximum(lo, hi))) | ~np.isfinite(xn)
        xn = np.where(outside, 0.5 * (lo + hi), xn)
        t_act = frame.t0 + x[act]
        k_scale = np.log(t_act / (2.0 * math.pi)) ** 2
        # Both the Halley and the Newton step must be small: near an extremum of Z (Z′ ≈ 0)
        # the Halley step alone can vanish far from any zero.
        newton = np.abs(z0) / np.maximum(np.abs(z1), 1e-300)
        small = k_scale * np.maximum(np.abs(step), newton) ** 3 < HALLEY_TAIL
        conv = (~outside & small) | (z0 == 0.0)
        # a bracket down to a few ulps of t: nothing left to gain
        collapsed = np.abs(hi - lo) < 4e-16 * t_act
        xn = np.where(collapsed, 0.5 * (lo + hi), xn)
        conv |= collapsed
        x[act] = np.where(z0 == 0.0, x[act], xn)
        last_step[act] = np.abs(np.where(outside, hi - lo, step))
        done[act] = conv
        # estimated remaining error: Halley's cubic tail plus Z's own error over |Z′|
        tail = k_scale * last_step[act] ** 3 + z_noise_bound(t_act) / np.abs(z1)
        stats.error_estimate = max(
            stats.error_estimate, float(np.max(np.where(conv, tail, 0.0), initial=0.0))
        )
    if not done.all():
        raise ZetalabError(
            f"rs: {int((~done).sum())} zeros near t={frame.t0:.6g} did not converge",
            "compute this range with --backend flint",
        )
    return x


def z_noise_bound(t: np.ndarray) -> np.ndarray:
    """Rough bound on |Z_RS(t) − Z(t)|: first omitted remainder term plus float64 rounding."""
    a = np.sqrt(t / (2.0 * math.pi))
    return 2e-4 * a ** (-5.5) + 1e-15 * a
