"""Odlyzko–Schönhage multi-evaluation: the Riemann–Siegel main sum for a whole block at once.

Why: plain Riemann–Siegel costs m = ⌊√(t/2π)⌋ terms per evaluation (2·10⁵ at n = 10¹²), and a
block needs ~3.5 evaluations per zero. Odlyzko and Schönhage (1988) evaluate the main sum
G(h) = Σ_{n≤m} n^(−½) e^{i(φ_n − h log n)} (φ_n = θ(t0) − t0 log n mod 2π, from the frame) at
J equally spaced points h_k = h_lo + kδ in O(m + J log J) operations, and then get G at any
point of the block by band-limited interpolation from ~2K ≈ 100 grid values. Z follows as
Z(t0 + h) = 2 Re(e^{iΔθ(h)} G(h)) + R(t0 + h) (R: the C0..C4 remainder, as in the kernel).

1. **Grid values** (a type-1 non-uniform FFT, which is how the fast multipole-like step of
   Odlyzko's implementation is done today): f_k = Σ_n c_n e^{−ik x_n}, k = 0..J−1, with
   c_n = n^(−½) e^{i(φ_n − h_lo log n)} and x_n = δ log n. Gaussian gridding (Greengard & Lee,
   SIAM Rev. 46, 2004): spread each c_n onto 2·MSP points of an R·J grid with the periodic
   heat kernel, one FFT, divide by the kernel's Fourier coefficients. Error ≲
   Σ|c_n| · e^{−π·MSP·(R−1)/(R−½)} (R = 2, MSP = 16: 2.8e-15 · 2√m).
2. **Interpolation** (Shannon sampling with a Gaussian regulariser): G̃(h) = e^{i(h−h_lo)ω}G(h),
   ω = ½ log m, has its spectrum in [−ω, ω]. Sampled at δ = π/β, β = 2ω,
   G̃(h) = Σ_k G̃(h_k) sinc(β(h − h_k)) e^{−σ²(h−h_k)²/2} + E, σ = ω/√(2L),
   the sum over the K nearest grid points on each side, K = ⌈2L/(ωδ)⌉ = ⌈4L/π⌉.
   The kernel's transform is 1 on [−ω, ω] and its aliases vanish there up to ½erfc(√L), and the
   dropped terms are below e^{−L}: |E| ≲ 2√m · 2e^{−L} (L = 37: 1.7e-16 · 2√m). G′ and G″
   come from the same sum with the kernel's derivatives (for Z′, Z″ in the Halley steps).
3. The few terms m_lo < n ≤ m(t) where m grows inside the block are added directly.

Cost per block: m·2·MSP spreading operations, one FFT of R·J points, ~2K operations per point.
`os_error_bound` is the plain kernel's rigorous rounding and truncation bound (`rs_bounds`)
plus the two analytical terms above (with a factor 3 for the interpolation's Lebesgue
constant): an estimate from those theorems, checked against plain Riemann–Siegel and Arb in
tests/test_zeros_os.py.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
import scipy.fft

from zetalab.zeros import rs_kernel
from zetalab.zeros.frame import Frame, split_over_threads
from zetalab.zeros.rs_bounds import z_error_bound

OVERSAMPLE = 2  # R: fine grid / modes in the non-uniform FFT
MSP = 16  # Gaussian spreading half-width (grid points each side)
DECAY = 37.0  # L: e^{−L} ≈ 8.5e-17 for the interpolation's spectral and truncation errors
KERNEL_HALF = math.ceil(4.0 * DECAY / math.pi)  # K = 48 grid points each side


# Cost model (seconds, measured on the 2-core box, docs/zeros.md): plain Riemann–Siegel costs
# RS_TERM per term and evaluation; Odlyzko–Schönhage OS_SETUP_TERM per term once per block
# (spreading, phases) plus OS_POINT per evaluation (2K kernel terms, remainder).
RS_TERM = 3e-9
OS_SETUP_TERM = 6e-7
OS_POINT = 1.5e-6


def os_is_faster(m: int, evaluations: float) -> bool:
    """Whether one block of `evaluations` points with m main-sum terms is cheaper by OS."""
    return m * OS_SETUP_TERM + evaluations * OS_POINT < evaluations * m * RS_TERM


def nufft_error(m: int) -> float:
    """Gaussian-gridding error of the grid values: Σ|c_n|·e^{−π·MSP·(R−1)/(R−½)}."""
    return 2.0 * math.sqrt(m) * math.exp(-math.pi * MSP * (OVERSAMPLE - 1) / (OVERSAMPLE - 0.5))


def interpolation_error(m: int) -> float:
    """Regularised-sampling error: spectral leak ½erfc(√L)·2 plus truncation e^{−L}, × ‖G‖∞."""
    return 2.0 * math.sqrt(m) * (math.erfc(math.sqrt(DECAY)) + 2.0 * math.exp(-DECAY))


@numba.njit(cache=True, nogil=True)
def _spread(x: np.ndarray, c: np.ndarray, n_fine: int, tau: float, msp: int) -> np.ndarray:
    """Σ_n c_n g_τ(ξ − x_n) on the fine grid ξ = 2πq/n_fine (fast Gaussian gridding)."""
    # padded by msp cells each side so the inner loop has no wrap-around; folded at the end
    padded = np.zeros(n_fine + 2 * msp, dtype=np.complex128)
    step = 2.0 * math.pi / n_fine
    e3 = np.empty(2 * msp)
    for j in range(-msp + 1, msp + 1):
        e3[j + msp - 1] = math.exp(-((j * step) ** 2) / (4.0 * tau))
    for n in range(x.shape[0]):
        xi = x[n] % (2.0 * math.pi)
        q0 = min(int(xi / step), n_fine - 1)
        d0 = xi - q0 * step  # in [0, step)
        e1 = math.exp(-(d0 * d0) / (4.0 * tau))
        e2 = math.exp(d0 * step / (2.0 * tau))
        # weight at grid q0 + j: exp(−(d0 − j·step)²/4τ) = e1 · e2^j · e3[j]
        w = e1 * e2 ** (-msp + 1)
        cr = c[n].real
        ci = c[n].imag
        base = q0 + 1  # padded index of grid q0 − msp + 1
        for j in range(2 * msp):
            wj = w * e3[j]
            padded[base + j] += complex(cr * wj, ci * wj)
            w *= e2
    grid = padded[msp : msp + n_fine].copy()
    for j in range(msp):
        grid[n_fine - msp + j] += padded[j]  # cells below 0 wrap to the top
        grid[j] += padded[msp + n_fine + j]  # cells above n_fine − 1 wrap to the bottom
    return grid


def nufft_type1(x: np.ndarray, c: np.ndarray, modes: int) -> np.ndarray:
    """f_k = Σ_n c_n e^{−i k x_n} for k = 0..modes−1 (modes even), by Gaussian gridding."""
    half = modes // 2
    shifted = c * np.exp(-1j * half * x)  # modes k − half ∈ [−half, half)
    n_fine = OVERSAMPLE * modes
    tau = math.pi * MSP / (modes * modes * OVERSAMPLE * (OVERSAMPLE - 0.5))
    # each thread spreads its own terms onto its own grid; the grids add up (linear)
    x = np.ascontiguousarray(x)
    grids = split_over_threads(
        lambda part: _spread(x[part], shifted[part], n_fine, tau, MSP), len(x)
    )
    grid = functools.reduce(np.add, grids)
    spectrum = scipy.fft.fft(grid) / n_fine
    k = np.arange(-half, modes - half)
    return math.sqrt(math.pi / tau) * np.exp(k * k * tau) * spectrum[k % n_fine]


@numba.njit(inline="always")
def _sinc_series(x: float) -> tuple[float, float, float]:
    """sin(x)/x and its first two derivatives for |x| < ½, where the closed forms cancel."""
    x2 = x * x
    s = 1.0 + x2 * (
        -1 / 6 + x2 * (1 / 120 + x2 * (-1 / 5040 + x2 * (1 / 362880 + x2 * (-1 / 39916800))))
    )
    d1 = x * (-1 / 3 + x2 * (1 / 30 + x2 * (-1 / 840 + x2 * (1 / 45360 + x2 * (-1 / 3991680)))))
    d2 = -1 / 3 + x2 * (
        1 / 10 + x2 * (-1 / 168 + x2 * (1 / 6480 + x2 * (-1 / 443520 + x2 / 47174400)))
    )
    return s, d1, d2


@numba.njit(cache=True, nogil=True)
def os_eval(
    h: np.ndarray,
    grid: np.ndarray,
    h_lo: float,
    delta: float,
    beta: float,
    sigma: float,
    half_width: int,
    omega: float,
    t0: float,
    log_t0: float,
    phi0: np.ndarray,
    log_n: np.ndarray,
    amp: np.ndarray,
    m_lo: int,
    coef: np.ndarray,
    lengths: np.ndarray,
    derivs: bool,
) -> np.ndarray:
    """Rows Z, Z′, Z″ at t0 + h[i] from the grid values of G̃ (see the module docstring)."""
    npts = h.shape[0]
    out = np.zeros((3, npts))
    s2 = sigma * sigma
    for i in range(npts):
        hi = h[i]
        u0 = hi - h_lo
        k0 = math.floor(u0 / delta)
        k_first = k0 - half_width + 1
        g0 = 0j
        g1 = 0j
        g2 = 0j
        # sin(β(u0 − kδ)) = (−1)^k sin(βu0 − k_first·π)…: one sin/cos per point (βδ = π);
        # the Gaussian by the recurrence w_{k+1} = w_k·r_k, r_{k+1} = r_k·e^{−σ²δ²}
        u = u0 - k_first * delta
        sn = math.sin(beta * u)
        cs = math.cos(beta * u)
        w = math.exp(-0.5 * s2 * u * u)
        r = math.exp(s2 * delta * u - 0.5 * s2 * delta * delta)
        q = math.exp(-s2 * delta * delta)
        for k in range(k_first, k0 + half_width + 1):
            x = beta * u
            if abs(x) < 0.5:
                sc, sc1, sc2 = _sinc_series(x)
            else:
                inv = 1.0 / x
                sc = sn * inv
                sc1 = (cs - sc) * inv
                sc2 = -sc - 2.0 * sc1 * inv
            gk = grid[k]
            g0 += gk * (sc * w)
            if derivs:
                w1 = -s2 * u * w
                w2 = (s2 * s2 * u * u - s2) * w
                g1 += gk * (beta * sc1 * w + sc * w1)
                g2 += gk * (beta * beta * sc2 * w + 2.0 * beta * sc1 * w1 + sc * w2)
            u -= delta
            sn = -sn
            cs = -cs
            w *= r
            r *= q
        # undo the centring: G = e^{−iωu0} G̃
        rot = complex(math.cos(omega * u0), -math.sin(omega * u0))
        g = rot * g0
        gd = rot * (g1 - 1j * omega * g0)
        gdd = rot * (g2 - 2j * omega * g1 - omega * omega * g0)
        t = t0 + hi
        m = int(math.sqrt(t * rs_kernel.INV_TWO_PI))
        for n in range(m_lo, m):  # terms n+1 = m_lo+1..m, where m grew inside the block
            ph = phi0[n] - hi * log_n[n]
            e = amp[n] * complex(math.cos(ph), math.sin(ph))
            g += e
            gd += -1j * log_n[n] * e
            gdd += -(log_n[n] * log_n[n]) * e
        dth = rs_kernel.delta_theta(t0, log_t0, hi)
        e_th = complex(math.cos(dth), math.sin(dth))
        if derivs:
            th1 = rs_kernel.theta_d1(t)
            th2 = rs_kernel.theta_d2(t)
            r, r1, r2 = rs_kernel.remainder_derivs(t, coef, lengths)
            out[0, i] = 2.0 * (e_th * g).real + r
            out[1, i] = 2.0 * (e_th * (1j * th1 * g + gd)).real + r1
            out[2, i] = 2.0 * (e_th * ((1j * th2 - th1 * th1) * g + 2j * th1 * gd + gdd)).real + r2
        else:
            r, _r1, _r2 = rs_kernel.remainder_derivs(t, coef, lengths)
            out[0, i] = 2.0 * (e_th * g).real + r
    return out


class OSFrame(Frame):
    """A `Frame` whose Z comes from Odlyzko–Schönhage grid values instead of the full sum.

    Same interface (t0, gram0, theta_excess, gram_offsets, z, evaluations), so the separation,
    Turing count and polishing of `rs` run unchanged on it; `error_bound` replaces the plain
    kernel's bound for certifying signs.
    """

    def __init__(self, t0: float, t_max: float):
        super().__init__(t0, t_max)
        self.m_lo = int(math.sqrt(self.t0 / (2.0 * math.pi)))
        m = self.m_lo
        self.omega = 0.5 * math.log(m)
        self.beta = 2.0 * self.omega
        self.delta = math.pi / self.beta
        self.sigma = self.omega / math.sqrt(2.0 * DECAY)
        half = KERNEL_HALF
        self.h_lo = -(half + 2) * self.delta
        span = (self.t_max - self.t0) - self.h_lo + (half + 2) * self.delta
        modes = scipy.fft.next_fast_len(math.ceil(span / self.delta) + 2)
        modes += modes % 2
        log_n = self.log_n[:m]
        c = self.amp[:m] * np.exp(1j * (self.phi0[:m] - self.h_lo * log_n))
        values = nufft_type1(self.delta * log_n, c, modes)  # G(h_lo + kδ)
        k = np.arange(modes)
        self.grid = values * np.exp(1j * self.omega * k * self.delta)  # G̃ at the grid
        self.modes = modes
        self.extra_bound = 3.0 * nufft_error(m) + interpolation_error(m)

    def z(self, h: np.ndarray, derivs: bool = False) -> np.ndarray:
        """Rows (Z, Z′, Z″) at t0 + h by interpolation (rows 1–2 zero unless derivs)."""
        h = np.ascontiguousarray(h, dtype=np.float64)
        # the grid reaches K + 2 steps beyond [t0, t_max]; 2 steps of slack either side
        # (near 10¹⁶ one ulp of t0 is 0.5, more than a Gram interval)
        slack = 2.0 * self.delta
        if h.size and (h.min() < -slack or h.max() > self.t_max - self.t0 + slack):
            raise ValueError("evaluation outside the frame's [t0, t_max]")
        self.evaluations += h.size
        parts = split_over_threads(
            lambda part: os_eval(
                h[part],
                self.grid,
                self.h_lo,
                self.delta,
                self.beta,
                self.sigma,
                KERNEL_HALF,
                self.omega,
                self.t0,
                self.log_t0,
                self.phi0,
                self.log_n,
                self.amp,
                self.m_lo,
                self.coef,
                self.lengths,
                derivs,
            ),
            h.size,
        )
        return np.concatenate(parts, axis=1)

    def error_bound(self, h: np.ndarray) -> np.ndarray:
        """|Z_OS − Z| ≤ the plain kernel's bound + the grid and interpolation terms."""
        h = np.asarray(h, dtype=np.float64)
        return z_error_bound(self.t0 + h, h) + self.extra_bound
