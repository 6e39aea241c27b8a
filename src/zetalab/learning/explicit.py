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
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.io import atomic_path, json_safe, read_npz, rebuild_command
from zetalab.unfold import inverse_smooth_count, theta_prime

# Rows per block when evaluating waves directly, so memory stays O(block · waves) at any N.
BLOCK = 8192
# Lowest unfolded position handed to N0⁻¹ (N0's minimum is ≈ −0.124).
MIN_POSITION = -0.1
# The most primes an explicit-formula sum may use: the 10^7-th prime is ≈ 1.8·10^8, a sieve of
# ~90 MB, and one evaluation over every term takes seconds. The setting actually used is chosen
# (and capped further) by baselines.prime_sum.max_num_primes.
MAX_PRIMES = 10_000_000
# Prime-wave feature columns stay below this prime (9,592 primes, two columns each).
WAVE_PRIME_CAP = 100_000
# Above this many (point, wave) pairs a series is evaluated by a type-3 NUFFT (FINUFFT):
# O(points + waves) instead of O(points · waves), which makes sums over 10^6–10^7 primes cost
# seconds. Below it the direct sum is cheaper and exact to rounding.
DIRECT_PAIRS = 4_000_000
# FINUFFT's requested relative accuracy (of Σ|coefficients|): ~10⁻¹⁰ absolute in δ for 10^7
# primes, far below the 10⁻³ the estimates are judged at.
NUFFT_EPS = 1e-12


def _prime_count_bound(count: int) -> int:
    """An integer above the count-th prime (Rosser: p_n < n(ln n + ln ln n) for n ≥ 6),
    rounded up to a power of two so that nearby counts share one cached sieve."""
    bound = 16 if count < 6 else count * (math.log(count) + math.log(math.log(count))) + 1
    return max(1 << 17, 1 << math.ceil(math.log2(bound)))


@functools.cache
def primes_below(limit: int) -> np.ndarray:
    """All primes < limit (sieve of Eratosthenes over the odd numbers; cached and read-only:
    every run config of a sweep is checked while the workflow is planned)."""
    if limit <= 3:
        primes = np.arange(2, max(limit, 2), dtype=np.int64)
    else:
        odd = np.ones(limit // 2, dtype=bool)  # odd[i] ↔ 2i + 1
        odd[0] = False
        for i in range(1, (math.isqrt(limit - 1) - 1) // 2 + 1):
            if odd[i]:
                p = 2 * i + 1
                odd[p * p // 2 :: p] = False
        primes = np.concatenate([[2], 2 * np.nonzero(odd)[0] + 1]).astype(np.int64)
    primes.flags.writeable = False
    return primes


def first_primes(count: int, where: str, cap: int = MAX_PRIMES) -> np.ndarray:
    """The first `count` primes, refusing counts below 1 or above `cap`."""
    if count < 1 or count > cap:
        raise ZetalabError(
            f"{where} = {count} asks for {count:,} primes; the limit is {cap:,}",
            f"use a count from 1 to {cap:,}",
        )
    return primes_below(_prime_count_bound(count))[:count]


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
        """D(t) and D'(t): directly in blocks of rows, or by NUFFT for large sums."""
        t = np.asarray(t, dtype=np.float64)
        if t.size * self.freqs.size > DIRECT_PAIRS:
            return self._by_nufft(t)
        value, slope = np.empty_like(t), np.empty_like(t)
        for start in range(0, len(t), BLOCK):
            rows = slice(start, start + BLOCK)
            phase = np.outer(t[rows], self.freqs)
            s, c = np.sin(phase), np.cos(phase)
            value[rows] = s @ self.sin_coef + c @ self.cos_coef + self.intercept
            slope[rows] = c @ (self.sin_coef * self.freqs) - s @ (self.cos_coef * self.freqs)
        return value, slope

    def _by_nufft(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Re Σ c_j e^{iω_j t} with c_j = b_j − i a_j is D − intercept; Re Σ iω_j c_j e^{iω_j t}
        is D′: one type-3 transform with two coefficient vectors."""
        import finufft

        c = self.cos_coef - 1j * self.sin_coef
        coef = np.stack([c, 1j * self.freqs * c])
        out = finufft.nufft1d3(self.freqs, coef, t, eps=NUFFT_EPS, isign=1, nthreads=1)
        return out[0].real + self.intercept, out[1].real


def wave_terms(
    num_primes: int, prime_powers: bool, where: str = "baselines.prime_sum.num_primes"
) -> tuple[np.ndarray, np.ndarray]:
    """Integers m (primes ≤ X and, optionally, prime powers ≤ X), sorted, and their
    explicit-formula weights Λ(m)/(√m log m) = 1/(k p^{k/2}) for m = p^k."""
    primes = first_primes(num_primes, where).astype(np.float64)
    limit = primes[-1]
    m, w = [primes], [primes**-0.5]
    k = 2
    while prime_powers and 2.0**k <= limit:
        p = primes[primes**k <= limit]
        m.append(p**k)
        w.append(1.0 / (k * p ** (k / 2.0)))
        k += 1
    m_all, w_all = np.concatenate(m), np.concatenate(w)
    order = np.argsort(m_all, kind="stable")
    return m_all[order], w_all[order]


@functools.lru_cache(maxsize=4)
def _terms(num_primes: int, prime_powers: bool) -> tuple[np.ndarray, np.ndarray]:
    """wave_terms, kept for the few counts a selection tries with every taper (building the
    terms of 10^6 primes costs about as much as one evaluation)."""
    return wave_terms(num_primes, prime_powers)


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
    first_primes(num_primes, where or "baselines.prime_sum.num_primes")
    m, w = _terms(num_primes, prime_powers)
    w = w * riesz_taper(m, taper)
    return WaveSeries(np.log(m), w / np.pi, np.zeros_like(w))


def solve_positions(
    series: WaveSeries, indices: np.ndarray, iterations: int = 15, tol: float = 1e-9
) -> tuple[np.ndarray, dict[str, Any]]:
    """δ̂_n with x = n − ½ + δ̂ solving x − (n − ½) = D(N0⁻¹(x)), by safeguarded Newton.

    F(x) = x − (n − ½) − D(t(x)), F'(x) = 1 − D'(t)·π/θ'(t). Where F' is small or negative
    (a wiggle of the truncated sum, not the crossing we want) the slope is floored and the
    step capped, which keeps the iteration on the increasing branch nearest t₀. The nodes that
    still have not converged get the upward crossing of F nearest n − ½, found for all of them
    at once by a grid scan and bisection, so every returned δ̂ is a true solution. `tol` sits
    well above the NUFFT's rounding of D (~10⁻¹⁰ for 10^7 primes).
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
    rescued = _bracketed_roots(series, base[active])
    found = np.isfinite(rescued)
    delta[active[found]] = rescued[found]
    residual, _ = _residual(series, base, delta)
    info = {
        "solver_iterations": done,
        "solver_rescued_by_bracketing": int(np.sum(found)),
        "solver_max_residual": float(np.max(np.abs(residual), initial=0.0)),
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


def _bracketed_roots(
    series: WaveSeries,
    base: np.ndarray,
    reach: float = 3.0,
    points: int = 1201,
    tol: float = 1e-9,
    iterations: int = 30,
) -> np.ndarray:
    """δ of the upward crossing of F nearest δ = 0 within ±reach for each base (NaN where
    there is none): one grid scan, then the Illinois variant of regula falsi on every bracket
    together (superlinear, and the bracket always holds the root)."""
    if len(base) == 0:
        return np.empty(0)
    grid = np.linspace(-reach, reach, points)
    deltas = np.broadcast_to(grid, (len(base), points))
    bases = np.broadcast_to(base[:, None], deltas.shape)
    usable = bases + deltas > MIN_POSITION
    f = np.full(deltas.shape, np.nan)
    f[usable] = _residual(series, bases[usable], deltas[usable])[0]
    ups = (f[:, :-1] < 0) & (f[:, 1:] >= 0)
    distance = np.where(ups, np.abs(grid[:-1]), np.inf)
    j = np.argmin(distance, axis=1)
    rows = np.arange(len(base))
    has = np.isfinite(distance[rows, j])
    lo, hi = grid[j].copy(), grid[j + 1].copy()
    f_lo, f_hi = np.where(has, f[rows, j], -1.0), np.where(has, f[rows, j + 1], 1.0)
    x, side = 0.5 * (lo + hi), np.zeros(len(base))
    for _ in range(iterations):
        x = np.clip(hi - f_hi * (hi - lo) / (f_hi - f_lo), lo, hi)
        fx = _residual(series, base, x)[0]
        if np.all(np.abs(fx) < tol):
            break
        below = fx < 0
        # Illinois: halve the weight of an end kept twice in a row, so both ends move.
        f_hi = np.where(below & (side < 0), 0.5 * f_hi, f_hi)
        f_lo = np.where(~below & (side > 0), 0.5 * f_lo, f_lo)
        lo, f_lo = np.where(below, x, lo), np.where(below, fx, f_lo)
        hi, f_hi = np.where(below, hi, x), np.where(below, f_hi, fx)
        side = np.where(below, -1.0, 1.0)
    return np.where(has, x, np.nan)


def explicit_estimate(
    indices: np.ndarray, num_primes: int, taper: float, where: str = "model.estimate.num_primes"
) -> np.ndarray:
    """δ̂ of the tapered explicit formula at the predicted height for absolute `indices`."""
    first_primes(num_primes, where)
    return estimate_at(indices, num_primes, taper, True, "predicted")[0]


def estimate_at(
    indices: np.ndarray,
    num_primes: int,
    taper: float,
    prime_powers: bool,
    height: str,
    iterations: int = 15,
) -> tuple[np.ndarray, dict[str, Any]]:
    """δ̂ of one explicit-formula setting at absolute `indices`, at the predicted height
    (solve_positions) or at the smooth height t₀ = N0⁻¹(n − ½); and the solver's record."""
    series = explicit_formula_series(num_primes, prime_powers, taper)
    indices = np.asarray(indices)
    if height == "smooth":
        return series.value(inverse_smooth_count(indices - 0.5)), {}
    return solve_positions(series, indices, iterations)


@dataclass(frozen=True, eq=False)
class EstimateTable:
    """The explicit-formula setting the prime_sum baseline chose, and its δ̂ at every zero the
    study uses: one selection and one set of numbers for the baseline and every learner's
    feature column (results/explicit_formula/estimate.npz)."""

    num_primes: int
    taper: float
    prime_powers: bool
    height: str
    indices: np.ndarray  # absolute zero indices, increasing
    values: np.ndarray

    @property
    def setting(self) -> dict[str, Any]:
        """model.estimate as a run records it."""
        return {"source": "prime_sum", "num_primes": self.num_primes, "taper": self.taper}

    def values_at(self, indices: np.ndarray) -> np.ndarray:
        """δ̂ at absolute `indices`: the table's values, computed with the same setting where
        the table has none (a window the study did not plan)."""
        indices = np.asarray(indices, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.indices, indices), 0, max(len(self.indices) - 1, 0))
        known = (self.indices[pos] == indices) if len(self.indices) else np.zeros(0, bool)
        out = np.empty(len(indices))
        out[known] = self.values[pos[known]]
        if not np.all(known):
            out[~known] = estimate_at(
                indices[~known], self.num_primes, self.taper, self.prime_powers, self.height
            )[0]
        return out


def save_estimate_table(path: str | Path, table: EstimateTable, selection: dict[str, Any]) -> None:
    """estimate.npz: the chosen setting, the selection record (JSON) and δ̂ by zero index."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            num_primes=np.int64(table.num_primes),
            taper=np.float64(table.taper),
            prime_powers=np.bool_(table.prime_powers),
            height=np.str_(table.height),
            indices=np.asarray(table.indices, dtype=np.int64),
            values=np.asarray(table.values, dtype=np.float64),
            selection=np.str_(json.dumps(json_safe(selection), sort_keys=True)),
        )


def load_estimate_table(path: str | Path) -> tuple[EstimateTable, dict[str, Any]]:
    """The table and the selection record of estimate.npz (a damaged file: rebuild command)."""

    def read(data: Any) -> tuple[EstimateTable, dict[str, Any]]:
        table = EstimateTable(
            int(data["num_primes"]),
            float(data["taper"]),
            bool(data["prime_powers"]),
            str(data["height"]),
            data["indices"].astype(np.int64),
            data["values"].astype(np.float64),
        )
        return table, json.loads(str(data["selection"]))

    table, selection = read_npz(path, read)
    if len(table.indices) != len(table.values) or np.any(np.diff(table.indices) <= 0):
        raise ZetalabError(
            f"{path} is not a table of increasing zero indices", rebuild_command(path)
        )
    return table, selection
