"""The `rs` backend: zeros by Riemann–Siegel in float64, separated at Gram points, proved complete.

Steps for an index range start..end (start above DELEGATE_BELOW):
1. Gram points g_j around the range and a Turing zone of ~2.5·B(t) beyond each end, Z at each
   (≈ one evaluation per zero). Every sample's sign is certified: |Z| must exceed a rigorous
   bound on the Riemann–Siegel truncation plus the float64 rounding (`rs_bounds` for the plain
   kernel, `os_bounds` for Odlyzko–Schönhage), or Z is re-summed exactly or evaluated in Arb.
2. Bracket T_a < T_b at good Gram points ((−1)^j Z(g_j) > 0) just beyond the range.
3. Gram blocks that show fewer sign changes than their length (Rosser's rule) are sampled more
   densely, then their neighbours (a Rosser-rule violation moves zeros between blocks), until
   Turing's method (`turing.py`, on these same samples) proves N(T_a) and N(T_b) and the sign
   changes in (T_a, T_b] equal N(T_b) − N(T_a). Every sign change is a zero, so equality
   proves none is missing. Arb's `zeta_nzeros` cross-checks the count on every block below
   n = 10⁹ and on a sample of 1/16 of the blocks above, and decides where Turing's bound does
   not close; if refinement cannot reach the count the job fails naming the range (a wrong
   chunk is never written).
4. Each bracket is polished by safeguarded Halley steps on (Z, Z′, Z″) from one kernel pass.
Indices follow from the count: the first zero above T_a is γ_{N(T_a)+1}.
Below DELEGATE_BELOW (t < 542) the Riemann–Siegel truncation error exceeds ~1e-9, so those
zeros come from the certified flint backend.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.unfold import inverse_smooth_count
from zetalab.zeros.counting import count_zeros_upto
from zetalab.zeros.frame import Frame, frame_heights
from zetalab.zeros.heights import ZeroHeights, concatenate
from zetalab.zeros.odlyzko_schonhage import OSFrame, os_is_faster
from zetalab.zeros.rs_bounds import certify_signs, precise_z, z_error_bound
from zetalab.zeros.turing import T_MIN, ThetaFrame, TuringCount, s_integral_bound, turing_count

DELEGATE_BELOW = 300  # zeros 1..300 (t < 542) come from flint
GRAM_PAD = 8  # Gram points beyond each end of the range, so T_a and T_b can sit on good ones
MAX_REFINE_ROUNDS = 12
MAX_DENSITY = 512  # samples per Gram interval at the deepest refinement
# Accept a Halley step s when the error it leaves, about K·|s|³ with K ≈ log²(t/2π) (the scale of
# Z‴/Z′), is below this. K is a rough scale (1e-10 here left 2.6e-10 errors near t ≈ 1500), so
# the limit sits 100× under the 1e-9 target; it still saves a confirming evaluation per zero.
HALLEY_TAIL = 1e-11
MAX_POLISH = 40
# Counting: Turing's method on the block's own samples (turing.py) proves N at both block ends.
# Arb's zeta_nzeros cross-checks it on every block below ARB_EVERY_BLOCK_BELOW (a call costs
# < 30 ms there) and on a deterministic sample of the blocks up to ARB_COUNT_BELOW (0.5 s a
# call at 10¹², 13 s at 10¹³), and decides where Turing's bound does not close. From
# ARB_COUNT_BELOW up a call costs minutes (73 s at 10¹⁴), so Turing's proof stands alone there.
COUNT_METHODS = ("auto", "turing", "arb")
SHIFT_FRACTION = 4096  # a weak sample moves by a Gram interval / this (see _certify)
EVALUATORS = ("auto", "rs", "os")  # plain Riemann–Siegel, Odlyzko–Schönhage, or the faster
EVALUATIONS_PER_GRAM_POINT = 3.5  # Gram + refinement + polishing, measured (docs/zeros.md)
ARB_EVERY_BLOCK_BELOW = 10**9
ARB_SAMPLE_FRACTION = 1 / 16
ARB_COUNT_BELOW = 10**13
MIN_BLOCK = 20_000  # zeros per frame below n ≈ 2.5·10¹² (block_size)


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
    shifted_samples: int = 0  # weak samples moved a little instead (no Arb needed)
    precise_evaluations: int = 0  # weak samples re-summed with exact phases (rs_bounds)
    os_blocks: int = 0  # blocks evaluated by Odlyzko–Schönhage
    count_checks: list[dict] = field(default_factory=list)
    error_estimate: float = 0.0
    # the signs the counts rest on (samples next to a sign change, and T_a, T_b): how many,
    # the smallest |Z| among them with the bound that proved its sign, the smallest |Z|/bound
    sign_samples: int = 0
    min_abs_z: float = math.inf
    bound_at_min_abs_z: float = math.nan
    min_sign_ratio: float = math.inf

    def note_signs(self, z: np.ndarray, bound: np.ndarray) -> None:
        """Fold in the signs one block's count rests on (bound 0: decided by Arb)."""
        if not z.size:
            return
        self.sign_samples += int(z.size)
        i = int(np.argmin(np.abs(z)))
        if abs(z[i]) < self.min_abs_z:
            self.min_abs_z, self.bound_at_min_abs_z = float(abs(z[i])), float(bound[i])
        with np.errstate(divide="ignore"):
            ratio = np.where(bound > 0, np.abs(z) / bound, np.inf)
        self.min_sign_ratio = min(self.min_sign_ratio, float(ratio.min()))

    def sign_record(self) -> dict:
        """The chunk record's `sign_check`: every sign proved, and by how much."""
        return {
            "samples": self.sign_samples,
            "min_abs_z": self.min_abs_z,
            "bound_at_min_abs_z": self.bound_at_min_abs_z,
            "min_abs_z_over_bound": self.min_sign_ratio,
            "shifted_samples": self.shifted_samples,
            "precise_evaluations": self.precise_evaluations,
            "arb_sign_evaluations": self.arb_sign_evaluations,
        }


def compute_rs(
    start: int,
    end: int,
    progress: Callable[[int], None] | None = None,
    block: int | None = None,
    count: str = "auto",
    evaluator: str = "auto",
) -> tuple[ZeroHeights, RsStats]:
    """γ_start..γ_end (exact reference + offsets) and the costs; `progress(k)` after k more.
    `block`: zeros per frame, default block_size(start)."""
    if start < 1 or end < start:
        raise ZetalabError(f"invalid zero range {start}..{end}", "use 1 ≤ start ≤ end")
    if count not in COUNT_METHODS:
        raise ZetalabError(f"unknown count method {count!r}", f"use one of {COUNT_METHODS}")
    if evaluator not in EVALUATORS:
        raise ZetalabError(f"unknown Z evaluator {evaluator!r}", f"use one of {EVALUATORS}")
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
    block = block or block_size(start)
    for lo in range(start, end + 1, block):
        hi = min(lo + block - 1, end)
        parts.append(_compute_block(lo, hi, stats, count, evaluator))
        if progress:
            progress(hi - lo + 1)
    values = concatenate(parts)
    stats.zeros = len(values)
    return values, stats


def block_size(n: int) -> int:
    """Zeros per frame near zero n: 20,000, or m/16 where the m main-sum terms make a frame
    (phases, Odlyzko–Schönhage grid: ~1 µs a term) cost more than the block's evaluations
    (~3.8 per zero at ~1.5 µs) — from n ≈ 2.5·10¹²; 1.1·10⁶ zeros at 10¹⁶ (1.8 GB)."""
    m = math.isqrt(int(float(inverse_smooth_count(n)) / (2.0 * math.pi)))
    return max(MIN_BLOCK, m // 16)


def _compute_block(
    start: int, end: int, stats: RsStats, count: str = "auto", evaluator: str = "auto"
) -> ZeroHeights:
    pad = GRAM_PAD
    for _attempt in range(6):
        result = _try_block(start, end, pad, stats, count, evaluator)
        if result is not None:
            return result
        pad *= 4
    if start >= ARB_COUNT_BELOW:
        raise ZetalabError(
            f"rs: Turing's method could not prove the count of zeros {start}..{end} "
            f"(above {ARB_COUNT_BELOW:.0e} there is no Arb count to fall back on)",
            "compute the range in smaller chunks (zeros.chunk_size) or report it: such a "
            "cluster of close zeros would be a finding",
        )
    raise ZetalabError(
        f"rs: could not place count-check boundaries around zeros {start}..{end}",
        "compute this range with --backend flint",
    )


def _turing_pad(n: int) -> int:
    """Gram intervals of data beyond each block end for Turing's method: H ≈ 2.5·B(t).

    With every zero found, Turing's bound closes once H exceeds B − ∫S plus the brackets'
    slack (about half a Gram interval per zero); 2.5·B leaves room for a few missed pairs.
    """
    t = max(float(inverse_smooth_count(n + 0.5)), T_MIN + 1.0)
    spacing = 2.0 * math.pi / math.log(t / (2.0 * math.pi))
    return math.ceil(2.5 * s_integral_bound(t) / spacing) + 4


def _make_frame(t_lo: float, t_hi: float, gram_points: int, evaluator: str, stats: RsStats):
    """Plain Riemann–Siegel or Odlyzko–Schönhage, whichever the cost model says is faster."""
    m = int(math.sqrt(t_hi / (2.0 * math.pi)))
    use_os = evaluator == "os" or (
        evaluator == "auto" and os_is_faster(m, EVALUATIONS_PER_GRAM_POINT * gram_points)
    )
    if use_os:
        stats.os_blocks += 1
        return OSFrame(t_lo, t_hi)
    return Frame(t_lo, t_hi)


def _bound(frame: Frame, h: np.ndarray) -> np.ndarray:
    if isinstance(frame, OSFrame):
        return frame.error_bound(h)
    return z_error_bound(frame.t0 + h, h)


def _certify(
    frame: Frame, h: np.ndarray, zz: np.ndarray, stats: RsStats
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples (h, rows Z, Z′, Z″) whose signs are all proved, and the bound that proves each
    (|Z| exceeds it; 0 where Arb decided).

    A sample whose |Z| does not exceed the evaluator's error bound is first moved by a small
    step (±1/4096 of a Gram interval, less than half the finest refinement spacing, so the
    samples keep their order) and evaluated again: any point serves as a sample, and |Z| there
    is almost surely far above the bound. Next (between close zeros |Z| stays small) Z is
    summed again with exact phases and a compensated sum (`rs_bounds.precise_z`, a bound of
    ~1e-11 instead of ~1e-7…5e-5). Only if that fails is Z evaluated in Arb, which near
    n = 10¹⁶ costs 25–60 s a point.
    """
    bound = _bound(frame, h)
    weak = np.flatnonzero(~(np.abs(zz[0]) > bound))
    if weak.size:
        h, zz = h.copy(), zz.copy()
        t = frame.t0 + h[weak]
        step = 2.0 * math.pi / np.log(t / (2.0 * math.pi)) / SHIFT_FRACTION
        for factor in (1.0, -1.0, 2.0, -2.0):
            trial = h[weak] + factor * step
            zt = frame.z(trial, derivs=True)
            trial_bound = _bound(frame, trial)
            ok = np.abs(zt[0]) > trial_bound
            moved = weak[ok]
            h[moved] = trial[ok]
            zz[:, moved] = zt[:, ok]
            bound[moved] = trial_bound[ok]
            stats.shifted_samples += moved.size
            weak, step = weak[~ok], step[~ok]
            if weak.size == 0:
                break
    if weak.size:  # the compensated double-double sum: a bound ~10⁵ times tighter, in ms
        still = []
        for i in weak.tolist():
            z, precise_bound = precise_z(frame, float(h[i]))
            stats.precise_evaluations += 1
            if abs(z) > precise_bound:
                zz[0, i] = z
                bound[i] = precise_bound
            else:
                still.append(i)
        weak = np.array(still, dtype=np.int64)
    if weak.size:
        z, count = certify_signs(frame.t0, h[weak], zz[0, weak], bound[weak])
        zz[0, weak] = z
        bound[weak] = 0.0
        stats.arb_sign_evaluations += count
    return h, zz, bound


def _use_arb(count: str, lo: int) -> bool:
    """Whether Arb's zeta_nzeros counts (or cross-checks) the block starting at zero `lo`."""
    if count == "arb":
        return True
    if count == "turing" or lo >= ARB_COUNT_BELOW:
        return False
    return lo < ARB_EVERY_BLOCK_BELOW or random.Random(lo).random() < ARB_SAMPLE_FRACTION


def _try_block(
    start: int,
    end: int,
    pad: int,
    stats: RsStats,
    count: str = "auto",
    evaluator: str = "auto",
) -> ZeroHeights | None:
    use_turing = count != "arb"
    use_arb = _use_arb(count, start)
    tpad = _turing_pad(start) if use_turing else 0
    # Zero n usually lies in the Gram interval (g_{n−2}, g_{n−1}].
    ja = max(start - 2 - pad - tpad, DELEGATE_BELOW // 2)
    jb = end - 1 + pad + tpad
    j = np.arange(ja, jb + 1)
    t_lo = float(inverse_smooth_count(ja + 0.5))
    t_hi = float(inverse_smooth_count(jb + 2.5))
    frame = _make_frame(t_lo, t_hi + 1.0, len(j), evaluator, stats)
    h = frame.gram_offsets(j)
    h, zz, bound = _certify(frame, h, frame.z(h, derivs=True), stats)
    z, zd = zz[0], zz[1]
    stats.gram_evaluations += len(h)
    good = ((-1.0) ** (j % 2)) * z > 0.0
    # T_a, T_b: good Gram points `pad` beyond the block's ends; Turing's data lie beyond them
    # (or, without a Turing zone, the outermost good ones within the pad)
    cand_a = np.flatnonzero(good & (j <= start - 2 - pad))
    cand_a = cand_a[-1:] if cand_a.size else np.flatnonzero(good & (j <= start - 2))[:1]
    cand_b = np.flatnonzero(good & (j >= end - 1 + pad))
    cand_b = cand_b[:1] if cand_b.size else np.flatnonzero(good & (j >= end - 1))[-1:]
    if cand_a.size == 0 or cand_b.size == 0:
        return None
    ia, ib = int(cand_a[0]), int(cand_b[0])
    t_a, t_b = frame.t0 + h[ia], frame.t0 + h[ib]
    samples = _Samples(h, z, zd, bound, good)
    arb_counts = None
    if use_arb or not use_turing:
        try:
            arb_counts = (count_zeros_upto(t_a), count_zeros_upto(t_b))
        except ArithmeticError:
            return None
    check: dict = {"T_a": t_a, "T_b": t_b}
    proved = None
    if use_turing:
        theta = ThetaFrame(frame.t0, frame.log_t0, frame.gram0, frame.theta_excess)
        # Turing's lengths H: up to the data beyond T_a and T_b (tpad + pad Gram intervals)
        window = float(min(h[ia] - h[0], h[-1] - h[ib], (h[-1] - h[0]) / 2))
        last: list[TuringCount] = []

        def turing_required() -> int | None:
            last.append(turing_count(theta, samples.h, samples.z, h[ia], h[ib], h, window))
            return last[-1].required

        samples.refine_until(frame, ia, ib, turing_required, stats, exact=False)
        tc = last[-1]
        check["turing"] = {
            "N_a": [tc.n_a_lo, tc.n_a_hi],
            "N_b": [tc.n_b_lo, tc.n_b_hi],
            "found": tc.found,
        }
        if tc.proved:
            proved = (tc.n_a_lo, tc.n_b_hi)
            if arb_counts is not None and arb_counts != proved:
                raise ZetalabError(
                    f"rs: Turing's method gives N = {proved} at t = ({t_a:.9f}, {t_b:.9f}) "
                    f"where Arb's zeta_nzeros gives {arb_counts} (zeros {start}..{end})",
                    "report this bug; compute this range with --backend flint",
                )
    if proved is None:
        # Turing's bounds may pin N(T_a) and N(T_b) exactly while sign changes are still
        # missing inside the block (a close pair): the counts are then proved, and exact
        # re-summation is what is missing, not an Arb count.
        pinned = use_turing and tc.n_a_lo == tc.n_a_hi and tc.n_b_lo == tc.n_b_hi
        if arb_counts is None and pinned:
            counts, source = (tc.n_a_lo, tc.n_b_lo), "Turing's bounds"
        elif arb_counts is None and start >= ARB_COUNT_BELOW and count != "arb":
            return None  # no Arb count up here: retry with a wider Turing zone
        else:
            if arb_counts is None:  # Turing's method could not conclude: Arb decides
                try:
                    arb_counts = (count_zeros_upto(t_a), count_zeros_upto(t_b))
                except ArithmeticError:
                    return None
            counts, source = arb_counts, "Arb"
        n_a, n_b = counts
        found = samples.refine_until(frame, ia, ib, lambda: n_b - n_a, stats)
        if found != n_b - n_a:
            raise ZetalabError(
                f"rs: found {found} sign changes where the count ({source}) is {n_b - n_a} zeros "
                f"(t in ({t_a:.9f}, {t_b:.9f}]) around zeros {start}..{end}, even after "
                "refinement",
                "compute this range with --backend flint"
                if start < ARB_COUNT_BELOW
                else "report it: zeros this close would be a finding",
            )
        if source == "Turing's bounds":
            check["method"] = "turing (counts pinned; exact refinement found the rest)"
        else:
            check["method"] = "arb" if not use_turing else "arb (Turing's bound did not close)"
    else:
        n_a, n_b = proved
        check["method"] = "turing + arb" if arb_counts is not None else "turing"
    if n_a >= start or n_b < end:
        return None
    check.update(N_a=n_a, N_b=n_b, start=start, end=end)
    stats.count_checks.append(check)
    stats.note_signs(*samples.count_signs(ia, ib))
    roots = samples.polish(frame, ia, ib, stats)
    # Offsets from the frame's exact t0: γ = t0 + root is never rounded to one float64 here.
    if not (np.all(np.diff(roots) > 0) and roots[0] > h[ia] and roots[-1] <= h[ib]):
        raise ZetalabError(
            f"rs: zeros {start}..{end} lost strict order after polishing (near-coincident zeros)",
            "compute this range with --backend flint",
        )
    return frame_heights(frame.t0, roots[start - n_a - 1 : end - n_a], start)


class _Samples:
    """Every sample of one block, sorted: offset, certified Z, Z′, the Gram interval it opens.

    Gram blocks (runs between good Gram points) that show fewer sign changes than their length
    (Rosser's rule) are sampled more densely, first their empty intervals, then whole blocks,
    then their neighbours (a Rosser-rule violation moves a pair into a neighbouring block).
    """

    def __init__(self, gram_h, gram_z, gram_d, gram_bound, good):
        self.gram_h = gram_h
        n_int = len(gram_h) - 1
        self.n_int = n_int
        self.h, self.z, self.d = gram_h.copy(), gram_z.copy(), gram_d.copy()
        self.bound = gram_bound.copy()
        # the last Gram point closes the range and belongs to no interval
        self.interval = np.minimum(np.arange(len(gram_h)), n_int - 1)
        self.density = np.ones(n_int, dtype=np.int64)
        bounds = np.unique(np.concatenate(([0], np.flatnonzero(good), [n_int])))
        self.block_of = np.searchsorted(bounds, np.arange(n_int), side="right") - 1
        self.block_len = np.diff(bounds)
        # runs cut by the ends of the range are not Gram blocks: Rosser's rule says nothing
        self.whole = np.ones(len(self.block_len), dtype=bool)
        self.whole[0] = bool(good[0])
        self.whole[-1] = bool(good[-1])
        self.radius = 0
        self.rounds = 0

    def counts(self) -> np.ndarray:
        change = np.signbit(self.z[1:]) != np.signbit(self.z[:-1])
        return np.bincount(self.interval[:-1][change], minlength=self.n_int)

    def count_signs(self, ia: int, ib: int) -> tuple[np.ndarray, np.ndarray]:
        """(Z, bound) at the samples the count rests on: both ends of every sign change (the
        brackets Turing's method and the count use) and the Gram points T_a, T_b."""
        change = np.flatnonzero(np.signbit(self.z[1:]) != np.signbit(self.z[:-1]))
        ends = np.searchsorted(self.h, self.gram_h[[ia, ib]])
        used = np.zeros(len(self.z), dtype=bool)  # a mask: np.unique would sort
        used[change] = used[change + 1] = True
        used[ends] = True
        return self.z[used], self.bound[used]

    def found(self, ia: int, ib: int) -> int:
        """Sign changes between Gram points ia and ib (both samples, so no bracket straddles)."""
        return int(self.counts()[ia:ib].sum())

    def refine_until(
        self,
        frame: Frame,
        ia: int,
        ib: int,
        required: Callable[[], int | None],
        stats: RsStats,
        exact: bool = True,
    ) -> int:
        """Refine until the changes in (g_ia, g_ib] reach `required()` (re-read each round).

        `exact`: the requirement is the true count (Arb), so when every Gram block obeys
        Rosser's rule and zeros are still missing, all blocks are refined. A Turing requirement
        is only a bound: then refinement stops there and Arb decides.
        """
        found = self.found(ia, ib)
        while self.rounds < MAX_REFINE_ROUNDS:
            need = required()
            if need is not None and found >= need:
                break
            if not self._refine_round(frame, stats, exact):
                break
            found = self.found(ia, ib)
        return found

    def _refine_round(self, frame: Frame, stats: RsStats, exact: bool) -> bool:
        counts = self.counts()
        total = int(counts.sum())
        n_blocks = len(self.block_len)
        block_found = np.bincount(self.block_of, weights=counts, minlength=n_blocks)
        deficient = np.flatnonzero((block_found < self.block_len) & self.whole)
        if deficient.size == 0:
            if not exact:
                return False
            deficient = np.arange(n_blocks)
        offsets = np.arange(-self.radius, self.radius + 1)
        targets = np.unique(
            np.clip((deficient[:, None] + offsets[None, :]).ravel(), 0, n_blocks - 1)
        )
        intervals = np.flatnonzero(np.isin(self.block_of, targets))
        intervals = intervals[self.density[intervals] < MAX_DENSITY]
        if self.rounds == 0:
            # first try only the intervals of a short block that show no sign change: the
            # missing pair of a Gram block is usually there (fewer evaluations per zero)
            empty = intervals[counts[intervals] == 0]
            intervals = empty if empty.size else intervals
        self.rounds += 1
        if intervals.size == 0:
            return False
        gram_h = self.gram_h
        d_new = self.density[intervals] * 2
        reps = d_new // 2  # new points per interval: odd multiples of width/d_new
        owner = np.repeat(intervals, reps)
        dens = np.repeat(d_new, reps)
        first = np.repeat(np.cumsum(reps) - reps, reps)
        k = 2 * (np.arange(owner.size) - first) + 1
        new_h = gram_h[owner] + (gram_h[owner + 1] - gram_h[owner]) * k / dens
        new_h, new_zz, new_bound = _certify(frame, new_h, frame.z(new_h, derivs=True), stats)
        new_z = new_zz[0]
        self.density[intervals] = d_new
        stats.refine_evaluations += new_h.size
        stats.refined_blocks += targets.size
        h = np.concatenate((self.h, new_h))
        order = np.argsort(h, kind="stable")
        self.h = h[order]
        self.z = np.concatenate((self.z, new_z))[order]
        self.d = np.concatenate((self.d, new_zz[1]))[order]
        self.bound = np.concatenate((self.bound, new_bound))[order]
        self.interval = np.concatenate((self.interval, owner))[order]
        if int(self.counts().sum()) == total:
            self.radius += 1
        return True

    def polish(self, frame: Frame, ia: int, ib: int, stats: RsStats) -> np.ndarray:
        """Every zero bracketed in (g_ia, g_ib], polished (offsets from frame.t0)."""
        change = np.flatnonzero(np.signbit(self.z[1:]) != np.signbit(self.z[:-1]))
        change = change[
            (self.h[change] >= self.gram_h[ia]) & (self.h[change + 1] <= self.gram_h[ib])
        ]
        h, z = self.h, self.z
        guess = _hermite_guess(h, z, self.d, change)
        return _polish(frame, h[change], h[change + 1], z[change], z[change + 1], guess, stats)


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
        # (in offsets from t0: their ulp, not t's, is the resolution; near 10¹⁶ one ulp of t
        # exceeds a Gram interval and would stop every zero at its bracket's midpoint)
        collapsed = np.abs(hi - lo) < 4e-16 * np.maximum(np.abs(lo), np.abs(hi))
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
