"""Prediction errors in both units the tables use: heights and mean spacings.

One function for models and baselines alike, so every row of every table is scored the same
way. Heights come from inverting N0 at the predicted unfolded position (SPEC §4).
"""

from __future__ import annotations

import numpy as np

from zetalab.unfold import heights_from_deltas


def prediction_errors(
    delta_pred: np.ndarray, gammas_true: np.ndarray, indices: np.ndarray, spacing: np.ndarray
) -> dict[str, float]:
    """MSE/MAE in height units and MSE/RMSE in mean spacings of predicted zeros."""
    delta_pred = np.asarray(delta_pred, dtype=np.float64)
    if not np.all(np.isfinite(delta_pred)):
        nan = float("nan")
        return {"mse_height": nan, "mae_height": nan, "mse_spacing": nan, "rmse_spacing": nan}
    err_height = heights_from_deltas(delta_pred, indices) - np.asarray(gammas_true)
    err_spacing = err_height / np.asarray(spacing)
    return {
        "mse_height": float(np.mean(err_height**2)),
        "mae_height": float(np.mean(np.abs(err_height))),
        "mse_spacing": float(np.mean(err_spacing**2)),
        "rmse_spacing": float(np.sqrt(np.mean(err_spacing**2))),
    }
