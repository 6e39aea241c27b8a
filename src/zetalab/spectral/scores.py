"""Agreement between a predicted and a true spectrum, batched over rows (seed cell 10)."""

from __future__ import annotations

import torch


def spectrum_scores(pred: torch.Tensor, true: torch.Tensor) -> dict[str, torch.Tensor]:
    """MSE, MAE, R^2 and spectral angle (radians) per row of (N, W) tensors.

    R^2 is 1 - SS_res / SS_tot over the wavelengths of one spectrum; the spectral angle
    arccos(<p, t> / |p| |t|) ignores overall scale and scores the shape alone.
    """
    pred, true = pred.double(), true.double()
    err = pred - true
    ss_res = (err**2).sum(dim=-1)
    ss_tot = ((true - true.mean(dim=-1, keepdim=True)) ** 2).sum(dim=-1)
    cosine = (pred * true).sum(dim=-1) / (pred.norm(dim=-1) * true.norm(dim=-1))
    return {
        "mse": (err**2).mean(dim=-1),
        "mae": err.abs().mean(dim=-1),
        "r2": 1.0 - ss_res / ss_tot,
        "spectral_angle": torch.arccos(cosine.clamp(-1.0, 1.0)),
    }


def linear_interpolation(c_lo, c, c_hi, a_lo: torch.Tensor, a_hi: torch.Tensor) -> torch.Tensor:
    """The baseline: the straight line in c between the neighbouring spectra."""
    w = (c - c_lo) / (c_hi - c_lo)
    return a_lo + w * (a_hi - a_lo)
