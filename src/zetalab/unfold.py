"""Unfolding of zeros: the smooth counting function N0(t) = θ(t)/π + 1 and its inverse.

x_n = N0(γ_n) puts zeros on a unit mean spacing, so δ_n = x_n − (n − ½) ≈ −S(γ_n) is the
quantity the models learn, and a predicted δ̂_n maps back to a height by inverting N0.
Float64 throughout: adequate for learning targets (the zero engine keeps its own
extended-precision phase reduction for heights where θ(t) loses digits).
"""

from __future__ import annotations

import numpy as np
from scipy.special import lambertw

TWO_PI = 2.0 * np.pi
# The Riemann–Siegel theta function has its minimum here; N0 is increasing beyond it.
THETA_MIN_T = 6.289835988


def theta(t: np.ndarray | float) -> np.ndarray:
    """Riemann–Siegel theta by its asymptotic series (error < 1e-11 for t ≥ 10)."""
    t = np.asarray(t, dtype=np.float64)
    inv = 1.0 / t
    inv2 = inv * inv
    series = inv * (
        1.0 / 48.0 + inv2 * (7.0 / 5760.0 + inv2 * (31.0 / 80640.0 + inv2 * (127.0 / 430080.0)))
    )
    return 0.5 * t * np.log(t / TWO_PI) - 0.5 * t - np.pi / 8.0 + series


def theta_prime(t: np.ndarray | float) -> np.ndarray:
    """dθ/dt = ½ log(t/2π) − 1/(48 t²) − …, used by Newton inversion and for mean spacings."""
    t = np.asarray(t, dtype=np.float64)
    inv2 = 1.0 / (t * t)
    return 0.5 * np.log(t / TWO_PI) - inv2 * (1.0 / 48.0 + inv2 * (7.0 / 1920.0))


def smooth_count(t: np.ndarray | float) -> np.ndarray:
    """N0(t) = θ(t)/π + 1: the smooth part of the zero-counting function."""
    return theta(t) / np.pi + 1.0


def mean_spacing(t: np.ndarray | float) -> np.ndarray:
    """Mean gap between consecutive zeros near height t: 2π / log(t/2π)."""
    return TWO_PI / np.log(np.asarray(t, dtype=np.float64) / TWO_PI)


def inverse_smooth_count(x: np.ndarray | float, iterations: int = 8) -> np.ndarray:
    """Solve N0(t) = x for t > 6.29 by Newton from a Lambert-W start (x > −0.12)."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(~np.isfinite(x)) or np.any(x <= smooth_count(THETA_MIN_T)):
        raise ValueError("inverse_smooth_count needs finite x above N0's minimum (≈ -0.124)")
    # N0(t) ≈ (t/2π) log(t/2πe) + 7/8, so t ≈ 2π (x − 7/8)/W((x − 7/8)/e).
    a = np.maximum(x - 0.875, 1e-3)
    w = np.real(lambertw(a / np.e))
    t = np.maximum(TWO_PI * a / w, THETA_MIN_T + 8.0)
    t = np.where(x < 1.5, 14.0 + 10.0 * x, t)
    for _ in range(iterations):
        step = (smooth_count(t) - x) * np.pi / theta_prime(t)
        t = np.maximum(t - step, 0.5 * (t + THETA_MIN_T))
    return t


def deltas(gammas: np.ndarray, first_index: int = 1) -> np.ndarray:
    """δ_n = N0(γ_n) − (n − ½) for γ given in index order starting at `first_index`."""
    n = np.arange(first_index, first_index + len(gammas), dtype=np.float64)
    return smooth_count(gammas) - (n - 0.5)


def heights_from_deltas(delta: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """γ̂_n = N0⁻¹(n − ½ + δ̂_n): predicted heights from predicted unfolded offsets."""
    return inverse_smooth_count(np.asarray(indices, dtype=np.float64) - 0.5 + delta)
