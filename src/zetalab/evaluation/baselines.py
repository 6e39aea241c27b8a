"""Baselines every table shows beside the models (SPEC §6).

- `smooth`: δ̂ = 0, i.e. every zero at its smooth position N0⁻¹(n − ½).
- `ar`: ridge regression of δ_n on δ_{n−1..n−k}, fitted on train, iterated for the multi-step
  forecast over the extrapolation and holdout windows (it cannot do better than `smooth` there
  for long; its one-step-ahead error shows what the past of the sequence alone is worth).
- `prime_sum`: the truncated explicit formula δ ≈ −S(t), S(t) ≈ −(1/π) Σ_{m ≤ X} Λ(m)
  sin(t log m)/(√m log m) over prime powers m = p^k ≤ X (weights 1/(k p^{k/2})), X the
  `num_primes`-th prime; no fitted parameter, no past zero used.
- `prime_sum_fit`: the same waves sin(t log m)/√m, cos(t log m)/√m with amplitudes fitted by
  ridge regression on train.

Height at which the waves are evaluated (`height`): γ_n is unknown when predicting, so either
the smooth height t₀ = N0⁻¹(n − ½) (`smooth`), or the predicted height itself (`predicted`,
default): solve x = n − ½ + D(N0⁻¹(x)) for the unfolded position x by a safeguarded Newton
iteration started at t₀, i.e. find where the approximate counting function N0(t) + S_X(t)
crosses n − ½. The second uses the same information (primes only) and is much more accurate
(on zeros 10,002–20,000 with 100 primes: RMSE ≈ 0.05 mean spacings instead of ≈ 0.12), so it
is the honest default: a model has to beat the strongest prime-only predictor.

Baselines only ever receive the train part of the sequence (`observed_view`), so they cannot
see the extrapolation or holdout zeros they are scored on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.learning.dataset import Splits, ZeroData
from zetalab.learning.graph import first_primes
from zetalab.unfold import inverse_smooth_count, theta_prime

BASELINES = ("smooth", "ar", "prime_sum", "prime_sum_fit")
HEIGHTS = ("predicted", "smooth")
# Rows per block when evaluating waves, so memory stays O(block · waves) at any N.
BLOCK = 8192
# Lowest unfolded position handed to N0⁻¹ (N0's minimum is ≈ −0.124).
MIN_POSITION = -0.1


@dataclass(frozen=True)
class Observed:
    """What a baseline may use: zeros 1..N (train) and the smooth heights of every node."""

    gammas: np.ndarray  # γ_1..γ_N
    delta: np.ndarray  # δ_1..δ_N
    smooth_heights: np.ndarray  # t₀ for nodes 1..total (index-only information)
    fit_mask: np.ndarray  # train nodes whose δ is a fitting target (train minus validation)

    @property
    def total(self) -> int:
        return len(self.smooth_heights)


def observed_view(data: ZeroData, splits: Splits) -> Observed:
    """Cut the data down to the train zeros, so horizon values cannot leak into a fit."""
    if len(data.gammas) < splits.total:
        raise ZetalabError(
            f"the zeros cover {len(data.gammas)} nodes but the splits need {splits.total}",
            "compute more zeros or lower dataset.N / dataset.horizon",
        )
    fit_mask = np.ones(splits.N, dtype=bool)
    fit_mask[splits.validation - 1] = False
    return Observed(
        gammas=data.gammas[: splits.N].copy(),
        delta=data.delta[: splits.N].copy(),
        smooth_heights=data.smooth_heights[: splits.total].copy(),
        fit_mask=fit_mask,
    )


@dataclass
class BaselineResult:
    """δ̂ for nodes 1..total and what the fit produced (written to fit_info.json)."""

    delta_pred: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- prime waves


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


def wave_terms(num_primes: int, prime_powers: bool) -> tuple[np.ndarray, np.ndarray]:
    """Integers m (primes ≤ X and, optionally, prime powers ≤ X) and explicit-formula weights.

    The weight of m = p^k is Λ(m)/(√m log m) = 1/(k p^{k/2}).
    """
    if num_primes < 1:
        raise ZetalabError(
            f"baselines.prime_sum.num_primes = {num_primes}", "use at least one prime"
        )
    primes = first_primes(num_primes)
    limit = primes[-1]
    terms: list[tuple[int, float]] = []
    for p in primes:
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


def explicit_formula_series(num_primes: int, prime_powers: bool = True) -> WaveSeries:
    """δ ≈ −S(t) ≈ (1/π) Σ w_m sin(t log m): the explicit formula with nothing fitted."""
    m, w = wave_terms(num_primes, prime_powers)
    return WaveSeries(np.log(m), w / np.pi, np.zeros_like(w))


def wave_design(t: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Columns sin(t log m)/√m, cos(t log m)/√m (SPEC §4's prime waves)."""
    phase = np.outer(np.asarray(t, dtype=np.float64), np.log(m))
    amp = 1.0 / np.sqrt(m)
    return np.concatenate([np.sin(phase) * amp, np.cos(phase) * amp], axis=1)


def fit_wave_series(
    heights: np.ndarray, targets: np.ndarray, num_primes: int, prime_powers: bool, ridge: float
) -> WaveSeries:
    """Ridge fit of δ on the prime waves (normal equations accumulated in blocks)."""
    m, _ = wave_terms(num_primes, prime_powers)
    k = 2 * len(m) + 1
    gram = np.zeros((k, k))
    rhs = np.zeros(k)
    for start in range(0, len(heights), BLOCK):
        design = wave_design(heights[start : start + BLOCK], m)
        design = np.concatenate([design, np.ones((len(design), 1))], axis=1)
        gram += design.T @ design
        rhs += design.T @ targets[start : start + BLOCK]
    penalty = ridge * len(heights) * np.ones(k)
    penalty[-1] = 0.0  # the intercept is not shrunk
    coef = np.linalg.solve(gram + np.diag(penalty), rhs)
    amp = 1.0 / np.sqrt(m)
    return WaveSeries(np.log(m), coef[: len(m)] * amp, coef[len(m) : 2 * len(m)] * amp, coef[-1])


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


def predict_waves(
    series: WaveSeries, total: int, smooth_heights: np.ndarray, height: str, iterations: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """δ̂ for nodes 1..total at the smooth or at the predicted height."""
    if height == "smooth":
        return series.value(smooth_heights[:total]), {}
    if height == "predicted":
        return solve_positions(series, np.arange(1, total + 1), iterations)
    raise ZetalabError(
        f"baselines.prime_sum.height = {height!r}", f"use one of: {', '.join(HEIGHTS)}"
    )


# --------------------------------------------------------------------------- autoregression


@dataclass(frozen=True)
class ARModel:
    """δ_n ≈ Σ_j c_j δ_{n−j} + c_0."""

    coef: np.ndarray  # c_1..c_k
    intercept: float

    @property
    def order(self) -> int:
        return len(self.coef)


def lag_matrix(delta: np.ndarray, targets: np.ndarray, order: int) -> np.ndarray:
    """Rows [δ_{n−1}, …, δ_{n−k}] for 0-based target positions (each ≥ order)."""
    return np.stack([delta[targets - j] for j in range(1, order + 1)], axis=1)


def fit_ar(delta: np.ndarray, fit_mask: np.ndarray, order: int, ridge: float) -> ARModel:
    """Ridge AR(k) on the targets allowed by fit_mask (lags may be any observed value)."""
    if order < 1 or len(delta) <= 2 * order:
        raise ZetalabError(
            f"baselines.ar.order = {order} needs more than {2 * order} train zeros "
            f"(have {len(delta)})",
            "lower baselines.ar.order or raise dataset.N",
        )
    targets = np.nonzero(fit_mask)[0]
    targets = targets[targets >= order]
    design = lag_matrix(delta, targets, order)
    design = np.concatenate([design, np.ones((len(targets), 1))], axis=1)
    penalty = ridge * len(targets) * np.ones(order + 1)
    penalty[-1] = 0.0
    coef = np.linalg.solve(design.T @ design + np.diag(penalty), design.T @ delta[targets])
    return ARModel(coef[:-1], float(coef[-1]))


def ar_one_step(model: ARModel, delta: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """One-step-ahead predictions at 0-based positions from the true lagged values."""
    positions = np.asarray(positions)
    return lag_matrix(delta, positions, model.order) @ model.coef + model.intercept


def ar_forecast(model: ARModel, history: np.ndarray, steps: int) -> np.ndarray:
    """Iterated multi-step forecast after the end of `history`, each output fed back as input."""
    buf = list(np.asarray(history[-model.order :], dtype=np.float64))
    out = np.empty(steps)
    for i in range(steps):
        value = float(np.dot(model.coef, buf[::-1][: model.order]) + model.intercept)
        out[i] = value
        buf.append(value)
        buf.pop(0)
    return out


# --------------------------------------------------------------------------- dispatcher


def run_baseline(name: str, observed: Observed, params: Mapping[str, Any]) -> BaselineResult:
    """Fit (if needed) and predict δ̂ for every node 1..total with baseline `name`."""
    total, n_train = observed.total, len(observed.delta)
    if name == "smooth":
        return BaselineResult(np.zeros(total), {})
    if name == "ar":
        cfg = params.get("ar", {})
        order, ridge = int(cfg.get("order", 20)), float(cfg.get("ridge", 1e-6))
        model = fit_ar(observed.delta, observed.fit_mask, order, ridge)
        pred = np.zeros(total)
        pred[order:n_train] = ar_one_step(model, observed.delta, np.arange(order, n_train))
        pred[n_train:] = ar_forecast(model, observed.delta, total - n_train)
        val = np.nonzero(~observed.fit_mask)[0]
        val = val[val >= order]
        one_step = pred[val] - observed.delta[val]
        info = {
            "order": order,
            "ridge": ridge,
            "coef": model.coef.tolist(),
            "intercept": model.intercept,
            "one_step_rmse_delta_validation": float(np.sqrt(np.mean(one_step**2)))
            if len(val)
            else None,
            "train_predictions": "one step ahead from the observed lags (0 for n ≤ order)",
            "horizon_predictions": "iterated from the last observed zeros, never from horizon",
        }
        return BaselineResult(pred, info)
    if name in ("prime_sum", "prime_sum_fit"):
        cfg = params.get("prime_sum", {})
        num_primes = int(cfg.get("num_primes", 100))
        powers = bool(cfg.get("prime_powers", True))
        height = str(cfg.get("height", "predicted"))
        iterations = int(cfg.get("solver_iterations", 60))
        info: dict[str, Any] = {
            "num_primes": num_primes,
            "prime_powers": powers,
            "height": height,
        }
        if name == "prime_sum":
            series = explicit_formula_series(num_primes, powers)
        else:
            ridge = float(cfg.get("fit_ridge", 1e-3))
            # Fit where the waves will be evaluated: at the true heights of train zeros
            # when predicting at the predicted height, at t₀ otherwise.
            mask = observed.fit_mask
            heights = observed.gammas if height == "predicted" else observed.smooth_heights
            series = fit_wave_series(
                heights[:n_train][mask], observed.delta[mask], num_primes, powers, ridge
            )
            info |= {"fit_ridge": ridge, "intercept": series.intercept}
        info["num_waves"] = len(series.freqs)
        pred, solver = predict_waves(series, total, observed.smooth_heights, height, iterations)
        return BaselineResult(pred, info | solver)
    raise ZetalabError(f"unknown baseline {name!r}", f"use one of: {', '.join(BASELINES)}")
