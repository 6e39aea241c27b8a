"""Turing's method: counts from the engine's own samples equal Arb's, and never over-claim."""

from __future__ import annotations

import numpy as np
import pytest

from zetalab.unfold import inverse_smooth_count
from zetalab.zeros.counting import count_zeros_upto
from zetalab.zeros.flint_backend import compute_flint
from zetalab.zeros.frame import Frame
from zetalab.zeros.rs import compute_rs
from zetalab.zeros.turing import ThetaFrame, s_integral_bound, turing_count


@pytest.mark.parametrize("start", [1_000_000, 100_000_000, 10_000_000_000])
def test_turing_count_equals_arb(start):
    values, stats = compute_rs(start, start + 149, count="turing")
    (check,) = stats.count_checks
    assert check["method"] == "turing"
    assert check["turing"]["N_a"] == [check["N_a"]] * 2  # upper and lower bounds met
    assert check["N_a"] == count_zeros_upto(check["T_a"])  # Arb, measured 1–100 ms a call
    assert check["N_b"] == count_zeros_upto(check["T_b"])
    reference, _ = compute_flint(start, start + 4)
    np.testing.assert_allclose(values.heights()[:5], reference, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("start", "end"), [(6700, 6720), (13_999_500, 13_999_560)], ids=["lehmer", "rosser"]
)
def test_lehmer_pair_and_rosser_violation_with_turing_only(start, end):
    values, stats = compute_rs(start, end, count="turing")
    assert [c["method"] for c in stats.count_checks] == ["turing"]
    reference, _ = compute_flint(start, end)
    np.testing.assert_allclose(values.heights(), reference, rtol=0, atol=3e-8)


def _gram_samples(n: int, pad: int, per_interval: int):
    j = np.arange(n - pad, n + 100 + pad + 1)
    frame = Frame(float(inverse_smooth_count(j[0] + 0.5)), float(inverse_smooth_count(j[-1] + 3)))
    gram = frame.gram_offsets(j)
    steps = [gram[:-1] + (gram[1:] - gram[:-1]) * k / per_interval for k in range(per_interval)]
    h = np.sort(np.concatenate([*steps, gram[-1:]]))
    z = frame.z(h)[0]
    theta = ThetaFrame(frame.t0, frame.log_t0, frame.gram0, frame.theta_excess)
    good = np.flatnonzero(((-1.0) ** (j % 2)) * frame.z(gram)[0] > 0)
    ia = good[good >= pad][0]
    ib = good[good <= len(j) - 1 - pad][-1]
    return theta, h, z, gram, ia, ib


def test_turing_bounds_never_overclaim_on_incomplete_data():
    """Gram points only (a third of the zeros unseen at 10⁸): the bounds stay valid and wide;
    with 8 samples per Gram interval they meet at Arb's count."""
    theta, h, z, gram, ia, ib = _gram_samples(100_000_000, 30, 1)
    t_a, t_b = theta.t0 + gram[ia], theta.t0 + gram[ib]
    n_a, n_b = count_zeros_upto(t_a), count_zeros_upto(t_b)
    window = 30 * float(np.mean(np.diff(gram)))
    sparse = turing_count(theta, h, z, gram[ia], gram[ib], gram, window)
    assert sparse.n_a_lo <= n_a <= sparse.n_a_hi and sparse.n_b_lo <= n_b <= sparse.n_b_hi
    assert not sparse.proved
    theta, h, z, gram, ia, ib = _gram_samples(100_000_000, 30, 8)
    dense = turing_count(theta, h, z, gram[ia], gram[ib], gram, window)
    assert dense.proved and (dense.n_a_lo, dense.n_b_hi) == (n_a, n_b)
    # hide one zero pair inside the block: Turing's bound no longer closes
    change = np.flatnonzero(np.signbit(z[1:]) != np.signbit(z[:-1]))
    inside = change[(h[change] > gram[ia] + 5) & (h[change + 1] < gram[ib] - 5)]
    k = inside[0]
    hidden = z.copy()
    hidden[k + 1 : inside[1] + 1] = hidden[k]  # one sign run flipped: two changes removed
    missing = turing_count(theta, h, hidden, gram[ia], gram[ib], gram, window)
    assert missing.found == dense.found - 2 and not missing.proved


def test_s_integral_bound():
    # Lehman's form is smaller only below t ≈ 900; Trudgian's from there up
    assert s_integral_bound(1e4) == pytest.approx(2.067 + 0.059 * np.log(1e4))
    assert s_integral_bound(1e12) <= 2.067 + 0.059 * np.log(1e12)
    with pytest.raises(ValueError, match="168π"):
        s_integral_bound(500.0)


def test_counts_pinned_by_turing_need_no_arb_when_a_pair_is_missing(monkeypatch):
    """Turing's bounds can pin N(T_a) and N(T_b) while a close pair inside the block is still
    unseparated (first met at n ≈ 10¹⁶ − 10⁶). The counts are then proved without Arb (above
    10¹³ Arb cannot count at all), exact refinement must find every sign change, and the
    zeros equal those of a normal run. Simulated by hiding two sign changes from the count."""
    from dataclasses import replace

    from zetalab.errors import ZetalabError
    from zetalab.zeros import rs

    start, end = 1_000_000, 1_001_999
    reference, _ = compute_rs(start, end, count="turing")

    def no_arb(t):
        raise AssertionError("Arb was asked to count although Turing's bounds pinned N")

    def two_hidden(*args, **kwargs):
        return replace(turing_count(*args, **kwargs), found=end - start - 1)

    monkeypatch.setattr(rs, "count_zeros_upto", no_arb)
    monkeypatch.setattr(rs, "turing_count", two_hidden)
    values, stats = compute_rs(start, end, count="turing")
    assert stats.count_checks[0]["method"].startswith("turing (counts pinned")
    assert np.array_equal(values.offsets, reference.offsets)
    # without pinned bounds the block is not proved: up here it would retry, then fail
    loose = lambda *a, **k: replace(two_hidden(*a, **k), n_b_hi=None)  # noqa: E731
    monkeypatch.setattr(rs, "turing_count", loose)
    monkeypatch.setattr(rs, "ARB_COUNT_BELOW", 1)
    with pytest.raises(ZetalabError, match="could not prove the count"):
        compute_rs(start, start + 199, count="turing")


def test_block_index_check_wants_every_block_to_cover_its_own_zeros():
    """A block proves zeros lo..hi only if N(T_a) < lo and N(T_b) ≥ hi; the blocks must tile
    the chunk. A block one zero late, one short, or a gap between blocks is refused."""
    from zetalab.errors import ZetalabError
    from zetalab.zeros.counting import block_index_check

    def block(lo, hi, n_a, n_b):
        return {"start": lo, "end": hi, "N_a": n_a, "N_b": n_b, "T_a": 1.0, "T_b": 2.0}

    good = [block(101, 200, 100, 203), block(201, 300, 195, 300)]
    record = block_index_check(good, 101, 300, "x")
    assert (record["N_a"], record["N_b"]) == (100, 300)
    for bad in (
        [block(101, 200, 101, 203), good[1]],  # T_a above zero 101: one zero late
        [good[0], block(201, 300, 195, 299)],  # T_b below zero 300
        [good[0], block(202, 300, 195, 300)],  # zero 201 in no block
        [good[0]],  # zeros 201..300 in none
    ):
        with pytest.raises(ZetalabError, match="cover"):
            block_index_check(bad, 101, 300, "x")


def test_arb_cross_checks_every_block_below_1e9_a_sample_above_and_none_from_1e13(monkeypatch):
    from zetalab.zeros import engine, rs

    assert all(rs._use_arb("auto", lo) for lo in (301, 10**6, 10**9 - 20_000))
    assert not any(rs._use_arb("auto", lo) for lo in (10**13, 10**14 + 7, 10**16 - 10**6))
    sampled = np.mean([rs._use_arb("auto", 10**9 + 20_000 * k) for k in range(2000)])
    assert 0.04 < sampled < 0.09  # 1/16 of the blocks
    calls = []
    monkeypatch.setattr(rs, "count_zeros_upto", lambda t: calls.append(t) or count_zeros_upto(t))
    _, stats = compute_rs(1_000_000, 1_000_149)
    assert [c["method"] for c in stats.count_checks] == ["turing + arb"] and len(calls) == 2
    # below 1e9 the chunk also passes the Arb index check; from 1e9 its blocks' proofs stand
    _, meta = engine.compute_range("rs", 1_000_000, 150)
    assert meta["count_check"]["method"] == "arb index check"
    lo = next(
        10**10 + 20_000 * k for k in range(100) if not rs._use_arb("auto", 10**10 + 20_000 * k)
    )
    calls.clear()
    _, meta = engine.compute_range("rs", lo, 150)
    assert meta["count_check"]["method"] == "rs blocks: turing" and not calls


def test_the_rounding_margin_covers_theta_in_float64_at_the_top_of_the_range():
    """Near 10¹⁶ θ/π − gram0 reaches ~10⁶ at the far end of a block; its float64 value is off
    by ~1e-10 there (against Arb), within the margin `_margin` adds to MARGIN for it."""
    import math

    import flint

    from zetalab.unfold import inverse_smooth_count
    from zetalab.zeros import turing
    from zetalab.zeros.frame import theta_arb

    t0 = float(inverse_smooth_count(10**16 - 10**6))
    old = flint.ctx.prec
    flint.ctx.prec = 200
    try:
        th0, pi = theta_arb(t0), flint.arb.pi()
        gram0 = int((th0 / pi).floor().unique_fmpz())
        frame = ThetaFrame(t0, math.log(t0 / (2 * math.pi)), gram0, float(th0 - gram0 * pi))
        for h in (1e3, 1e5, 2e5):
            exact = theta_arb(flint.arb(t0) + flint.arb(h)) / pi - gram0
            err = abs(float(exact - float(frame.rel_theta_over_pi(np.array([h]))[0])))
            assert 0 < err <= turing._margin(frame, h) - turing.MARGIN < 1e-8
    finally:
        flint.ctx.prec = old
