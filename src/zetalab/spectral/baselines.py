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

- ``low_rank``: the chemometrician's baseline. Spectra of a mixture are a few component
  spectra weighted by concentration-dependent amounts, so the training spectra are low-rank:
  an uncentred SVD A = U S V^T gives the rank-r basis V_r (r component spectra), each training
  spectrum's scores A V_r are interpolated in c with the not-a-knot cubic spline (linear with
  two spectra), and the prediction is scores(c) V_r^T. Uncentred, so that a Beer-Lambert series
  is exactly rank 1 with scores linear in c (reproduced exactly, inside and beyond the range).
  The rank is chosen by an inner leave-one-out on the training spectra alone: each candidate
  r = 1 .. n - 2 (n - 2 is the most the inner fits on n - 1 spectra allow) predicts every inner
  training spectrum from the others when the query lies inside the training range, or each end
  spectrum from the others when it lies beyond (extrapolation is judged on extrapolations); the
  lowest mean MSE wins, the lower rank on a tie (within rounding);
  ``spectral.validation.low_rank_rank`` fixes it instead.
  Beyond the range the spline's end cubic extrapolates the scores, as it does the spectra.

Beyond the training range every method extrapolates with its own end piece (the GP reverts to
the mean spectrum), so extrapolation is scored for all of them, never reported as NaN.

``select_strongest`` picks "the strongest baseline" for one left-out concentration without
looking at it: an inner leave-one-out of every method on the training spectra only (the inner
ones for an interpolation, the ends for an extrapolation), the lowest mean MSE wins.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.interpolate import Akima1DInterpolator, CubicSpline, PchipInterpolator

from zetalab.errors import ZetalabError

BASELINES = ("linear", "cubic_spline", "pchip", "akima", "gp", "low_rank")


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


def low_rank_fit(c: np.ndarray, a: np.ndarray, query: np.ndarray, rank: int) -> np.ndarray:
    """Rank-`rank` uncentred SVD of a (N, W), its scores splined in c, evaluated at `query`."""
    rank = min(rank, a.shape[0])
    _, _, vt = np.linalg.svd(a, full_matrices=False)
    basis = vt[:rank]  # (r, W): the component spectra
    return cubic_spline(c, a @ basis.T, query) @ basis


def _loo_mse(fit, c: np.ndarray, a: np.ndarray, left_out: list[int]) -> float:
    """Mean MSE of `fit(c, a, query)` predicting each spectrum in `left_out` from the others."""
    errors = []
    for i in left_out:
        keep = np.arange(c.shape[0]) != i
        pred = fit(c[keep], a[keep], c[i : i + 1])[0]
        errors.append(float(np.mean((pred - a[i]) ** 2)))
    return float(np.mean(errors))


def inner_left_out(n: int, inside: bool) -> list[int]:
    """The training spectra an inner leave-one-out predicts: inner ones, or the two ends."""
    return list(range(1, n - 1)) if inside else [0, n - 1]


def low_rank_rank(c: np.ndarray, a: np.ndarray, inside: bool) -> tuple[int, dict[int, float]]:
    """The rank by inner leave-one-out on the training spectra, and every candidate's MSE."""
    n = c.shape[0]
    if n < 3:  # nothing to leave out: full rank (the spline of the spectra themselves)
        return n, {}
    scores = {
        r: _loo_mse(
            lambda cc, aa, q, r=r: low_rank_fit(cc, aa, q, r), c, a, inner_left_out(n, inside)
        )
        for r in range(1, n - 1)
    }
    # The lowest rank within rounding of the best: an exact rank-2 series must not pick rank 3
    # on a 1e-31 difference.
    best = min(scores.values())
    tie = best * (1.0 + 1e-6) + 1e-12 * float(np.mean(a**2))
    return min(r for r in scores if scores[r] <= tie), scores


def low_rank(c: np.ndarray, a: np.ndarray, query: np.ndarray, rank: int | None = None):
    """The low-rank baseline at every query, the rank fixed or chosen per query's kind."""
    out = np.empty((query.shape[0], a.shape[1]))
    inside = (c[0] <= query) & (query <= c[-1])
    for kind in (True, False):  # one rank per kind of query, chosen once
        rows = inside == kind
        if rows.any():
            r = rank if rank is not None else low_rank_rank(c, a, kind)[0]
            out[rows] = low_rank_fit(c, a, query[rows], r)
    return out


METHODS = {
    "linear": linear,
    "cubic_spline": cubic_spline,
    "pchip": pchip,
    "akima": akima,
    "gp": gaussian_process,
    "low_rank": low_rank,
}


def predict(
    method: str,
    c: np.ndarray,
    a: np.ndarray,
    query: np.ndarray,
    low_rank_rank: int | None = None,
) -> np.ndarray:
    """Spectra (Q, W) at the concentrations `query` (Q,) from training spectra a (N, W) at c.

    `low_rank_rank` fixes the rank of ``low_rank`` (None: inner leave-one-out).
    """
    if method not in METHODS:
        raise ZetalabError(f"unknown baseline {method!r}", f"use one of {', '.join(BASELINES)}")
    c = np.asarray(c, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    query = np.atleast_1d(np.asarray(query, dtype=np.float64))
    _check(c, a)
    if method == "low_rank":
        if low_rank_rank is not None and low_rank_rank > c.shape[0]:
            raise ZetalabError(
                f"spectral.validation.low_rank_rank = {low_rank_rank} exceeds the "
                f"{c.shape[0]} training spectra (an SVD of them has at most that rank)",
                "lower spectral.validation.low_rank_rank, or set it to null",
            )
        return low_rank(c, a, query, low_rank_rank)
    return np.asarray(METHODS[method](c, a, query), dtype=np.float64)


def select_strongest(
    c: np.ndarray, a: np.ndarray, inside: bool, low_rank_rank: int | None = None
) -> tuple[str, dict[str, float]]:
    """The baseline with the lowest inner leave-one-out MSE on the training spectra (c, a).

    `inside`: judge interpolations (leave each inner training spectrum out) or extrapolations
    (leave each end out). The held-out spectrum is not an argument, so it cannot tilt the choice.
    Returns the winner and every method's inner MSE.
    """
    c = np.asarray(c, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    if c.shape[0] < 3:
        return "linear", {}
    rank = None if low_rank_rank is None else min(low_rank_rank, c.shape[0] - 1)
    left_out = inner_left_out(c.shape[0], inside)
    scores = {
        m: _loo_mse(lambda cc, aa, q, m=m: predict(m, cc, aa, q, rank), c, a, left_out)
        for m in BASELINES
    }
    return min(BASELINES, key=lambda m: scores[m]), scores
