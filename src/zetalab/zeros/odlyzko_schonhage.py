"""Odlyzko–Schönhage multi-evaluation: the Riemann–Siegel main sum for a whole block at once.

Why: plain Riemann–Siegel costs m = ⌊√(t/2π)⌋ terms per evaluation (2·10⁵ at n = 10¹²), and a
block needs ~3.5 evaluations per zero. Odlyzko and Schönhage (1988) evaluate the main sum
G(h) = Σ_{n≤m} n^(−½) e^{i(φ_n − h log n)} (φ_n = θ(t0) − t0 log n mod 2π, from the frame) at
J equally spaced points h_j = h_c + jδ at once in O(m + J log J) operations, and then get G at
any point of the block by band-limited interpolation from 2K ≈ 100 grid values. Z follows as
Z(t0 + h) = 2 Re(e^{iΔθ(h)} G(h)) + R(t0 + h) (R: the C0..C4 remainder, as in the kernel).

1. **Grid values** (a type-1 non-uniform FFT, which is how the fast multipole-like step of
   Odlyzko's implementation is done today): G(h_c + jδ) = Σ_n s_n e^{−ij x_n}, j = −J/2..J/2−1,
   with s_n = n^(−½) e^{i(φ_n − h_c log n)} (h_c·log n reduced mod 2π without error) and
   x_n = δ log n. Gaussian gridding (Greengard & Lee, SIAM Rev. 46, 2004): spread each s_n onto
   2·MSP points of an N = 2J grid with the periodic heat kernel, one FFT (radix 2, J a power
   of two, so Higham's bound on its rounding applies), divide by the kernel's Fourier
   coefficients.
2. **Interpolation** (Shannon sampling with a Gaussian regulariser): G̃(h) = e^{i(h−h_lo)ω}G(h),
   ω = π/(2δ) ≈ ½ log m, has its spectrum in [−ω, ω]; with h_lo = h_c − (J/2)δ the rotation is
   i^k at grid point k, exact. Sampled at δ = π/β, β = 2ω,
   G̃(h) = Σ_k G̃(h_k) sinc(β(h − h_k)) e^{−σ²(h−h_k)²/2} + E, σ = ω/√(2L),
   the sum over the K = ⌈4L/π⌉ nearest grid points on each side. G′ and G″ come from the same
   sum with the kernel's derivatives (for Z′, Z″ in the Halley steps).
3. The few terms m_lo < n ≤ m(t) where m grows inside the block are added directly.

Cost per block: m·2·MSP spreading operations, one FFT of N points, ~2K operations per point.
`OSFrame.error_bound` is a rigorous bound on |Z_OS − Z| (`os_bounds`: every step bounded by a
stated theorem or by the standard model of floating-point arithmetic), so the signs the count
rests on are proved.
"""

from __future__ import annotations

import functools
import math

import flint
import numba
import numpy as np

from zetalab.zeros import rs_kernel
from zetalab.zeros.frame import ARB_PREC, Frame, split_over_threads
from zetalab.zeros.os_bounds import OSBound, os_bound
from zetalab.zeros.phases import _log_table, product_mod_2pi, two_pi_parts

OVERSAMPLE = 2  # R: fine grid / modes in the non-uniform FFT (the bounds assume 2)
MSP = 16  # Gaussian spreading half-width (grid points each side)
DECAY = 37.0  # L: e^{−L} ≈ 8.5e-17 for the interpolation's spectral and truncation errors
KERNEL_HALF = math.ceil(4.0 * DECAY / math.pi)  # K = 48 grid points each side
QUARTER_TURNS = np.array([1.0, 1.0j, -1.0, -1.0j])  # i^k: multiplying by these is exact


# Cost model (seconds, measured on the 2-core box, docs/zeros.md): plain Riemann–Siegel costs
# RS_TERM per term and evaluation; Odlyzko–Schönhage OS_SETUP_TERM per term once per block
# (spreading, phases) plus OS_POINT per evaluation (2K kernel terms, remainder).
RS_TERM = 3e-9
OS_SETUP_TERM = 6e-7
OS_POINT = 1.5e-6


def os_is_faster(m: int, evaluations: float) -> bool:
    """Whether one block of `evaluations` points with m main-sum terms is cheaper by OS."""
    return m * OS_SETUP_TERM + evaluations * OS_POINT < evaluations * m * RS_TERM


def spread_width(modes: int, msp: int = MSP) -> float:
    """τ of the Gaussian for J modes on an R·J grid (Greengard & Lee's choice for MSP)."""
    return math.pi * msp / (modes * modes * OVERSAMPLE * (OVERSAMPLE - 0.5))


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


@numba.njit(cache=True, nogil=True)
def fft_radix2(re: np.ndarray, im: np.ndarray, cos_w: np.ndarray, sin_w: np.ndarray) -> None:
    """In place: y_k = Σ_q x_q e^{−2πikq/n} (n a power of 2), iterative radix-2 Cooley–Tukey
    with decimation in time; cos_w, sin_w = cos, −sin of 2πk/n for k < n/2. Written out, not
    scipy's mixed-radix FFT, so that Higham's rounding bound (Thm 24.2) applies as stated."""
    n = re.shape[0]
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            re[i], re[j] = re[j], re[i]
            im[i], im[j] = im[j], im[i]
    size = 2
    while size <= n:
        half = size >> 1
        stride = n // size
        for start in range(0, n, size):
            for k in range(half):
                wr = cos_w[k * stride]
                wi = sin_w[k * stride]
                a = start + k
                b = a + half
                xr = re[b] * wr - im[b] * wi
                xi = re[b] * wi + im[b] * wr
                re[b] = re[a] - xr
                im[b] = im[a] - xi
                re[a] = re[a] + xr
                im[a] = im[a] + xi
        size <<= 1


@functools.lru_cache(maxsize=4)
def _twiddles(n: int) -> tuple[np.ndarray, np.ndarray]:
    angle = (2.0 * math.pi / n) * np.arange(n // 2)
    return np.cos(angle), -np.sin(angle)


def fft(values: np.ndarray) -> np.ndarray:
    """The unnormalised DFT of a complex array whose length is a power of 2 (`fft_radix2`)."""
    n = len(values)
    if n & (n - 1):
        raise ValueError(f"fft needs a power of 2, got {n}")
    re, im = values.real.copy(), values.imag.copy()
    fft_radix2(re, im, *_twiddles(n))
    return re + 1j * im


def nufft_centered(
    x: np.ndarray, c: np.ndarray, modes: int, msp: int = MSP
) -> tuple[np.ndarray, dict[str, float]]:
    """F_j = Σ_n c_n e^{−i j x_n} for j = −J/2..J/2−1 (at index j + J/2; J = modes a power of
    2, 0 ≤ x_n < 2π) by Gaussian gridding; and what the rounding bound needs from the grid:
    its 2-norm, the most terms any fine-grid cell sums, the threads."""
    if modes < 2 or modes & (modes - 1):
        raise ValueError(f"modes must be a power of 2, got {modes}")
    n_fine = OVERSAMPLE * modes
    tau = spread_width(modes, msp)
    # each thread spreads its own terms onto its own grid; the grids add up (linear)
    x = np.ascontiguousarray(x)
    grids = split_over_threads(lambda part: _spread(x[part], c[part], n_fine, tau, msp), len(x))
    grid = functools.reduce(np.add, grids)
    cell = np.minimum((x / (2.0 * math.pi / n_fine)).astype(np.int64), n_fine - 1)
    per_cell = np.bincount(cell, minlength=n_fine)
    window = np.cumsum(np.concatenate((per_cell, per_cell[: 2 * msp])))
    crowd = int(np.max(window[2 * msp :] - window[: -2 * msp], initial=0))  # 2·MSP cells
    stats = {"norm": float(np.linalg.norm(grid)), "max_terms": crowd, "threads": len(grids)}
    spectrum = fft(grid)
    half = modes // 2
    j = np.arange(-half, half)
    values = math.sqrt(math.pi / tau) * np.exp(j * j * tau) * (spectrum[j % n_fine] / n_fine)
    return values, stats


@numba.njit(cache=True)
def _centered_terms(
    phi0: np.ndarray,
    log_hi: np.ndarray,
    log_lo: np.ndarray,
    amp: np.ndarray,
    m: int,
    h_c: float,
    c1: float,
    c2: float,
    c3: float,
) -> np.ndarray:
    """s_n = n^(−½) e^{i(φ_n − h_c·log n)}, n = 1..m, with h_c·log n reduced mod 2π error-free."""
    out = np.empty(m, dtype=np.complex128)
    inv = 1.0 / c1
    for i in range(m):
        x = phi0[i] - product_mod_2pi(h_c, log_hi[i + 1], log_lo[i + 1], inv, c1, c2, c3)
        out[i] = amp[i] * complex(math.cos(x), math.sin(x))
    return out


@numba.njit(inline="always")
def _sinc_series(x: float) -> tuple[float, float, float]:
    """sin(x)/x and its first two derivatives for |x| < ½, where the closed forms cancel."""
    x2 = x * x
    s = 1.0 + x2 * (
        -1 / 6
        + x2
        * (1 / 120 + x2 * (-1 / 5040 + x2 * (1 / 362880 + x2 * (-1 / 39916800 + x2 / 6227020800))))
    )
    d1 = x * (-1 / 3 + x2 * (1 / 30 + x2 * (-1 / 840 + x2 * (1 / 45360 + x2 * (-1 / 3991680)))))
    d2 = -1 / 3 + x2 * (
        1 / 10 + x2 * (-1 / 168 + x2 * (1 / 6480 + x2 * (-1 / 443520 + x2 / 47174400)))
    )
    return s, d1, d2


@numba.njit(inline="always")
def _quarter_turns(z: complex, k: int) -> complex:
    """z·(−i)^k, exactly (components swapped and negated)."""
    q = k & 3
    if q == 0:
        return z
    if q == 1:
        return complex(z.imag, -z.real)
    if q == 2:
        return complex(-z.real, -z.imag)
    return complex(-z.imag, z.real)


@numba.njit(cache=True, nogil=True)
def os_eval(
    h: np.ndarray,
    grid: np.ndarray,
    h_c: float,
    half: int,
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
    q = math.exp(-s2 * delta * delta)
    for i in range(npts):
        hi = h[i]
        # the point is h_c + j0·δ + r, r ∈ [0, δ): grid index k0 = j0 + half
        d = hi - h_c
        j0 = math.floor(d / delta)
        r = d - j0 * delta
        k0 = j0 + half
        g0 = 0j
        g1 = 0j
        g2 = 0j
        # sin(β·u_l) for u_l = r + (K−1−l)δ: one sin/cos per point, a sign flip per step
        # (βδ = π); the Gaussian by the recurrence w_{l+1} = w_l·r_l, r_{l+1} = r_l·e^{−σ²δ²}
        u = r + (half_width - 1) * delta
        sn = math.sin(beta * u)
        cs = math.cos(beta * u)
        w = math.exp(-0.5 * s2 * u * u)
        ratio = math.exp(s2 * delta * u - 0.5 * s2 * delta * delta)
        for lag in range(2 * half_width):
            u = r + (half_width - 1 - lag) * delta
            x = beta * u
            if abs(x) < 0.5:
                sc, sc1, sc2 = _sinc_series(x)
            else:
                inv = 1.0 / x
                sc = sn * inv
                sc1 = (cs - sc) * inv
                sc2 = -sc - 2.0 * sc1 * inv
            gk = grid[k0 - half_width + 1 + lag]
            g0 += gk * (sc * w)
            if derivs:
                w1 = -s2 * u * w
                w2 = (s2 * s2 * u * u - s2) * w
                g1 += gk * (beta * sc1 * w + sc * w1)
                g2 += gk * (beta * beta * sc2 * w + 2.0 * beta * sc1 * w1 + sc * w2)
            sn = -sn
            cs = -cs
            w *= ratio
            ratio *= q
        # undo the centring: G = e^{−iω(h − h_lo)} G̃ = (−i)^{k0} e^{−iωr} G̃ (ωδ = π/2)
        rot = _quarter_turns(complex(math.cos(omega * r), -math.sin(omega * r)), k0)
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
            rr, r1, r2 = rs_kernel.remainder_derivs(t, coef, lengths)
            out[0, i] = 2.0 * (e_th * g).real + rr
            out[1, i] = 2.0 * (e_th * (1j * th1 * g + gd)).real + r1
            out[2, i] = 2.0 * (e_th * ((1j * th2 - th1 * th1) * g + 2j * th1 * gd + gdd)).real + r2
        else:
            rr, _r1, _r2 = rs_kernel.remainder_derivs(t, coef, lengths)
            out[0, i] = 2.0 * (e_th * g).real + rr
    return out


def terms_below(t: float) -> int:
    """m = ⌊√(t/2π)⌋ exactly (Arb): the grid holds terms 1..m, so m must not exceed m(t) for
    any t of the frame, also next to a square 2πm² where float64 could round up."""
    old = flint.ctx.prec
    flint.ctx.prec = ARB_PREC
    try:
        root = (flint.arb(t) / (2 * flint.arb.pi())).sqrt().floor()
        if root.is_exact():
            return int(root.unique_fmpz())
        return int(math.sqrt(t / (2.0 * math.pi))) - 1  # within 1e-38 of a square: one less
    finally:
        flint.ctx.prec = old


class OSFrame(Frame):
    """A `Frame` whose Z comes from Odlyzko–Schönhage grid values instead of the full sum.

    Same interface (t0, gram0, theta_excess, gram_offsets, z, evaluations), so the separation,
    Turing count and polishing of `rs` run unchanged on it; `error_bound` (rigorous,
    `os_bounds`) replaces the plain kernel's bound for certifying signs. `msp` and `decay`
    (spreading width, interpolation decay L) are for tests that make those errors visible.
    """

    def __init__(self, t0: float, t_max: float, msp: int = MSP, decay: float = DECAY):
        super().__init__(t0, t_max)
        self.m_lo = m = terms_below(self.t0)
        omega = 0.5 * math.log(m)
        self.beta = 2.0 * omega
        self.delta = math.pi / self.beta
        self.omega = math.pi / (2.0 * self.delta)  # ωδ = π/2: the rotation is i^k on the grid
        self.sigma = omega / math.sqrt(2.0 * decay)
        self.half_width = math.ceil(4.0 * decay / math.pi)
        # grid points h_c + jδ, j = −J/2..J/2−1, reaching K + 2 steps beyond [t0, t_max]
        reach = self.half_width + 2
        need = math.ceil((self.t_max - self.t0) / self.delta) + 2 * reach + 2
        modes = 1 << (need - 1).bit_length()
        half = modes // 2
        self.h_c = -reach * self.delta + half * self.delta
        log_hi, log_lo = _log_table(m, ARB_PREC)
        terms = _centered_terms(
            self.phi0, log_hi, log_lo, self.amp, m, self.h_c, *two_pi_parts(ARB_PREC)
        )
        x = self.delta * log_hi[1 : m + 1]
        values, grid_stats = nufft_centered(x, terms, modes, msp)  # G(h_c + jδ)
        self.grid = values * QUARTER_TURNS[np.arange(modes) % 4]  # G̃ = i^k·G, k = j + J/2
        self.modes = modes
        self.half = half
        # what the rigorous bound needs, kept so a test can vary one input (`os_bounds`)
        self.bound_inputs = dict(
            t0=self.t0,
            h_c=self.h_c,
            m_lo=m,
            n_direct=max(0, int(math.sqrt(self.t_max / (2.0 * math.pi))) + 1 - m),
            modes=modes,
            tau=spread_width(modes, msp),
            msp=msp,
            delta=self.delta,
            beta=self.beta,
            sigma=self.sigma,
            omega=self.omega,
            half_width=self.half_width,
            x_max=float(x[-1]),
            grid_norm=grid_stats["norm"],
            max_terms=grid_stats["max_terms"],
            threads=grid_stats["threads"],
        )
        self.bound: OSBound = os_bound(**self.bound_inputs)

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
                self.h_c,
                self.half,
                self.delta,
                self.beta,
                self.sigma,
                self.half_width,
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
        """A rigorous bound on |Z_OS(t0 + h) − Z(t0 + h)| (`os_bounds`)."""
        return self.bound.total(h)
