"""Rigorous signs of Z: the error bound covers the kernel, and a wrong sign is caught."""

from __future__ import annotations

import numpy as np
import pytest

from zetalab.errors import ZetalabError
from zetalab.zeros import rs
from zetalab.zeros.flint_backend import _rough_height, compute_flint
from zetalab.zeros.frame import Frame
from zetalab.zeros.rs_bounds import (
    GABCKE_D,
    arb_z,
    certify_signs,
    precise_z,
    remainder_bound,
    z_error_bound,
)


@pytest.mark.parametrize("n", [400, 10_000, 1_000_000, 100_000_000, 10_000_000_000])
def test_bound_covers_the_kernel_error_against_arb(n):
    t = _rough_height(n)
    frame = Frame(t, t + 2000.0)
    h = np.random.default_rng(n).uniform(0.0, 2000.0, 5)
    z = frame.z(h)[0]
    exact = np.array([arb_z(frame.t0, float(x)) for x in h])
    bound = z_error_bound(frame.t0 + h, h)
    assert np.all(np.abs(z - exact) < bound)
    # useful, not vacuous: far below the typical |Z| at a sample point
    assert bound.max() < 1e-6


def test_gabcke_term_is_the_stated_one():
    # at t = 1000 the bound is Gabcke's d_4 τ^(−11/4) plus a series tail far below it
    tau = 1000.0 / (2 * np.pi)
    gabcke = GABCKE_D[4] * tau ** (-11 / 4)
    assert gabcke <= remainder_bound(1000.0) < 1.01 * gabcke
    with pytest.raises(ValueError, match="t ≥ 200"):
        remainder_bound(150.0)


def test_certify_signs_reevaluates_only_weak_values():
    t0 = 10_000.0
    h = np.array([0.1, 0.7, 1.3])
    truth = np.array([arb_z(t0, x) for x in h])
    z = truth.copy()
    z[1] = -np.sign(truth[1]) * 1e-12  # wrong sign, below the bound
    fixed, weak = certify_signs(t0, h, z)
    assert weak == 1
    assert np.sign(fixed[1]) == np.sign(truth[1])
    np.testing.assert_array_equal(fixed[[0, 2]], z[[0, 2]])  # strong values are kept as computed


def _flip_near(monkeypatch, target_t: float):
    """Make the kernel return a tiny value of the wrong sign at the sample nearest target_t."""
    original = Frame.z

    def faulty(self, h, derivs=False):
        out = original(self, h, derivs)
        hit = np.flatnonzero(np.abs(self.t0 + np.asarray(h) - target_t) < 1e-6)
        out[0, hit] = -np.sign(out[0, hit]) * 1e-12
        return out

    monkeypatch.setattr(Frame, "z", faulty)


def test_a_false_sign_at_a_bracket_end_is_caught(monkeypatch):
    """A Gram point (bracket end) whose float sign is wrong fakes two sign changes; the bound
    check catches it (the sample is moved a little, or Arb decides) and the zeros come out
    right."""
    start, end = 20_000, 20_040
    reference, _ = compute_flint(start, end)
    t = 0.5 * (reference[20] + reference[21])
    frame = Frame(t - 5.0, t + 5.0)
    j = int(np.round(frame.gram0 + frame.theta_excess / np.pi + 3.0))
    target = frame.t0 + float(frame.gram_offsets(np.array([j]))[0])
    _flip_near(monkeypatch, target)
    values, stats = rs.compute_rs(start, end)
    # the weak sample was moved a little (or sent to Arb) before its sign was used
    assert stats.shifted_samples + stats.arb_sign_evaluations >= 1
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-9)
    # the same fault without the check: refinement finds the two fake sign changes next to
    # the bad sample, the count still matches, and wrong zeros would be written
    monkeypatch.setattr(rs, "_certify", lambda frame, h, zz, stats: (h, zz, np.zeros(len(h))))
    try:
        unchecked, _ = rs.compute_rs(start, end)
    except ZetalabError:
        return
    assert np.abs(unchecked - reference).max() > 1e-3


def test_a_weak_sample_that_cannot_move_is_summed_precisely_then_goes_to_arb(monkeypatch):
    """If the shifted points are weak too, the compensated exact-phase sum decides; if that
    cannot either, Arb decides at the original point."""
    frame = Frame(20_000.0, 20_010.0)
    h = np.array([1.0, 2.0, 3.0])
    zz = frame.z(h, derivs=True)
    truth = arb_z(frame.t0, 2.0)
    zz[0, 1] = -np.sign(truth) * 1e-12
    monkeypatch.setattr(rs, "_bound", lambda frame, h: np.full(len(h), 1e3))  # all weak
    stats = rs.RsStats()
    new_h, new_zz, _ = rs._certify(frame, h, zz.copy(), stats)
    np.testing.assert_array_equal(new_h, h)
    assert (stats.shifted_samples, stats.precise_evaluations, stats.arb_sign_evaluations) == (
        0,
        3,
        0,
    )
    assert np.sign(new_zz[0, 1]) == np.sign(truth)
    monkeypatch.setattr(rs, "precise_z", lambda frame, h: (0.0, 1.0))  # undecided
    stats = rs.RsStats()
    _, new_zz, _ = rs._certify(frame, h, zz.copy(), stats)
    assert stats.arb_sign_evaluations == 3
    assert np.sign(new_zz[0, 1]) == np.sign(truth)


@pytest.mark.parametrize("n", [10_000_000_000, 1_000_000_000_000])
def test_precise_sum_is_within_its_tight_bound(n):
    t = _rough_height(n)
    frame = Frame(t, t + 30_000.0)
    for h in (3.0, 29_000.5):
        z, bound = precise_z(frame, h)
        assert abs(z - arb_z(frame.t0, h)) < bound < 1e-10  # the kernel's bound: ~1e-6


def test_next_to_a_square_the_float_bound_gives_way_to_an_exact_m():
    """At t = 2πm² the float64 ⌊√(t/2π)⌋ may be m or m − 1 (two branches of Riemann–Siegel):
    the kernels' bound is infinite there, and the exact re-summation takes m from Arb."""
    from zetalab.zeros.odlyzko_schonhage import OSFrame

    square = 2 * np.pi * 3000.0**2
    frame = Frame(square - 40.0, square + 40.0)
    h = np.array([square - frame.t0 - 1e-9, square - frame.t0 + 1e-9, 5.0])
    assert np.isinf(z_error_bound(frame.t0 + h[:2], h[:2])).all()
    assert np.isfinite(z_error_bound(frame.t0 + h[2], h[2]))
    assert np.isinf(OSFrame(square - 40.0, square + 40.0).error_bound(h[:2])).all()
    for x in h[:2]:
        z, bound = precise_z(frame, float(x))
        assert abs(z - arb_z(frame.t0, float(x))) < bound < 1e-9


def test_remainder_rounding_covers_the_kernels_remainder_in_float64():
    """R as the kernels compute it (a = √(t/2π) rounded moves x = a − m − ½) against the same
    truncated series evaluated exactly: within `remainder_rounding`, and not vacuously."""
    import mpmath

    from zetalab.zeros import rs_kernel
    from zetalab.zeros.rs_bounds import remainder_rounding
    from zetalab.zeros.rs_series import remainder_polynomials

    coef, lengths = remainder_polynomials()
    ratios = []
    with mpmath.workdps(40):
        for t in np.random.default_rng(3).uniform(6e8, 7e8, 30):
            computed = rs_kernel.remainder_derivs(float(t), coef, lengths)[0]
            a = mpmath.sqrt(mpmath.mpf(float(t)) / (2 * mpmath.pi))
            m = int(mpmath.floor(a))
            x = a - m - mpmath.mpf(0.5)
            exact = 0
            for k in range(5):
                p = sum(mpmath.mpf(float(coef[k, j])) * x ** (2 * j) for j in range(lengths[k]))
                exact += (p if k % 2 == 0 else x * p) * a ** (-k - mpmath.mpf(0.5))
            exact = exact if (m - 1) % 2 == 0 else -exact
            ratios.append(abs(float(computed - exact)) / float(remainder_rounding(float(t))))
    assert 1e-3 < max(ratios) < 1


def test_remainder_rounding_sums_both_terms_of_every_order():
    """Both parts of each order's rounding (a's error moving x and a^(−k−½); the Horner sum's
    γ factor) are in the bound, term by term as docs/zeros.md states them: the float64 check
    above cannot see the Horner part at height, where the shift dominates."""
    import math

    from zetalab.zeros import rs_bounds as rb
    from zetalab.zeros.rs_series import remainder_polynomials

    size, slope = rb._series_bounds()
    _coef, lengths = remainder_polynomials()
    t = np.array([300.0, 1e4, 1e8, 1e14])
    a = np.sqrt(t / (2 * math.pi))
    expected = sum(
        a ** (-k - 0.5)
        * (
            (slope[k] + (k + 0.5) * size[k]) * rb.A_REL * a
            + rb.gamma(2 * int(lengths[k]) + 6 + 2 * k) * size[k]
        )
        for k in range(rb.KERNEL_TERMS)
    )
    np.testing.assert_allclose(rb.remainder_rounding(t), expected, rtol=1e-12)


def test_the_signs_a_count_rests_on_are_both_ends_of_every_bracket_and_the_gram_ends():
    """`sign_check` (the record's proof margin) must see exactly the samples the count uses:
    both ends of every sign change and the samples at T_a, T_b; the others do not count."""
    gram_h = np.array([0.0, 1.0, 2.0, 3.0])
    samples = rs._Samples(
        gram_h,
        np.array([1.0, -2.0, -3.0, 4.0]),
        np.zeros(4),
        np.array([0.1, 0.2, 0.3, 0.4]),
        np.ones(4, dtype=bool),
    )
    samples.h = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    samples.z = np.array([1.0, 5.0, -2.0, -7.0, -3.0, 6.0, 4.0])
    samples.bound = np.array([0.1, 0.5, 0.2, 0.7, 0.3, 0.6, 0.4])
    z, bound = samples.count_signs(0, 3)
    # changes between 0.5|1.0 and 2.0|2.5; T_a = 0.0, T_b = 3.0; 1.5 (z = -7) is not used
    np.testing.assert_array_equal(z, [1.0, 5.0, -2.0, -3.0, 6.0, 4.0])
    np.testing.assert_array_equal(bound, [0.1, 0.5, 0.2, 0.3, 0.6, 0.4])
