"""Physics-form least-squares fits: a reference that knows each regime's true model form.

Not a competitor. Each fit is told the functional form the synthetic spectra were generated
with (``data.regime_absorbance``) and fits its unknowns to the training spectra alone by least
squares: per-wavelength absorptivities (linear, solved exactly) and a few global constants
(nonlinear, a bounded 1-D search or ``scipy.optimize.least_squares``). What it scores is an
upper bound on what any method could do from five spectra once the physics is known; the
tables label it as such and it is never chosen as "the strongest baseline".

- ``beer_lambert``: A = c eps(lambda); eps per wavelength.
- ``monomer_dimer``: A = eps_M [M](c; K) + eps_D [D](c; K); eps_M, eps_D per wavelength, K
  by a bounded search on log K.
- ``band_shift``: a Gaussian band with centre a + b c / (c + d), width w (1 + e c) and area
  proportional to c, plus c eps_f(lambda); the six band constants by least squares, started
  from the generator's constants (a reference may know plausible magnitudes), eps_f per
  wavelength.
- ``saturation``: A = -log10((10^(-c eps) + s) / (1 + s)); eps per wavelength by vectorised
  Gauss-Newton, the stray-light fraction s by a bounded search on log s.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, minimize_scalar

from zetalab.spectral.data import DIMERISATION_K, SHIFT_HALF, SHIFT_TOTAL

REFERENCE = "physics_fit"
REFERENCE_LABEL = "physics-form fit † (knows the true model form: a reference, not a competitor)"
REGIMES = ("beer_lambert", "monomer_dimer", "band_shift", "saturation")


def _per_wavelength_scale(basis: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Least-squares eps (W,) of a ~ basis[:, None] * eps, basis (N,)."""
    return basis @ a / float(basis @ basis)


def _beer_lambert(c, a, x, query):
    return np.outer(query, _per_wavelength_scale(c, a))


def _monomer_dimer_terms(c: np.ndarray, k: float) -> np.ndarray:
    m = (np.sqrt(1.0 + 8.0 * k * c) - 1.0) / (4.0 * k)
    return np.stack([m, k * m * m], axis=1)  # (N, 2): [M], [D]


def _monomer_dimer(c, a, x, query):
    def fit(log_k: float) -> tuple[float, np.ndarray]:
        design = _monomer_dimer_terms(c, float(np.exp(log_k)))
        eps, *_ = np.linalg.lstsq(design, a, rcond=None)
        return float(np.sum((design @ eps - a) ** 2)), eps

    best = minimize_scalar(
        lambda t: fit(t)[0],
        bounds=(np.log(DIMERISATION_K) - 4.0, np.log(DIMERISATION_K) + 4.0),
        method="bounded",
    )
    eps = fit(best.x)[1]
    return _monomer_dimer_terms(query, float(np.exp(best.x))) @ eps


def _band(c: np.ndarray, x: np.ndarray, p: np.ndarray) -> np.ndarray:
    a0, b, d, w0, e, h = p
    cc = c[:, None]
    centre = a0 + b * cc / (cc + d)
    width = w0 * (1.0 + e * cc)
    return h * cc * w0 / width * np.exp(-0.5 * ((x[None, :] - centre) / width) ** 2)


def _band_shift(c, a, x, query):
    def residual(p: np.ndarray) -> np.ndarray:
        rest = a - _band(c, x, p)
        return (rest - np.outer(c, _per_wavelength_scale(c, rest))).ravel()

    start = np.array([0.3, SHIFT_TOTAL, SHIFT_HALF, 0.035, 0.8, 1.2])
    lower = np.array([0.0, 0.0, 0.01, 0.005, 0.0, 0.0])
    upper = np.array([1.0, 1.0, 5.0, 0.2, 5.0, 10.0])
    p = least_squares(residual, start, bounds=(lower, upper)).x
    eps_f = _per_wavelength_scale(c, a - _band(c, x, p))
    return _band(query, x, p) + np.outer(query, eps_f)


def _saturation_eps(c: np.ndarray, a: np.ndarray, s: float) -> np.ndarray:
    """eps (W,) minimising sum_i (A_i - f(c_i eps))^2 per wavelength, Gauss-Newton."""
    eps = np.maximum(_per_wavelength_scale(c, a), 1e-6)
    for _ in range(30):
        t = np.power(10.0, -np.outer(c, eps))  # (N, W)
        f = -np.log10((t + s) / (1.0 + s))
        jac = c[:, None] * t / (t + s)  # d f / d eps
        step = np.sum(jac * (a - f), axis=0) / np.maximum(np.sum(jac * jac, axis=0), 1e-30)
        eps = np.maximum(eps + step, 0.0)
    return eps


def _saturation_forward(c: np.ndarray, eps: np.ndarray, s: float) -> np.ndarray:
    return -np.log10((np.power(10.0, -np.outer(c, eps)) + s) / (1.0 + s))


def _saturation(c, a, x, query):
    def loss(log_s: float) -> float:
        s = float(np.exp(log_s))
        return float(np.sum((_saturation_forward(c, _saturation_eps(c, a, s), s) - a) ** 2))

    best = minimize_scalar(loss, bounds=(np.log(1e-4), np.log(0.2)), method="bounded")
    s = float(np.exp(best.x))
    return _saturation_forward(query, _saturation_eps(c, a, s), s)


FITS = {
    "beer_lambert": _beer_lambert,
    "monomer_dimer": _monomer_dimer,
    "band_shift": _band_shift,
    "saturation": _saturation,
}


def physics_fit(
    regime: str, c: np.ndarray, a: np.ndarray, wavelengths: np.ndarray, query: np.ndarray
) -> np.ndarray:
    """Spectra (Q, W) at `query` from the regime's true model form fitted to (c, a) alone."""
    w = np.asarray(wavelengths, dtype=np.float64)
    x = (w - w[0]) / (w[-1] - w[0])
    c = np.asarray(c, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    query = np.atleast_1d(np.asarray(query, dtype=np.float64))
    return FITS[regime](c, a, x, query)
