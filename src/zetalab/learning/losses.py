"""The four loss terms of SPEC §5, in torch, none of them with anything N×N.

Spacings are in unfolded units, s_n = 1 + δ̂_{n+1} − δ̂_n, taken only over consecutive
indices present together (a whole train sequence, or contiguous runs inside a cluster).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import gammaincinv

NLL_CLAMP = 1e-6
_LOG_WIGNER_CONST = math.log(32.0 / math.pi**2)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of δ̂ on the hidden train nodes (pred and target already selected)."""
    return torch.mean((pred - target) ** 2)


def spacings(delta_pred: torch.Tensor, pair_start: torch.Tensor) -> torch.Tensor:
    """s = 1 + δ̂[i+1] − δ̂[i] for each position i in `pair_start` (i and i+1 consecutive)."""
    return 1.0 + delta_pred[pair_start + 1] - delta_pred[pair_start]


def gue_nll(s: torch.Tensor) -> torch.Tensor:
    """−mean log p(s) under the Wigner surmise p(s) = (32/π²) s² exp(−4s²/π), s ≥ 1e-6."""
    s = torch.clamp(s, min=NLL_CLAMP)
    log_p = _LOG_WIGNER_CONST + 2.0 * torch.log(s) - 4.0 * s**2 / math.pi
    return -torch.mean(log_p)


def wigner_sample(size: int, seed: int) -> np.ndarray:
    """Seeded sample of the GUE spacing law (Wigner surmise, β = 2) by its inverse CDF.

    With x = 4s²/π the density (32/π²) s² exp(−4s²/π) becomes that of Gamma(3/2), so
    F(s) = P(3/2, 4s²/π) (regularised lower incomplete gamma) and the exact inverse is
    s = sqrt((π/4) · P⁻¹(3/2, u)) for u uniform on (0, 1).
    """
    u = np.random.default_rng(seed).random(size)
    return np.sqrt((math.pi / 4.0) * gammaincinv(1.5, u))


def kernel_mean(x: torch.Tensor, y: torch.Tensor, bandwidths: list[float]) -> torch.Tensor:
    """mean over pairs of Σ_h exp(−(x−y)²/(2h²)): an n×m block, n and m bounded."""
    d2 = (x[:, None] - y[None, :]) ** 2
    return sum(torch.exp(-d2 / (2.0 * h * h)).mean() for h in bandwidths)


def gue_mmd(
    s: torch.Tensor,
    reference: torch.Tensor,
    bandwidths: list[float],
    max_samples: int,
    generator: torch.Generator | None = None,
    reference_term: torch.Tensor | None = None,
) -> torch.Tensor:
    """Squared MMD (biased V-statistic, exactly 0 for identical samples) to a GUE sample.

    Predicted spacings beyond `max_samples` are subsampled without replacement, so the cost
    is O(max_samples · (max_samples + m)) whatever N is. `reference_term` is the constant
    kernel_mean(reference, reference), which a training loop computes once.
    """
    if s.numel() > max_samples:
        pick = torch.randperm(s.numel(), generator=generator, device="cpu")[:max_samples]
        s = s[pick.to(s.device)]
    ref = reference.to(s.dtype)
    if reference_term is None:
        reference_term = kernel_mean(ref, ref, bandwidths)
    return kernel_mean(s, s, bandwidths) + reference_term - 2.0 * kernel_mean(s, ref, bandwidths)


def rg_lags(max_lag: int, length: int) -> list[int]:
    """L = 1, 2, 4, … up to max_lag, keeping only lags shorter than the sequence."""
    lags, lag = [], 1
    while lag <= max_lag and lag < length - 1:
        lags.append(lag)
        lag *= 2
    return lags


def number_variance(
    delta: np.ndarray, lags: list[int], valid: np.ndarray | None = None
) -> np.ndarray:
    """v(L) = variance over n of x_{n+L} − x_n − L = δ_{n+L} − δ_n (pairs with both ends valid)."""
    delta = np.asarray(delta, dtype=np.float64)
    out = []
    for lag in lags:
        diff = delta[lag:] - delta[:-lag]
        if valid is not None:
            diff = diff[valid[lag:] & valid[:-lag]]
        out.append(np.var(diff))
    return np.asarray(out)


def rg_penalty(delta_pred: torch.Tensor, lags: list[int], log_v_obs: torch.Tensor) -> torch.Tensor:
    """mean_L (log v̂(L) − log v_obs(L))² over the whole predicted train sequence (global)."""
    terms = []
    for k, lag in enumerate(lags):
        diff = delta_pred[lag:] - delta_pred[:-lag]
        v = torch.var(diff, unbiased=False)
        terms.append((torch.log(torch.clamp(v, min=1e-12)) - log_v_obs[k]) ** 2)
    return torch.stack(terms).mean()
