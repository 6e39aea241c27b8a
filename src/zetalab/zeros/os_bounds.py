"""A rigorous bound on |Z_OS(t) − Z(t)| for the Odlyzko–Schönhage evaluator, term by term.

Why: the count of zeros rests on the signs of Z at the samples, and a sign counts only where
|Z_computed| exceeds a proved bound on the error. Every step of `odlyzko_schonhage` is bounded
here by a stated theorem (the mathematics) or by the standard model of floating-point
arithmetic (|fl(x op y) − x op y| ≤ u·|x op y|, u = 2⁻⁵³; elementary functions within `ELEM`);
docs/zeros.md, "Odlyzko–Schönhage: the rigorous bound", gives the derivations. Notation:
S = 2√m ≥ Σ_{n≤m} n^(−½) bounds |G| and every |grid value|; J grid points h_j = h_c + jδ,
j = −J/2..J/2−1 (J a power of 2); fine grid N = 2J; Gaussian τ; interpolation kernel
sinc(βx)·exp(−σ²x²/2) on the K nearest grid points each side.

Mathematics (exact arithmetic):
- gridding, aliasing: F_j = Σ_l e^{τ(j² − (j+lN)²)} Σ_n s_n e^{−i(j+lN)y_n} (Fourier series of
  the periodic Gaussian, sampled on N points); l ≠ 0 is the error, ≤ S·2Σ_{l≥1} e^{−τlN(lN−J)}.
- gridding, truncation: each term is spread onto its 2·MSP nearest fine-grid points only; the
  omitted lattice points lie ≥ (MSP + i)·2π/N away (i ≥ 0, each side), so each grid value loses
  ≤ (D/N)·S·2Σ_{i≥0} e^{−((MSP+i)·2π/N)²/4τ}, D = √(π/τ)·e^{τ(J/2)²} the largest deconvolution
  factor.
- interpolation, aliasing (Poisson summation for each e^{iλu}, |λ| ≤ λ_max ≤ ω ≈ β/2):
  |Σ_k e^{iλkδ} g(u − kδ) − e^{iλu}| ≤ |1 − ĝ(λ)/δ| + Σ_{l≠0} ĝ(λ − 2πl/δ)/δ with
  ĝ(ζ)/δ = κ·½[erf((β−ζ)/√2σ) + erf((β+ζ)/√2σ)], κ = π/(βδ) = 1 ± 3u.
- interpolation, truncation: the dropped grid points are ≥ (K + i)δ away, |g| ≤ e^{−σ²x²/2}/(β|x|).
- Lebesgue constant Λ = Σ_k |g(u − kδ)| ≤ 2 + (2/π)·κ·Σ_{j=1}^{K} e^{−σ²δ²j²/2}/j: the factor by
  which grid-value errors can grow in the interpolation.
- Riemann–Siegel truncation: Gabcke (`rs_bounds.remainder_bound`).

Rounding (each a worst case; the measured errors are 10³–10⁶ times smaller):
- term phases s_n = n^(−½)·e^{i(φ_n − h_c·log n)} (error-free reduction mod 2π): ε_s per term;
- positions: the Gaussian centres y_n differ from δ·log n by ≤ 4u·x_max, a phase error of
  |j|·4u·x_max in mode j;
- spreading: each weight within ε_w (a few hundred u; exp calls and a 2·MSP-step recurrence),
  each fine-grid cell a sum of at most k_max terms (counted): γ_(k_max + threads);
- FFT: our radix-2 Cooley–Tukey, Higham (Accuracy and Stability of Numerical Algorithms, 2nd
  ed., Thm 24.2): ‖ŷ − y‖₂ ≤ (tη/(1 − tη))·√N·‖x‖₂, t = log₂N, η = μ + γ₄(√2 + μ), μ the
  twiddles' error; ‖x‖₂ is that of the computed fine grid;
- deconvolution (÷N exact, one exp and three products): 17u relative;
- interpolation weights (ε_gauss relative, ε_sinc absolute), their sum (γ_(2K+1)), the
  rotation e^{−iωr} (21u), the evaluation point h_c + jδ + r against h (2u·|h − h_c| + 2uδ,
  times |G′| ≤ S·log m), the direct terms m_lo < n ≤ m(t), e^{iΔθ} (as in the plain kernel),
  the remainder (`rs_bounds.remainder_rounding`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zetalab.zeros.rs_bounds import (
    ELEM,
    EPS,
    U,
    gamma,
    near_square,
    remainder_bound,
    remainder_rounding,
)

# Where the totals of `OSBound.terms` come from (docs/zeros.md lists the same names)
TERM_NAMES = (
    "riemann_siegel_truncation",
    "remainder_rounding",
    "term_phases",
    "gridding_positions",
    "gridding_aliasing",
    "gridding_truncation",
    "spreading_rounding",
    "fft_rounding",
    "deconvolution_rounding",
    "interpolation_aliasing",
    "interpolation_truncation",
    "interpolation_rounding",
    "evaluation_point",
    "direct_terms",
    "theta_and_sum",
)
SAFETY = 1.001  # on closed forms evaluated in float64 (erfc, exp: relative errors ~1e-15)
POSITION_SLACK = 0.01  # r = h − h_c − jδ may leave [0, δ) by a rounding: distances ≥ (i − this)δ


def gridding_aliasing(tau: float, n_fine: int, modes: int) -> float:
    """Σ_{l≠0} max_j e^{τ(j² − (j+lN)²)} for |j| ≤ J/2: the aliased modes, per unit of S."""
    total = 0.0
    for ell in range(1, 8):
        total += 2.0 * math.exp(-tau * ell * n_fine * (ell * n_fine - modes))
    return SAFETY * total


def deconvolution_factor(tau: float, modes: int) -> float:
    """D = √(π/τ)·e^{τ(J/2)²}: the largest factor a fine-grid error is multiplied by."""
    return math.sqrt(math.pi / tau) * math.exp(tau * (modes / 2) ** 2)


def gridding_truncation(tau: float, n_fine: int, modes: int, msp: int) -> float:
    """(D/N)·2Σ_{i≥0} e^{−((MSP+i)·2π/N)²/4τ}: the spreading's omitted Gaussian mass, per S."""
    step = 2.0 * math.pi / n_fine
    tail = sum(math.exp(-(((msp + i) * step) ** 2) / (4.0 * tau)) for i in range(64))
    return SAFETY * deconvolution_factor(tau, modes) / n_fine * 2.0 * tail


def lattice_mass(tau: float, n_fine: int) -> float:
    """max_d Σ_i e^{−(i·2π/N − d)²/4τ} ≤ 1 + √(4πτ)/(2π/N): the weight one term spreads."""
    return 1.0 + math.sqrt(4.0 * math.pi * tau) * n_fine / (2.0 * math.pi)


def spreading_weight_error(tau: float, n_fine: int, msp: int) -> float:
    """Relative error of a computed spreading weight e1·e2^(j−MSP+1)·e3[j] (`_spread`).

    e1 = exp(−d0²/4τ) and e2 = exp(d0·step/2τ): small arguments (≤ 0.3), so ELEM + u each;
    e3[j] = exp(−(j·step)²/4τ): argument ≤ (MSP·step)²/4τ, three roundings of it; the power
    e2^(1−MSP) multiplies e2's error by MSP − 1; the running product w *= e2 adds (ELEM + 2u)
    per step over 2·MSP − 1 steps; the computed step differs from 2π/N by u·step, a relative
    weight error ≤ 2·MSP²·step²/4τ·u; two products at the end.
    """
    step = 2.0 * math.pi / n_fine
    small = ELEM + U
    e3 = 3.0 * U * (msp * step) ** 2 / (4.0 * tau) + ELEM
    power = (msp - 1) * small + ELEM + U
    running = (2 * msp - 1) * (small + 2.0 * U)
    grid_step = 2.0 * msp**2 * step**2 / (4.0 * tau) * U
    return small + power + running + e3 + grid_step + 3.0 * U


def fft_relative_error(n_fine: int) -> float:
    """Higham's Thm 24.2 for radix-2 Cooley–Tukey: tη/(1 − tη), twiddles within μ.

    Twiddle angles fl(fl(2π)/N·k) < π are off by ≤ 2u·π, and cos, sin by ELEM:
    μ = √2·(2πu + ELEM).
    """
    t = int(math.log2(n_fine))
    mu = math.sqrt(2.0) * (2.0 * math.pi * U + ELEM)
    eta = mu + gamma(4) * (math.sqrt(2.0) + mu)
    return t * eta / (1.0 - t * eta)


def interpolation_aliasing(beta: float, delta: float, sigma: float, lam_max: float) -> float:
    """|1 − ĝ(λ)/δ| + Σ_{l≠0} |ĝ(λ − 2πl/δ)|/δ for |λ| ≤ λ_max, per unit of S."""
    kappa_err = 3.0 * U  # κ = π/(βδ) with β, δ rounded
    scale = math.sqrt(2.0) * sigma
    centre = math.erfc((beta - lam_max) / scale)
    alias = sum(
        math.erfc(((2 * ell * (1.0 - kappa_err) - 1.0) * beta - lam_max) / scale)
        for ell in range(1, 8)
    )
    return SAFETY * (centre + (1.0 + kappa_err) * alias) + kappa_err


def interpolation_truncation(beta: float, delta: float, sigma: float, half_width: int) -> float:
    """Σ over the dropped grid points of |sinc(βx)|·e^{−σ²x²/2}, |x| ≥ (K + i − slack)·δ."""
    kappa = math.pi / (beta * delta)
    total = 0.0
    for i in range(64):
        x = (half_width + i - POSITION_SLACK) * delta
        total += 2.0 * math.exp(-0.5 * (sigma * x) ** 2) * kappa / (math.pi * x / delta)
    return SAFETY * total


def lebesgue_constant(beta: float, delta: float, sigma: float, half_width: int) -> float:
    """Σ_k |sinc(β(u − kδ))|·e^{−σ²(u−kδ)²/2} ≤ 2 + Σ_{j=1..K} 2·κ/(π j′)·e^{−σ²δ²j′²/2}."""
    kappa = math.pi / (beta * delta)
    total = 2.0
    for j in range(1, half_width + 1):
        x = (j - POSITION_SLACK) * delta
        total += 2.0 * kappa / (math.pi * x / delta) * math.exp(-0.5 * (sigma * x) ** 2)
    return SAFETY * total


def gaussian_mass(delta: float, sigma: float, half_width: int) -> float:
    """Σ_k e^{−σ²(u−kδ)²/2} over the 2K points used: ≤ 2 + 2Σ_{j≥1} e^{−σ²δ²j′²/2}."""
    total = 2.0
    for j in range(1, half_width + 1):
        total += 2.0 * math.exp(-0.5 * (sigma * (j - POSITION_SLACK) * delta) ** 2)
    return SAFETY * total


def interpolation_weight_errors(
    beta: float, delta: float, sigma: float, half_width: int
) -> tuple[float, float]:
    """(relative error of the Gaussian factors, absolute error of the sinc factors), `os_eval`.

    Gaussian: w0 = exp(−σ²u²/2) (argument ≤ σ²(Kδ)²/2, 3 roundings), r0 and q (ELEM + small
    arguments), then w_i = w0·Π r_l with r_l = r0·q^l: i ≤ 2K steps, so i(i−1)/2 factors of q;
    the local coordinates u_i = r + (K−1−i)δ are off by ≤ 2uKδ, a relative error
    σ²·Kδ·2uKδ. Sinc: sin, cos once at β·u_0 (argument off by 3uKπ, ELEM), then a sign flip per
    step (βδ = π within 3uπ: 3uπ per step), divided by β·u_i ≥ ½ (≤ 2·error + 4·|Δ(βu)|);
    below ½ the Taylor series to x¹² (tail ≤ (½)¹⁴/15!) and its Horner sum.
    """
    k2 = 2 * half_width
    s2dd = (sigma * delta) ** 2
    w0 = 3.0 * U * 0.5 * (sigma * half_width * delta) ** 2 + ELEM
    r0 = 5.0 * U * s2dd * half_width + ELEM
    q = 3.0 * U * s2dd + ELEM
    steps = k2 * (r0 + U) + k2 * (k2 - 1) / 2 * (q + U)
    coordinate = s2dd * half_width * 2.0 * U * half_width
    gauss = w0 + steps + coordinate
    kpi = half_width * math.pi
    sine = 3.0 * U * kpi + ELEM + k2 * 3.0 * U * math.pi
    argument = 2.0 * U * kpi + U * kpi
    sinc = max(2.0 * sine + 4.0 * argument + 2.0 * U, 0.5**14 / math.factorial(15) + 14.0 * U)
    return gauss, sinc


@dataclass(frozen=True)
class OSBound:
    """Every term of the bound on |Z_OS(t0 + h) − Z(t0 + h)| for one frame (docs/zeros.md)."""

    t0: float
    h_c: float
    delta: float
    half_width: int
    m_lo: int
    n_direct: int  # terms m_lo < n ≤ m(t_max), summed directly
    log_m: float
    grid_const: dict[str, float]  # per grid value: every error but the positions'
    grid_position: float  # per grid value and unit of |j|: the Gaussian centres' error
    interp_const: dict[str, float]  # per evaluation: the interpolation's own errors
    lebesgue: float  # Σ|computed weights|: grid-value errors grow by at most this
    size: float  # S ≥ Σ|grid terms| (and |G|), with the term phases' error

    def terms(self, h: np.ndarray | float) -> dict[str, np.ndarray]:
        """The named terms at t0 + h (arrays like h); their sum is `total`."""
        h = np.asarray(h, dtype=np.float64)
        t = self.t0 + h
        d = np.abs(h - self.h_c)
        j_max = d / self.delta + self.half_width + 1.0
        twice = 2.0 * self.lebesgue  # Z = 2·Re(…): grid errors enter twice, through Λ
        out = {
            "riemann_siegel_truncation": remainder_bound(t),
            "remainder_rounding": remainder_rounding(t),
            **{name: twice * value + 0.0 * h for name, value in self.grid_const.items()},
            "gridding_positions": twice * self.grid_position * j_max,
            **{name: 2.0 * value + 0.0 * h for name, value in self.interp_const.items()},
            "evaluation_point": 2.0 * (2.0 * U * d + 2.0 * U * self.delta) * self.size * self.log_m,
        }
        a_direct = self.m_lo**-0.5
        s_direct = self.n_direct * a_direct
        log_top = math.log(self.m_lo + self.n_direct)
        per_direct = 8.0 * EPS * (2.0 * math.pi + np.abs(h) * log_top) + 2.0 * ELEM + 3.0 * U
        sums = math.sqrt(2.0) * gamma(self.n_direct + 1) * (self.size + s_direct)
        out["direct_terms"] = 2.0 * (s_direct * per_direct + sums)
        # e^{iΔθ}: Δθ as in the plain kernel (8 eps per unit of h·(½ log τ + 1)), cos and sin,
        # the complex product, the real part doubled, the remainder added
        dtheta = np.abs(h) * (0.5 * np.log(t / (2.0 * math.pi)) + 1.0)
        whole = self.size + s_direct
        theta = 8.0 * EPS * dtheta + math.sqrt(2.0) * ELEM + math.sqrt(2.0) * gamma(2)
        out["theta_and_sum"] = 2.0 * whole * theta + U * (2.0 * whole + 1.0)
        return out

    def total(self, h: np.ndarray | float) -> np.ndarray:
        """|Z_OS − Z| ≤ this at t0 + h; infinite where m(t) in float64 may be wrong or below
        the grid's m_lo (next to a square 2πm², `rs_bounds.near_square`)."""
        h = np.asarray(h, dtype=np.float64)
        t = self.t0 + h
        bound = sum(self.terms(h).values())
        m_float = np.floor(np.sqrt(t / (2.0 * math.pi)))
        return np.where(near_square(t) | (m_float < self.m_lo), np.inf, bound)


def os_bound(
    *,
    t0: float,
    h_c: float,
    m_lo: int,
    n_direct: int,
    modes: int,
    tau: float,
    msp: int,
    delta: float,
    beta: float,
    sigma: float,
    omega: float,
    half_width: int,
    x_max: float,
    grid_norm: float,
    max_terms: int,
    threads: int,
) -> OSBound:
    """The bound's terms from the frame's parameters and its grid's measured norm and crowding."""
    n_fine = 2 * modes
    size = 2.0 * math.sqrt(m_lo)
    phase = 8.0 * EPS * 2.0 * math.pi  # φ_n and the error-free reduction of h_c·log n
    eps_s = phase + math.sqrt(2.0) * ELEM + 3.0 * U
    s1 = size * (1.0 + eps_s)
    scale = deconvolution_factor(tau, modes) / n_fine
    eps_w = spreading_weight_error(tau, n_fine, msp)
    sums = math.sqrt(2.0) * gamma(max_terms + threads + 1)
    spread_mass = lattice_mass(tau, n_fine)
    fft = fft_relative_error(n_fine) * math.sqrt(n_fine) * grid_norm * (1.0 + gamma(n_fine + 2))
    grid_const = {
        "term_phases": size * eps_s,
        "gridding_aliasing": s1 * gridding_aliasing(tau, n_fine, modes),
        "gridding_truncation": s1 * gridding_truncation(tau, n_fine, modes, msp),
        "spreading_rounding": scale * (eps_w + sums * (1.0 + eps_w)) * s1 * spread_mass,
        "fft_rounding": scale * fft,
        "deconvolution_rounding": 17.0 * U * s1 * SAFETY,
    }
    lam_max = max(omega, math.log(m_lo) - omega) * (1.0 + 4.0 * U)
    gauss, sinc = interpolation_weight_errors(beta, delta, sigma, half_width)
    lebesgue = lebesgue_constant(beta, delta, sigma, half_width)
    weights = lebesgue * (1.0 + gauss + U) + sinc * gaussian_mass(delta, sigma, half_width)
    s2 = s1 * SAFETY  # |computed grid values| ≤ S plus their (far smaller) errors
    interp_const = {
        "interpolation_aliasing": size * interpolation_aliasing(beta, delta, sigma, lam_max),
        "interpolation_truncation": size * interpolation_truncation(beta, delta, sigma, half_width),
        "interpolation_rounding": s2 * (weights - lebesgue)
        + s2 * weights * (math.sqrt(2.0) * gamma(2 * half_width + 1) + 21.0 * U),
    }
    return OSBound(
        t0=t0,
        h_c=h_c,
        delta=delta,
        half_width=half_width,
        m_lo=m_lo,
        n_direct=n_direct,
        log_m=math.log(m_lo),
        grid_const=grid_const,
        grid_position=s1 * 4.0 * U * x_max,
        interp_const=interp_const,
        lebesgue=weights,
        size=s1,
    )
