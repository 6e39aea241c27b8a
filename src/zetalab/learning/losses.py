"""The four loss terms of SPEC §5, in torch, none of them with anything N×N.

The priors (NLL, MMD, RG) see x̃ (`blend`): the true δ where a node is observed and the
prediction δ̂ where it is hidden, and only the pairs that involve a prediction
(`prior_pairs`, the `involved` mask of `rg_penalty`). Every spacing or increment they see is
then one the model is responsible for and is trained (by `mse`) to get right; raw outputs at
observed nodes, which no loss constrains, never reach a prior (SPEC §5).

Spacings are in unfolded units, s_n = 1 + x̃_{n+1} − x̃_n, taken only over consecutive
indices present together (a whole train sequence, or contiguous runs inside a cluster).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import gammaincinv

# Below this spacing −log p(s) is continued by its second-order Taylor polynomial at it: a
# smooth (C²), convex penalty whose gradient keeps pushing s ≤ 0 up, where a clamp would have
# none. Under the Wigner surmise P(s < 0.05) ≈ 1.4·10⁻⁴, so real spacings almost never see it.
NLL_SMOOTH_FROM = 0.05
_LOG_WIGNER_CONST = math.log(32.0 / math.pi**2)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of δ̂ on the hidden train nodes (pred and target already selected)."""
    return torch.mean((pred - target) ** 2)


def blend(pred: torch.Tensor, delta: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """x̃: the true δ where observed, the prediction where hidden (rows aligned)."""
    return torch.where(observed, delta.to(pred.dtype), pred)


def prior_pairs(
    pair_start: torch.Tensor, hidden: torch.Tensor, known: torch.Tensor
) -> torch.Tensor:
    """The pairs (i, i+1) of `pair_start` a prior may see: at least one end hidden (a
    prediction the mse term trains) and both ends known (observed or hidden). Pairs of two
    observed nodes are constants; pairs touching a validation node involve an output no loss
    trains. Both are left out."""
    i, j = pair_start, pair_start + 1
    keep = known[i] & known[j] & (hidden[i] | hidden[j])
    return pair_start[keep]


def spacings(delta_pred: torch.Tensor, pair_start: torch.Tensor) -> torch.Tensor:
    """s = 1 + x[i+1] − x[i] for each position i in `pair_start` (i and i+1 consecutive)."""
    return 1.0 + delta_pred[pair_start + 1] - delta_pred[pair_start]


def neg_log_wigner(s: torch.Tensor) -> torch.Tensor:
    """−log p(s) for s ≥ NLL_SMOOTH_FROM, its quadratic Taylor continuation below."""
    s0 = NLL_SMOOTH_FROM
    safe = torch.clamp(s, min=s0)
    exact = -(_LOG_WIGNER_CONST + 2.0 * torch.log(safe) - 4.0 * safe**2 / math.pi)
    f0 = -(_LOG_WIGNER_CONST + 2.0 * math.log(s0) - 4.0 * s0**2 / math.pi)
    f1 = -2.0 / s0 + 8.0 * s0 / math.pi
    f2 = 2.0 / s0**2 + 8.0 / math.pi
    d = s - s0
    return torch.where(s >= s0, exact, f0 + f1 * d + 0.5 * f2 * d * d)


def gue_nll(s: torch.Tensor) -> torch.Tensor:
    """−mean log p(s) under the Wigner surmise p(s) = (32/π²) s² exp(−4s²/π), with a smooth
    penalty (not a clamp) for s below NLL_SMOOTH_FROM, including s ≤ 0."""
    return torch.mean(neg_log_wigner(s))


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


def rg_penalty(
    x_tilde: torch.Tensor,
    lags: list[int],
    log_v_obs: torch.Tensor,
    hidden: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
) -> torch.Tensor:
    """mean_L (log v̂(L) − log v_obs(L))² over the whole train sequence x̃ (global).

    With `hidden` (and `known`), v̂(L) is the variance over the pairs (n, n+L) that
    prior_pairs would keep at lag L: a predicted end, no unknown end. Lags with fewer than two
    such pairs are skipped.
    """
    terms = []
    for k, lag in enumerate(lags):
        diff = x_tilde[lag:] - x_tilde[:-lag]
        if hidden is not None:
            keep = hidden[lag:] | hidden[:-lag]
            if known is not None:
                keep = keep & known[lag:] & known[:-lag]
            diff = diff[keep]
            if diff.numel() < 2:
                continue
        v = torch.var(diff, unbiased=False)
        terms.append((torch.log(torch.clamp(v, min=1e-12)) - log_v_obs[k]) ** 2)
    if not terms:
        return x_tilde.new_zeros(())
    return torch.stack(terms).mean()
