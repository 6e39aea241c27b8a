"""Scoring of one predictions file: errors per split, skill, GUE statistics, v(L) curves.

Models and baselines go through `evaluate_predictions` alike (errors via
`zetalab.evaluation.scoring.prediction_errors`), so every row of the leaderboard is comparable.

- skill = 1 − MSE_model / MSE_smooth on the same split (smooth: δ̂ = 0). Positive only when
  the predictor places zeros closer than their smooth positions do.
- KS distance of predicted spacings s_n = 1 + δ̂_{n+1} − δ̂_n (consecutive indices inside a
  window) to the GUE Wigner surmise, beside the same distance for the true zeros: a predictor
  can have small errors and still produce spacings that look nothing like GUE (δ̂ = 0 gives
  s ≡ 1), and the other way round.
- v(L) = variance over n of x_{n+L} − x_n − L = δ_{n+L} − δ_n for L = 1, 2, 4, …, the
  quantity rg_penalty matches; real zeros saturate where pure GUE keeps growing like log L.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from zetalab.evaluation.scoring import prediction_errors
from zetalab.learning.dataset import Splits, ZeroData

ERROR_SPLITS = ("train", "validation", "extrapolation", "holdout")
# Windows of consecutive zeros where spacings (and so KS) make sense; "horizon" is
# extrapolation followed by holdout.
SPACING_WINDOWS = ("train", "extrapolation", "holdout", "horizon")


def wigner_pdf(s: np.ndarray) -> np.ndarray:
    """GUE Wigner surmise p(s) = (32/π²) s² exp(−4s²/π)."""
    s = np.asarray(s, dtype=np.float64)
    return (32.0 / np.pi**2) * s**2 * np.exp(-4.0 * s**2 / np.pi)


def wigner_cdf(s: np.ndarray) -> np.ndarray:
    """∫₀ˢ p = erf(2s/√π) − (4s/π) exp(−4s²/π), 0 for s ≤ 0."""
    s = np.maximum(np.asarray(s, dtype=np.float64), 0.0)
    return special.erf(2.0 * s / np.sqrt(np.pi)) - (4.0 * s / np.pi) * np.exp(-4.0 * s**2 / np.pi)


def ks_to_gue(spacings: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance of the empirical spacing law to the Wigner surmise."""
    spacings = np.asarray(spacings, dtype=np.float64)
    if len(spacings) < 2 or not np.all(np.isfinite(spacings)):
        return float("nan")
    return float(stats.kstest(spacings, wigner_cdf).statistic)


def window_spacings(delta: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """s_n = 1 + δ_{n+1} − δ_n for consecutive pairs of 1-based `indices` (δ over 1..total)."""
    indices = np.asarray(indices)
    consecutive = np.nonzero(np.diff(indices) == 1)[0]
    d = np.asarray(delta)[indices - 1]
    return 1.0 + d[consecutive + 1] - d[consecutive]


def lags_for(length: int, max_fraction: float = 0.25) -> np.ndarray:
    """L = 1, 2, 4, … up to max_fraction of the window, so each v(L) averages many pairs."""
    top = max(1, int(length * max_fraction))
    return 2 ** np.arange(int(np.log2(top)) + 1)


def variance_curve(delta_window: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """v(L) = Var_n(δ_{n+L} − δ_n) over a contiguous window of δ."""
    delta_window = np.asarray(delta_window, dtype=np.float64)
    out = np.full(len(lags), np.nan)
    for i, lag in enumerate(lags):
        if lag < len(delta_window):
            out[i] = float(np.var(delta_window[lag:] - delta_window[:-lag]))
    return out


def split_indices(splits: Splits, name: str) -> np.ndarray:
    if name == "horizon":
        return np.concatenate([splits.extrapolation, splits.holdout])
    return splits.indices(name)


def skill(mse_model: float, mse_smooth: float) -> float:
    """1 − MSE_model / MSE_smooth (NaN when undefined)."""
    if not np.isfinite(mse_model) or not np.isfinite(mse_smooth) or mse_smooth <= 0:
        return float("nan")
    return float(1.0 - mse_model / mse_smooth)


def evaluate_predictions(delta_pred: np.ndarray, data: ZeroData, splits: Splits) -> dict[str, Any]:
    """Everything the leaderboard, the verdict and the plots read about one predictor."""
    delta_pred = np.asarray(delta_pred, dtype=np.float64)
    total = splits.total
    out: dict[str, Any] = {"N": splits.N, "horizon": splits.horizon, "total": total}
    errors: dict[str, dict[str, float]] = {}
    for name in ERROR_SPLITS:
        idx = splits.indices(name)
        sl = idx - 1
        n = data.absolute(idx)  # true zero indices (dataset.start)
        model = prediction_errors(delta_pred[sl], data.gammas[sl], n, data.spacing[sl])
        smooth = prediction_errors(np.zeros(len(idx)), data.gammas[sl], n, data.spacing[sl])
        errors[name] = {
            **model,
            "n": len(idx),
            "skill": skill(model["mse_height"], smooth["mse_height"]),
            "skill_spacing": skill(model["mse_spacing"], smooth["mse_spacing"]),
            "smooth_mse_height": smooth["mse_height"],
        }
    out["errors"] = errors
    spacing_stats = {}
    for name in SPACING_WINDOWS:
        idx = split_indices(splits, name)
        pred_s = window_spacings(delta_pred[:total], idx)
        true_s = window_spacings(data.delta[:total], idx)
        spacing_stats[name] = {
            "n_spacings": len(pred_s),
            "ks_gue": ks_to_gue(pred_s),
            "ks_gue_true": ks_to_gue(true_s),
            "min_spacing": float(np.min(pred_s)) if len(pred_s) else float("nan"),
        }
    out["spacings"] = spacing_stats
    curves = {}
    for name in ("train", "horizon"):
        idx = split_indices(splits, name)
        lags = lags_for(len(idx))
        curves[name] = {
            "L": lags.tolist(),
            "true": variance_curve(data.delta[idx - 1], lags).tolist(),
            "pred": variance_curve(delta_pred[idx - 1], lags).tolist(),
        }
    out["variance_curves"] = curves
    return out
