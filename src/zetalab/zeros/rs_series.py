"""Power series of the Riemann–Siegel remainder coefficients C0..C4 around p = ½.

The remainder of the Riemann–Siegel formula is
R(t) = (−1)^(m−1) a^(−1/2) Σ_k C_k(p) a^(−k), a = √(t/2π), m = ⌊a⌋, p = a − m,
with C_k built from Ψ(p) = cos(2π(p² − p − 1/16)) / cos(2πp) and its derivatives (Edwards,
*Riemann's Zeta Function*, §7.6; the same combinations as Gabcke's thesis). Ψ is entire, so its
Taylor series in x = p − ½ converges on the whole range |x| ≤ ½; we derive it exactly (series
division of cos(2πx² − 5π/8) by −cos(2πx)) at 60 digits with mpmath instead of copying a
printed table, and evaluate the truncated series with Horner's rule in the kernel.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np

DEGREE = 90  # Taylor degree of Ψ in x; C4 needs Ψ⁽¹²⁾, so 78 degrees survive differentiation.
TERMS = 60  # stored coefficients per C_k (|x| ≤ ½ makes the tail < 1e-30)


def _psi_series(degree: int) -> list[mpmath.mpf]:
    """Taylor coefficients of Ψ(½ + x) = −cos(2πx² − 5π/8) / cos(2πx)."""
    two_pi = 2 * mpmath.pi
    c5, s5 = mpmath.cos(5 * mpmath.pi / 8), mpmath.sin(5 * mpmath.pi / 8)
    num = [mpmath.mpf(0)] * (degree + 1)
    # cos(2πx² − 5π/8) = cos(2πx²)·cos(5π/8) + sin(2πx²)·sin(5π/8)
    for k in range(degree // 2 + 1):
        power = 2 * k
        if power > degree:
            break
        term = two_pi**k / mpmath.factorial(k)
        sign = (-1) ** (k // 2)
        if k % 2 == 0:
            num[power] += sign * term * c5
        else:
            num[power] += sign * term * s5
    den = [mpmath.mpf(0)] * (degree + 1)
    for k in range(degree // 2 + 1):
        den[2 * k] = -((-1) ** k) * two_pi ** (2 * k) / mpmath.factorial(2 * k)
    out = [mpmath.mpf(0)] * (degree + 1)
    for i in range(degree + 1):
        acc = num[i] - sum(out[j] * den[i - j] for j in range(i))
        out[i] = acc / den[0]
    return out


def _derivative(series: list[mpmath.mpf], order: int) -> list[mpmath.mpf]:
    out = list(series)
    for _ in range(order):
        out = [out[i] * i for i in range(1, len(out))]
    return out


def _combine(parts: list[tuple[mpmath.mpf, list[mpmath.mpf]]], terms: int) -> list[mpmath.mpf]:
    out = [mpmath.mpf(0)] * terms
    for factor, series in parts:
        for i in range(min(terms, len(series))):
            out[i] += factor * series[i]
    return out


@functools.cache
def remainder_coefficients() -> np.ndarray:
    """Array (5, TERMS): row k holds the Taylor coefficients of C_k in x = p − ½."""
    with mpmath.workdps(60):
        psi = _psi_series(DEGREE)
        d = {k: _derivative(psi, k) for k in range(13)}
        pi2 = mpmath.pi**2
        rows = [
            _combine([(mpmath.mpf(1), d[0])], TERMS),
            _combine([(-1 / (96 * pi2), d[3])], TERMS),
            _combine([(1 / (64 * pi2), d[2]), (1 / (18432 * pi2**2), d[6])], TERMS),
            _combine(
                [
                    (-1 / (64 * pi2), d[1]),
                    (-1 / (3840 * pi2**2), d[5]),
                    (-1 / (5308416 * pi2**3), d[9]),
                ],
                TERMS,
            ),
            _combine(
                [
                    (1 / (128 * pi2), d[0]),
                    (mpmath.mpf(19) / (24576 * pi2**2), d[4]),
                    (mpmath.mpf(11) / (5898240 * pi2**3), d[8]),
                    (1 / (2038431744 * pi2**4), d[12]),
                ],
                TERMS,
            ),
        ]
        return np.array([[float(c) for c in row] for row in rows], dtype=np.float64)


@functools.cache
def remainder_polynomials(tol: float = 1e-18, a_min: float = 9.0) -> tuple[np.ndarray, np.ndarray]:
    """C_k as polynomials in y = x² (C_k = P_k(y) for even k, x·P_k(y) for odd k), truncated.

    Row k is multiplied by a^(−k−½) ≤ a_min^(−k−½) in the remainder, so it is truncated once
    its terms (with their second derivatives, at |x| = ½) fall below tol·a_min^(k+½).
    Returns (coefficients (5, L) zero-padded, lengths (5,)).
    """
    full = remainder_coefficients()
    rows, lengths = [], []
    for k in range(5):
        poly = full[k, k % 2 :: 2]
        i = np.arange(len(poly)) * 2 + k % 2
        size = np.abs(poly) * 0.5**i * (1 + i) ** 2
        keep = np.flatnonzero(size > tol * a_min ** (k + 0.5))
        length = int(keep.max()) + 1 if keep.size else 1
        rows.append(poly[:length])
        lengths.append(length)
    out = np.zeros((5, max(lengths)))
    for k, row in enumerate(rows):
        out[k, : len(row)] = row
    return out, np.array(lengths, dtype=np.int64)
