"""The truncated explicit formula for δ ≈ −S(t): the physics every Study Z predictor builds on.

S(t) ≈ −(1/π) Σ_{m ≤ X} Λ(m) w(m) sin(t log m)/(√m log m) over prime powers m = p^k ≤ X
(Λ(m)/log m = 1/k), X the `num_primes`-th prime. The Riesz-type taper
w(m) = (1 − log m / log X')^κ (X' just above X) damps the terms near the cut-off, where a
sharp truncation rings; κ = 0 is the sharp sum. On zeros 10,001–10,200 a small κ (0.25–0.5)
halves the error of the sharp sum at every X (docs/results.md).

Used by the `prime_sum` baselines (zetalab.evaluation.baselines) and, as one node feature and
as the base of the `*-residual` variants, by the GNN (zetalab.learning.features): one
implementation, so the feature and the baseline are the same numbers.

γ_n is unknown when predicting, so δ̂_n solves x = n − ½ + D(N0⁻¹(x)) for the unfolded position
x (the point where N0(t) + S_X(t) crosses n − ½): the same primes-only information as
evaluating at the smooth height t₀ = N0⁻¹(n − ½), and much more accurate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.unfold import inverse_smooth_count, theta_prime

# Rows per block when evaluating waves, so memory stays O(block · waves) at any N.
BLOCK = 8192
# Lowest unfolded position handed to N0⁻¹ (N0's minimum is ≈ −0.124).
MIN_POSITION = -0.1
# Largest prime any wave list may reach (sieve size); 100,000 holds 9,592 primes.
PRIME_CAP = 100_000


@functools.cache
def primes_below(limit: int) -> np.ndarray:
    """All primes < limit (sieve of Eratosthenes; cached and read-only: every run config of a
    sweep is checked against the cap while the workflow is planned)."""
    sieve = np.ones(max(limit, 2), dtype=bool)
    sieve[:2] = False
    for p in range(2, int(limit**0.5) + 1):
        if sieve[p]:
            sieve[p * p :: p] = False
    primes = np.nonzero(sieve)[0].astype(np.int64)
    primes.flags.writeable = False
    return primes


def first_primes_capped(count: int, where: str) -> np.ndarray:
    """The first `count` primes, refusing counts beyond the primes below PRIME_CAP."""
    available = primes_below(PRIME_CAP)
    if count < 1 or count > len(available):
        raise ZetalabError(
            f"{where} = {count} asks for {count} primes, but {len(available)} primes lie below "
            f"the cap {PRIME_CAP:,}",
            f"use a count from 1 to {len(available)}",
        )
    return available[:count]


@dataclass(frozen=True)
class WaveSeries:
    """D(t) = Σ_j a_j sin(t ω_j) + b_j cos(t ω_j) + c, with ω_j = log m_j."""

    freqs: np.ndarray
    sin_coef: np.ndarray
    cos_coef: np.ndarray
    intercept: float = 0.0

    def value(self, t: np.ndarray) -> np.ndarray:
        return self.value_and_slope(t)[0]

    def value_and_slope(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """D(t) and D'(t), evaluated in blocks of rows."""
        t = np.asarray(t, dtype=np.float64)
        value, slope = np.empty_like(t), np.empty_like(t)
        for start in range(0, len(t), BLOCK):
            rows = slice(start, start + BLOCK)
            phase = np.outer(t[rows], self.freqs)
            s, c = np.sin(phase), np.cos(phase)
            value[rows] = s @ self.sin_coef + c @ self.cos_coef + self.intercept
            slope[rows] = c @ (self.sin_coef * self.freqs) - s @ (self.cos_coef * self.freqs)
        return value, slope


def wave_terms(
    num_primes: int, prime_powers: bool, where: str = "baselines.prime_sum.num_primes"
) -> tuple[np.ndarray, np.ndarray]:
    """Integers m (primes ≤ X and, optionally, prime powers ≤ X) and explicit-formula weights.

    The weight of m = p^k is Λ(m)/(√m log m) = 1/(k p^{k/2}).
    """
    primes = first_primes_capped(num_primes, where)
    limit = int(primes[-1])
    terms: list[tuple[int, float]] = []
    for p in map(int, primes):
        k, m = 1, p
        while m <= limit:
            terms.append((m, 1.0 / (k * p ** (k / 2.0))))
            if not prime_powers:
                break
            k, m = k + 1, m * p
    terms.sort()
    m_arr = np.array([m for m, _ in terms], dtype=np.float64)
    w_arr = np.array([w for _, w in terms], dtype=np.float64)
    return m_arr, w_arr


def riesz_taper(m: np.ndarray, taper: float) -> np.ndarray:
    """(1 − log m / log X')^κ with X' = max(m) + 1, so the last term keeps a small weight."""
    if taper < 0:
        raise ZetalabError(f"a taper exponent of {taper} is negative", "use κ ≥ 0 (0 = sharp)")
    if taper == 0:
        return np.ones_like(m)
    return (1.0 - np.log(m) / np.log(m.max() + 1.0)) ** taper


def explicit_formula_series(
    num_primes: int, prime_powers: bool = True, taper: float = 0.0, where: str | None = None
) -> WaveSeries:
    """δ ≈ −S(t) ≈ (1/π) Σ w_m τ_m sin(t log m): the explicit formula with nothing fitted."""
    m, w = wave_terms(num_primes, prime_powers, *([where] if where else []))
    w = w * riesz_taper(m, taper)
    return WaveSeries(np.log(m), w / np.pi, np.zeros_like(w))


def solve_positions(
    series: WaveSeries, indices: np.ndarray, iterations: int = 60, tol: float = 1e-10
) -> tuple[np.ndarray, dict[str, Any]]:
    """δ̂_n with x = n − ½ + δ̂ solving x − (n − ½) = D(N0⁻¹(x)), by safeguarded Newton.

    F(x) = x − (n − ½) − D(t(x)), F'(x) = 1 − D'(t)·π/θ'(t). Where F' is small or negative
    (a wiggle of the truncated sum, not the crossing we want) the slope is floored and the
    step capped, which keeps the iteration on the increasing branch nearest t₀. The rare
    node that still has not converged gets the upward crossing of F nearest n − ½ found by
    a grid scan and bisection, so every returned δ̂ is a true solution.
    """
    base = np.asarray(indices, dtype=np.float64) - 0.5
    delta = series.value(inverse_smooth_count(base))
    active = np.arange(len(base))
    done = 0
    while done < iterations and len(active):
        done += 1
        residual, slope = _residual(series, base[active], delta[active])
        converged = np.abs(residual) < tol
        step = np.clip(residual / np.maximum(slope, 0.3), -0.25, 0.25)
        delta[active] -= np.where(converged, 0.0, step)
        active = active[~converged]
    rescued = 0
    for i in active:
        found = _bracketed_root(series, base[i])
        if found is not None:
            delta[i] = found
            rescued += 1
    residual, _ = _residual(series, base, delta)
    info = {
        "solver_iterations": done,
        "solver_rescued_by_bisection": rescued,
        "solver_max_residual": float(np.max(np.abs(residual))),
        "solver_unconverged": int(np.sum(np.abs(residual) > 1e-6)),
    }
    return delta, info


def _residual(
    series: WaveSeries, base: np.ndarray, delta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """F and F' of solve_positions at x = base + δ."""
    x = np.maximum(base + delta, MIN_POSITION)
    t = inverse_smooth_count(x)
    value, d_value = series.value_and_slope(t)
    return x - base - value, 1.0 - d_value * np.pi / theta_prime(t)


def _bracketed_root(series: WaveSeries, base: float, reach: float = 3.0) -> float | None:
    """δ of the upward crossing of F nearest δ = 0 within ±reach, by bisection."""
    grid = np.linspace(-reach, reach, 1201)
    grid = grid[base + grid > MIN_POSITION]
    f, _ = _residual(series, np.full(len(grid), base), grid)
    ups = np.nonzero((f[:-1] < 0) & (f[1:] >= 0))[0]
    if len(ups) == 0:
        return None
    j = ups[np.argmin(np.abs(grid[ups]))]
    lo, hi = grid[j], grid[j + 1]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _residual(series, np.array([base]), np.array([mid]))[0][0] < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def explicit_estimate(
    indices: np.ndarray, num_primes: int, taper: float, where: str = "model.estimate.num_primes"
) -> np.ndarray:
    """δ̂ of the tapered explicit formula at the predicted height for 1-based `indices`."""
    series = explicit_formula_series(num_primes, True, taper, where)
    return solve_positions(series, np.asarray(indices))[0]
