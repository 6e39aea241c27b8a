"""The frame phases φ_n = θ(t0) − t0·log n mod 2π for n ≤ m, fast and to float64 accuracy.

Why: computing each φ_n in Arb (a Python loop of ~6 ball operations per n) costs ~4.5 µs per
term, 0.9 s per block at n = 10¹² (m = 2·10⁵) — more than the Odlyzko–Schönhage evaluation of
the whole block — and would cost ~200 s at 10¹⁶. Here only log p for the primes p ≤ m comes
from Arb (π(m) ≈ m/log m calls); log n for composite n is the double-double sum
log p + log(n/p) over the smallest prime factor p, and t0·log n mod 2π is formed with
error-free transformations (Dekker's product, Knuth's sum; numba without fastmath, so the
compiler keeps IEEE order):

    t0·L_hi = P + e exactly, k = round(P/2π), k·C1 = A + a exactly (C1 + C2 + C3 = 2π),
    P − A exact (Sterbenz), y = (P − A) − a + e + t0·L_lo − k·C2 − k·C3,

every remaining term is below 1e-3 in size, so their roundings stay below 1e-19; the result
carries the one rounding to float64 of (θ0 − y) mod 2π plus a few ulps of 2π (≤ 2e-15 rad, the
allowance `rs_bounds` makes for φ_n is 1.1e-14). `phases` spot-checks a few n against Arb and
refuses the result if they differ by more than 1e-14. The double-double table of log n does
not depend on t0 and is kept for the process, so later frames pay only the reduction. Valid
while k < 2^53, i.e. t0·log m < 5.6·10¹⁶ (t0 ≲ 10¹⁵); beyond that it refuses.
"""

from __future__ import annotations

import math

import flint
import numba
import numpy as np

SPLITTER = 134217729.0  # 2^27 + 1 (Veltkamp split)
CHECKS = 8  # n compared against Arb per call
TOLERANCE = 1e-14


@numba.njit(inline="always")
def _two_sum(a: float, b: float) -> tuple[float, float]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@numba.njit(inline="always")
def _split(a: float) -> tuple[float, float]:
    c = SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@numba.njit(inline="always")
def _two_prod(a: float, b: float) -> tuple[float, float]:
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@numba.njit(inline="always")
def product_mod_2pi(
    x: float, log_hi: float, log_lo: float, inv: float, c1: float, c2: float, c3: float
) -> float:
    """x·log n mod 2π (near 0, |·| ≲ π) for log n = log_hi + log_lo and 2π = c1 + c2 + c3,
    inv = 1/c1: the product and the multiple of c1 are error-free, so the result carries only a
    few roundings of quantities below 2π, not the ulp of x·log n (shared by the frame phases,
    the exact re-summation and the Odlyzko–Schönhage grid)."""
    big, e = _two_prod(x, log_hi)
    k = math.floor(big * inv + 0.5)
    a_hi, a_lo = _two_prod(k, c1)
    return (big - a_hi) - a_lo + e + x * log_lo - k * c2 - k * c3


def two_pi_parts(prec: int = 128) -> tuple[float, float, float]:
    """2π = c1 + c2 + c3 to `prec` bits, each part a float64 (for `product_mod_2pi`)."""
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        two_pi = 2 * flint.arb.pi()
        c1 = float(two_pi)
        c2 = float(two_pi - c1)
        return c1, c2, float(two_pi - c1 - c2)
    finally:
        flint.ctx.prec = old


@numba.njit(cache=True)
def _fill(  # log n in double-double: primes from Arb, composites by sums
    m: int,
    spf: np.ndarray,
    primes: np.ndarray,
    prime_hi: np.ndarray,
    prime_lo: np.ndarray,
    hi: np.ndarray,
    lo: np.ndarray,
) -> None:
    for i in range(primes.shape[0]):
        hi[primes[i]] = prime_hi[i]
        lo[primes[i]] = prime_lo[i]
    for n in range(2, m + 1):
        p = spf[n]
        if p == n:
            continue
        q = n // p
        s, e = _two_sum(hi[p], hi[q])
        e += lo[p] + lo[q]
        hi[n], lo[n] = _two_sum(s, e)


@numba.njit(cache=True)
def _reduce(
    t0: float,
    hi: np.ndarray,
    lo: np.ndarray,
    th_hi: float,
    th_lo: float,
    c1: float,
    c2: float,
    c3: float,
) -> np.ndarray:
    """(θ0 − t0·log n) mod 2π for n = 1..m (index n − 1)."""
    m = hi.shape[0] - 1
    out = np.empty(m)
    inv = 1.0 / c1
    for n in range(1, m + 1):
        y = product_mod_2pi(t0, hi[n], lo[n], inv, c1, c2, c3)
        x = (th_hi - y) + th_lo
        x -= c1 * math.floor(x * inv)
        out[n - 1] = x
    return out


def _smallest_prime_factors(m: int) -> np.ndarray:
    spf = np.zeros(m + 1, dtype=np.int64)
    for p in range(2, math.isqrt(m) + 1):
        if spf[p] == 0:
            block = spf[p * p :: p]
            block[block == 0] = p
    rest = np.flatnonzero(spf == 0)
    spf[rest] = rest
    return spf


def _split_arb(x: flint.arb) -> tuple[float, float]:
    hi = float(x)
    return hi, float(x - hi)


def phases(t0: float, theta0: flint.arb, m: int, prec: int = 128) -> np.ndarray:
    """φ_n = θ0 − t0·log n mod 2π (n = 1..m) as float64; θ0 = θ(t0) as an Arb ball."""
    if t0 * math.log(max(m, 2)) >= 2.0**53 * 2.0 * math.pi:
        raise ValueError(f"fast phases need t0·log m < 2^53·2π, got t0={t0}, m={m}")
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        hi, lo = _log_table(m, prec)
        two_pi = 2 * flint.arb.pi()
        c1, c2, c3 = two_pi_parts(prec)
        th = theta0 - two_pi * (theta0 / two_pi).floor()
        th_hi, th_lo = _split_arb(th)
        out = _reduce(float(t0), hi, lo, th_hi, th_lo, c1, c2, c3)
        _spot_check(out, t0, theta0, two_pi)
    finally:
        flint.ctx.prec = old
    return out


_TABLE: dict[str, np.ndarray] = {}


def _log_table(m: int, prec: int) -> tuple[np.ndarray, np.ndarray]:
    """log n (n ≤ m) in double-double, kept for the process: it does not depend on t0, so
    every later frame pays only the reduction (at n = 10¹⁶ the table costs ~15 s once)."""
    if "hi" not in _TABLE or len(_TABLE["hi"]) <= m:
        spf = _smallest_prime_factors(m)
        primes = np.flatnonzero(spf[2:] == np.arange(2, m + 1)) + 2
        prime_hi = np.empty(len(primes))
        prime_lo = np.empty(len(primes))
        for i, p in enumerate(primes.tolist()):
            prime_hi[i], prime_lo[i] = _split_arb(flint.arb(p).log())
        hi = np.zeros(m + 1)
        lo = np.zeros(m + 1)
        _fill(m, spf, primes, prime_hi, prime_lo, hi, lo)
        _TABLE.update(hi=hi, lo=lo)
    return _TABLE["hi"][: m + 1], _TABLE["lo"][: m + 1]


def _spot_check(out: np.ndarray, t0: float, theta0: flint.arb, two_pi: flint.arb) -> None:
    """A few φ_n against Arb: an error here means the error-free arithmetic was broken."""
    m = len(out)
    for n in sorted({1, 2, m, *np.linspace(2, m, CHECKS).astype(int).tolist()}):
        x = theta0 - flint.arb(t0) * flint.arb(n).log()
        x -= two_pi * (x / two_pi).floor()
        diff = abs(float(x) - out[n - 1])
        diff = min(diff, abs(diff - float(two_pi)))  # 0 and 2π are the same phase
        if not diff < TOLERANCE:
            raise ArithmeticError(f"fast phase φ_{n} off by {diff:.1e} at t0={t0}")
