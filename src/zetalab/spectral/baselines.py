"""The interpolators a spectroscopist would try first, per wavelength, in concentration.

Each baseline sees exactly the spectra the held-out model was trained on (never the held-out
one) and predicts the spectrum at any concentration, all wavelengths at once:

- ``linear``: the straight line between the neighbouring training concentrations (beyond the
  range, the line through the two nearest ones);
- ``cubic_spline``: scipy's not-a-knot cubic spline (reproduces any cubic exactly);
- ``pchip``: the shape-preserving piecewise cubic Hermite interpolant (no overshoot);
- ``akima``: Akima's piecewise cubic (robust to outliers in the slopes);
- ``gp``: Gaussian-process regression in c around the mean spectrum, one kernel shared by every
  wavelength (constant x RBF + white noise), hyperparameters by maximum marginal likelihood on
  the training spectra alone (scikit-learn). A shared kernel is what a specialist would choose
  with five points per wavelength: per-wavelength hyperparameters would be unidentifiable.
  Variants tried on the regimes' training spectra (a linear mean, an added linear kernel, which
  the marginal likelihood prefers, or per-wavelength scaling) all interpolated worse; the RBF
  kernel has no linear term, so the GP reproduces a straight line closely (~1e-5 relative inside
  the range), not exactly.

Beyond the training range every method extrapolates with its own end piece (the GP reverts to
the mean spectrum), so extrapolation is scored for all of them, never reported as NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.interpolate import Akima1DInterpolator, CubicSpline, PchipInterpolator

from zetalab.errors import ZetalabError

BASELINES = ("linear", "cubic_spline", "pchip", "akima", "gp")


def _check(c: np.ndarray, a: np.ndarray) -> None:
    if c.ndim != 1 or c.shape[0] < 2 or a.shape[0] != c.shape[0]:
        raise ZetalabError(
            f"a baseline needs at least two training spectra, got {c.shape[0]}",
            "give spectral.data.concentrations more values",
        )
    if not np.all(np.diff(c) > 0):
        raise ZetalabError(
            f"training concentrations must be strictly increasing, got {c.tolist()}",
            "sort the concentrations and remove duplicates",
        )


def linear(c: np.ndarray, a: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Piecewise linear in c; beyond the ends, the end segment's line."""
    seg = np.clip(np.searchsorted(c, query, side="right") - 1, 0, c.shape[0] - 2)
    w = (query - c[seg]) / (c[seg + 1] - c[seg])
    return a[seg] + w[:, None] * (a[seg + 1] - a[seg])


def cubic_spline(c: np.ndarray, a: np.ndarray, query: np.ndarray) -> np.ndarray:
    if c.shape[0] < 3:
        return linear(c, a, query)
    return CubicSpline(c, a, axis=0, bc_type="not-a-knot", extrapolate=True)(query)


def pchip(c: np.ndarray, a: np.ndarray, query: np.ndarray) -> np.ndarray:
    return PchipInterpolator(c, a, axis=0, extrapolate=True)(query)


def akima(c: np.ndarray, a: np.ndarray, query: np.ndarray) -> np.ndarray:
    if c.shape[0] < 3:
        return linear(c, a, query)
    return Akima1DInterpolator(c, a, axis=0, extrapolate=True)(query)


def gaussian_process(c: np.ndarray, a: np.ndarray, query: np.ndarray, seed: int = 0):
    """GP in c around the mean spectrum, one kernel for every wavelength (scikit-learn).

    Kernel constant x RBF + white noise on c centred and scaled by the training span, targets
    scaled by one overall RMS (so quiet wavelengths do not vote for "all noise"); the white
    noise is capped at 5 % of that RMS. Hyperparameters: maximum marginal likelihood with three
    seeded restarts, on the training spectra only.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    mean = a.mean(axis=0)
    residual = a - mean
    scale = float(np.sqrt(np.mean(residual**2)))
    if scale == 0.0:  # the same spectrum at every concentration
        return np.broadcast_to(mean, (query.shape[0], a.shape[1])).copy()
    centre, span = float(c.mean()), float(c[-1] - c[0])
    kernel = ConstantKernel(1.0, (1e-3, 1e2)) * RBF(0.5, (0.05, 10.0)) + WhiteKernel(
        1e-3, (1e-8, 0.05)
    )
    gp = GaussianProcessRegressor(kernel, n_restarts_optimizer=3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(((c - centre) / span)[:, None], residual / scale)
    return mean + scale * gp.predict(((query - centre) / span)[:, None])


METHODS = {
    "linear": linear,
    "cubic_spline": cubic_spline,
    "pchip": pchip,
    "akima": akima,
    "gp": gaussian_process,
}


def predict(method: str, c: np.ndarray, a: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Spectra (Q, W) at the concentrations `query` (Q,) from training spectra a (N, W) at c."""
    if method not in METHODS:
        raise ZetalabError(f"unknown baseline {method!r}", f"use one of {', '.join(BASELINES)}")
    c = np.asarray(c, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    query = np.atleast_1d(np.asarray(query, dtype=np.float64))
    _check(c, a)
    return np.asarray(METHODS[method](c, a, query), dtype=np.float64)
