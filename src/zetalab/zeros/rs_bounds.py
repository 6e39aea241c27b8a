"""Rigorous error bounds for the float64 Riemann–Siegel kernel, and Arb re-evaluation of Z.

Completeness rests on the signs of Z at the sampled points: a sample whose sign is wrong can
fake a sign change (a pair of them hides a missed zero pair). So a sample counts only if
|Z_computed| exceeds a bound on |Z_computed − Z|; otherwise Z is re-evaluated in Arb at that
exact point (`arb_z`) and the certified value replaces it.

The bound has three parts (see docs/zeros.md, "Rigorous signs"):

1. Truncation of the Riemann–Siegel expansion after C0..C4: Gabcke (1979, Satz 4.2.3):
   for t ≥ 200, |R_K(t)| ≤ d_K τ^(−(2K+3)/4), τ = t/2π, with d_4 = 0.017.
2. Truncation of the Taylor series of C0..C4 that the kernel stores (`rs_series`): the dropped
   coefficients, summed with |x| ≤ ½, times a^(−k−½).
3. float64 rounding in the kernel, bounded term by term (u = 2^−53 per operation; `EPS` = 2u
   is the allowance per rounding used below, twice the standard model's):
   - phase x_n = φ_n + Δθ(h) − h·log n: φ_n rounded once (≤ π·eps); h·log n and Δθ carry a few
     relative roundings each, and the (fastmath, possibly reassociated) Cody–Waite reduction
     loses at most ~eps·|x_n|: in all ≤ 8·eps·(2π + |Δθ| + |h|·log n) rad;
   - sin/cos polynomials on |r| ≤ π/4: truncation < 2e-18 plus Horner rounding ≤ 4·eps;
   - n^(−½) rounded (eps);
   - the sum of m terms in any order (the vectorised loop reassociates it): ≤ m·eps·Σ|terms|;
   - the remainder (`remainder_rounding`): a = √(t/2π) is computed from fl(t0 + h) with a
     relative error ≤ `A_REL`, which moves x = a − m − ½ by ≤ A_REL·a; |C_k′| on |x| ≤ ½ is
     bounded by the series (Σ i·|c_i|·½^(i−1): 3.2 for C_0), and each Horner sum of L terms
     by γ_(2L+6)·Σ|c_i|·½^i.
   With Σ_{n≤m} n^(−½) ≤ 2√m this gives the closed form in `float_error_bound`; the factor
   m·eps dominates at large height (it is a worst case: measured errors are 10³–10⁵ smaller).
4. The number of terms m = ⌊a⌋: where the computed a lies within A_REL·a of an integer, m may
   be off by one and the formula is the wrong branch of Riemann–Siegel; there the bound is
   infinite (`near_square`), so the sample goes to the exact paths (`precise_z` takes m from
   Arb). Elementary functions (exp, log, sqrt, sin, cos) are taken within `ELEM` (4 ulp):
   glibc's table of known errors lists ≤ 1–2 ulp for these in double precision on x86_64.
"""

from __future__ import annotations

import functools
import math

import flint
import numba
import numpy as np

from zetalab.zeros import rs_kernel
from zetalab.zeros.phases import product_mod_2pi, two_pi_parts
from zetalab.zeros.rs_series import remainder_coefficients, remainder_polynomials

# Gabcke's constants d_K for the remainder after C_0..C_K, valid for t ≥ 200.
GABCKE_D = (0.127, 0.053, 0.011, 0.031, 0.017, 0.061, 0.661, 9.2, 130.0, 1837.0, 25966.0)
GABCKE_T_MIN = 200.0
KERNEL_TERMS = 5  # the kernel sums C_0..C_4, so K = 4
EPS = 2.0**-52  # float64 unit roundoff is 2^-53; one ulp of 1 is used as a margin
U = 2.0**-53  # unit roundoff: |fl(x op y) − x op y| ≤ u·|x op y|
ELEM = 8.0 * U  # exp, log, log1p, sqrt, pow, sin, cos: ≤ 4 ulp (relative; absolute for sin, cos)
# |a_computed − √(t/2π)| ≤ A_REL·a: fl(t0 + h), ×1/2π (rounded constant, product), sqrt
# (possibly approximated under fastmath): 1.5u + 2.5u + 4 ulp margin
A_REL = 8.0 * U


def gamma(k: int | np.ndarray) -> float | np.ndarray:
    """γ_k = k·u/(1 − k·u): the standard bound on k accumulated roundings (Higham, §3.1)."""
    return k * U / (1.0 - k * U)


@functools.cache
def _series_tails() -> np.ndarray:
    """Σ |dropped coefficient|·(½)^i for each C_k row: what the kernel's truncation leaves out."""
    full = remainder_coefficients()
    _coef, lengths = remainder_polynomials()
    tails = np.zeros(KERNEL_TERMS)
    for k in range(KERNEL_TERMS):
        powers = np.arange(full.shape[1])
        kept = 2 * int(lengths[k]) + (k % 2)  # P_k(y) keeps `length` terms in y = x²
        dropped = powers >= kept
        # 1e-30: the tail of the 60 stored coefficients themselves (rs_series.TERMS)
        tails[k] = float(np.sum(np.abs(full[k, dropped]) * 0.5 ** powers[dropped])) + 1e-30
    return tails


@functools.cache
def _series_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Per C_k, bounds on |x| ≤ ½: Σ|c_i|·½^i ≥ |C_k| and Σ i·|c_i|·½^(i−1) ≥ |C_k′|."""
    full = remainder_coefficients()
    i = np.arange(full.shape[1])
    size = np.sum(np.abs(full) * 0.5**i, axis=1) + 1e-30
    slope = np.sum(np.abs(full) * i * 0.5 ** np.maximum(i - 1, 0), axis=1) + 1e-30
    return size, slope


def near_square(t: np.ndarray | float) -> np.ndarray:
    """Where m = ⌊√(t/2π)⌋ in float64 may be off by one: a within 2·A_REL·a of an integer
    (A_REL for the kernel's a, as much again for this test's own a)."""
    a = np.sqrt(np.asarray(t, dtype=np.float64) / (2.0 * math.pi))
    return np.abs(a - np.rint(a)) <= 2.0 * A_REL * a


def _series_in_a(a: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """Σ_k coefficients[k]·a^(−k−½), by Horner's rule in 1/a (one pass over the array)."""
    inverse = 1.0 / a
    out = np.full_like(a, coefficients[-1])
    for c in coefficients[-2::-1]:
        out = out * inverse + c
    return out * np.sqrt(inverse)


@functools.cache
def _rounding_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """(c_a, c_1) with |rounding of C_k's term| ≤ (c_a[k]·a + c_1[k])·a^(−k−½)."""
    size, slope = _series_bounds()
    _coef, lengths = remainder_polynomials()
    k = np.arange(KERNEL_TERMS)
    shift = (slope + (k + 0.5) * size) * A_REL  # x and a^(−k−½) move with a
    horner = np.array([gamma(2 * int(lengths[j]) + 6 + 2 * j) for j in k]) * size
    return shift, horner


def remainder_rounding(t: np.ndarray | float) -> np.ndarray:
    """|R as the kernels compute it − R at the exact t| for the right m: a's error moves x, plus
    the Horner sums and the scaling a^(−k−½) (docs/zeros.md, "Rigorous signs")."""
    a = np.sqrt(np.asarray(t, dtype=np.float64) / (2.0 * math.pi))
    shift, horner = _rounding_coefficients()
    return a * _series_in_a(a, shift) + _series_in_a(a, horner)


def remainder_bound(t: np.ndarray | float) -> np.ndarray:
    """|Z(t) − (main sum + Σ_{k≤4} C_k terms as stored)| for t ≥ 200: Gabcke + series tails."""
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < GABCKE_T_MIN):
        raise ValueError(f"Gabcke's bound needs t ≥ {GABCKE_T_MIN}")
    tau = t / (2.0 * math.pi)
    a = np.sqrt(tau)
    gabcke = GABCKE_D[KERNEL_TERMS - 1] * tau ** (-(2 * (KERNEL_TERMS - 1) + 3) / 4.0)
    return gabcke + _series_in_a(a, _series_tails())


def float_error_bound(t: np.ndarray | float, h: np.ndarray | float) -> np.ndarray:
    """Bound on the float64 rounding of the kernel's Z at t = t0 + h (offset h from the frame)."""
    t = np.asarray(t, dtype=np.float64)
    h = np.abs(np.asarray(h, dtype=np.float64))
    a = np.sqrt(t / (2.0 * math.pi))
    m = np.floor(a)
    log_m = np.log(np.maximum(m, 1.0))
    sum_amp = 2.0 * np.sqrt(m)  # ≥ Σ_{n≤m} n^(−½)
    dtheta = h * (0.5 * np.log(t / (2.0 * math.pi)) + 1.0)
    phase = 8.0 * EPS * (2.0 * math.pi + dtheta + h * log_m)
    per_term = phase + 4.0 * EPS + 2e-18 + EPS  # phase, sin/cos, n^(−½)
    main = 2.0 * sum_amp * (per_term + m * EPS)
    return main + remainder_rounding(t)


def z_error_bound(t: np.ndarray | float, h: np.ndarray | float) -> np.ndarray:
    """Total bound on |Z_kernel(t0 + h) − Z(t0 + h)|: truncation plus rounding; infinite where
    the kernel's m may be off by one (`near_square`)."""
    bound = remainder_bound(t) + float_error_bound(t, h)
    return np.where(near_square(t), np.inf, bound)


def arb_z(t0: float | str, h: float, max_prec: int = 1024) -> float:
    """Z(t0 + h) in Arb (exact point: the float64 pair is summed exactly), as a float whose
    sign is certified; ArithmeticError if even `max_prec` bits cannot decide the sign."""
    old = flint.ctx.prec
    try:
        t_est = abs(float(t0)) + abs(h)
        prec = 64 + 2 * int(math.log2(max(t_est, 2.0)))
        while prec <= max_prec:
            flint.ctx.prec = prec
            t = flint.arb(t0) + flint.arb(h)  # exact: both are binary floats, prec ≥ 2·53
            z = _hardy_z(t)
            if not z.contains(0):
                return float(z.mid())
            prec *= 2
    finally:
        flint.ctx.prec = old
    raise ArithmeticError(f"the sign of Z({t0!r} + {h!r}) is undecidable at {max_prec} bits")


def _hardy_z(t: flint.arb) -> flint.arb:
    """Z(t) = exp(iθ(t))·ζ(½ + it), θ(t) = arg Γ(¼ + it/2) − (t/2)·log π (Arb, rigorous)."""
    half = t / 2
    theta = flint.acb(flint.arb(0.25), half).lgamma().imag - half * flint.arb.pi().log()
    zeta = flint.acb(flint.arb(0.5), t).zeta()
    return (flint.acb(0, theta).exp() * zeta).real


def certify_signs(
    t0: float, h: np.ndarray, z: np.ndarray, bound: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """z with every value not certified by the bound replaced by Arb's; and how many were.

    A value is certified when |z| > z_error_bound(t0 + h, h): its sign is then the sign of Z.
    """
    h = np.asarray(h, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    if bound is None:
        bound = z_error_bound(t0 + h, h)
    weak = np.flatnonzero(~(np.abs(z) > bound))  # NaN counts as weak
    if weak.size == 0:
        return z, 0
    z = z.copy()
    for i in weak:
        z[i] = arb_z(t0, float(h[i]))
    return z, int(weak.size)


@numba.njit(cache=True)
def _precise_sum(
    h: float,
    phi0: np.ndarray,
    log_hi: np.ndarray,
    log_lo: np.ndarray,
    amp: np.ndarray,
    m: int,
    dth_hi: float,
    dth_lo: float,
    c1: float,
    c2: float,
    c3: float,
) -> float:
    """Σ_{n≤m} n^(−½) cos(φ_n + Δθ − h·log n), every phase to a few ulps of 2π (h·log n by an
    exact product with the double-double log n, reduced with 2π in three parts) and the sum
    compensated (Neumaier), so the rounding is ~eps per term, not ~m·eps."""
    s = 0.0
    comp = 0.0
    inv = 1.0 / c1
    for i in range(m):
        n = i + 1
        y = product_mod_2pi(h, log_hi[n], log_lo[n], inv, c1, c2, c3)  # h·log n mod 2π
        x = (phi0[i] - y) + dth_hi + dth_lo
        term = amp[i] * math.cos(x)
        t = s + term
        if abs(s) >= abs(term):
            comp += (s - t) + term
        else:
            comp += (term - t) + s
        s = t
    return s + comp


def precise_z(frame, h: float) -> tuple[float, float]:
    """Z(t0 + h) with a rounding bound of ~1e-10 instead of the kernel's m·eps worst case,
    and that bound (Gabcke's truncation included). For samples whose sign the fast kernels
    cannot prove; Arb is the last resort (25–60 s a point near 10¹⁶, this ~0.1–1 s).
    The number of terms m = ⌊√(t/2π)⌋ comes from Arb, so it is right even next to a square
    2πm², where the float kernels' bound is infinite (`near_square`)."""
    from zetalab.zeros.frame import theta_arb
    from zetalab.zeros.phases import _log_table

    t = frame.t0 + h
    old = flint.ctx.prec
    flint.ctx.prec = 128
    try:
        two_pi = 2 * flint.arb.pi()
        t_exact = flint.arb(frame.t0) + flint.arb(h)  # exact: two binary floats, 128 bits
        root = (t_exact / two_pi).sqrt().floor()
        if not root.is_exact():
            return 0.0, math.inf  # √(t/2π) within 1e-38 of an integer: Arb decides
        m = int(root.unique_fmpz())
        log_hi, log_lo = _log_table(m, 128)
        dth = theta_arb(t_exact) - theta_arb(frame.t0)
        dth -= two_pi * (dth / two_pi).floor()
        dth_hi = float(dth)
        dth_lo = float(dth - dth_hi)
    finally:
        flint.ctx.prec = old
    main = _precise_sum(
        float(h), frame.phi0, log_hi, log_lo, frame.amp, m, dth_hi, dth_lo, *two_pi_parts()
    )
    a = math.sqrt(t / (2.0 * math.pi))
    r = rs_kernel.remainder_given_m(a, m, frame.coef, frame.lengths)
    sum_amp = 2.0 * math.sqrt(m)
    # per term: φ_n (1 ulp of 2π), h·log n mod 2π and Δθ (2 ulps each), their sum (2 ulps),
    # cos (1 ulp), n^(−½) (eps); the compensated sum 2·eps·|S| + m²·eps²·Σ
    per_term = 8.0 * EPS * 2.0 * math.pi + 2.0 * EPS
    rounding = 2.0 * sum_amp * (per_term + 2.0 * EPS + m * m * EPS * EPS)
    # the remainder with the exact m at the float a (x may exceed ½ by A_REL·a: the slope term)
    bound = float(remainder_bound(t) + remainder_rounding(t)) + rounding
    return 2.0 * main + r, bound
