"""Odlyzko–Schönhage multi-evaluation agrees with plain Riemann–Siegel to its stated bound."""

from __future__ import annotations

from pathlib import Path

import flint
import numpy as np
import pytest

from zetalab.zeros.flint_backend import _rough_height
from zetalab.zeros.frame import Frame
from zetalab.zeros.odlyzko_schonhage import OSFrame, fft, nufft_centered, os_is_faster
from zetalab.zeros.os_bounds import TERM_NAMES, fft_relative_error, os_bound
from zetalab.zeros.rs import compute_rs
from zetalab.zeros.rs_bounds import ELEM, U, arb_z, gamma, z_error_bound

DOCS = Path(__file__).resolve().parents[1] / "docs" / "zeros.md"


def test_nufft_matches_the_direct_sum():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 2.0, 500)
    c = rng.normal(size=500) + 1j * rng.normal(size=500)
    modes = 128
    fast, _ = nufft_centered(x, c, modes)
    k = np.arange(-modes // 2, modes // 2)
    direct = (c[None, :] * np.exp(-1j * k[:, None] * x[None, :])).sum(axis=1)
    assert np.abs(fast - direct).max() < 1e-13 * np.abs(c).sum()


@pytest.mark.parametrize("n", [100_000_000, 10_000_000_000])
def test_os_and_plain_riemann_siegel_agree_within_the_bound(n):
    t = _rough_height(n)
    plain, fast = Frame(t, t + 1500.0), OSFrame(t, t + 1500.0)
    h = np.random.default_rng(n).uniform(0.0, 1500.0, 3000)
    z_plain, z_fast = plain.z(h, derivs=True), fast.z(h, derivs=True)
    bound = fast.error_bound(h) + z_error_bound(t + h, h)
    assert np.all(np.abs(z_fast[0] - z_plain[0]) < bound)
    assert np.abs(z_fast[0] - z_plain[0]).max() < 1e-9  # measured: ~1e-10
    # derivatives (used by the Halley steps) agree to a relative 1e-9 of their scale
    assert np.abs(z_fast[1] - z_plain[1]).max() < 1e-9 * np.abs(z_plain[1]).max()
    # and against Arb at a few points
    some = h[:3]
    exact = np.array([arb_z(fast.t0, float(x)) for x in some])
    assert np.all(np.abs(fast.z(some)[0] - exact) < fast.error_bound(some))


def test_os_block_gives_the_same_zeros_as_plain():
    start, end = 10_000_000_000, 10_000_000_599
    fast, stats_fast = compute_rs(start, end, evaluator="os")
    plain, stats_plain = compute_rs(start, end, evaluator="rs")
    assert stats_fast.os_blocks == 1 and stats_plain.os_blocks == 0
    pos = np.arange(len(fast))
    diff = (fast.reference_at(pos) - plain.reference_at(pos)).astype(float) + (
        fast.offsets - plain.offsets
    )
    assert np.abs(diff).max() < 1e-10  # measured 8e-12
    assert [c["N_a"] for c in stats_fast.count_checks] == [
        c["N_a"] for c in stats_plain.count_checks
    ]


def test_cost_model_picks_os_only_where_it_pays():
    assert not os_is_faster(300, 70_000)  # n ≈ 10⁶: 300 terms, plain is as cheap
    assert os_is_faster(22_000, 70_000)  # n ≈ 10¹⁰
    assert not os_is_faster(200_000, 100)  # a handful of points never pays the set-up


def test_os_across_a_change_of_the_number_of_terms():
    """m = ⌊√(t/2π)⌋ grows from 999 to 1000 inside the block: that term is added directly."""
    t0 = 2 * np.pi * 1000**2 - 700.0
    plain, fast = Frame(t0, t0 + 1500.0), OSFrame(t0, t0 + 1500.0)
    assert fast.m_lo == 999
    h = np.linspace(0.0, 1500.0, 3001)
    diff = np.abs(plain.z(h, derivs=True)[0] - fast.z(h, derivs=True)[0])
    assert np.all(diff < fast.error_bound(h) + z_error_bound(t0 + h, h))
    assert diff.max() < 1e-9


def test_threads_split_points_and_terms_without_changing_the_values(monkeypatch):
    """Evaluation points and the NUFFT's terms are split over ZETALAB_THREADS threads: each
    point is computed alone (bit-identical), the spread grids add up (rounding only)."""
    t = _rough_height(10_000_000_000)
    h = np.random.default_rng(1).uniform(0.0, 800.0, 5000)  # above PARALLEL_MIN_POINTS
    values = {}
    for threads in ("1", "3"):
        monkeypatch.setenv("ZETALAB_THREADS", threads)
        plain, fast = Frame(t, t + 800.0), OSFrame(t, t + 800.0)
        values[threads] = plain.z(h, derivs=True), fast.z(h, derivs=True), fast.grid
    (p1, f1, g1), (p3, f3, g3) = values["1"], values["3"]
    assert np.array_equal(p1, p3)
    assert np.abs(g1 - g3).max() < 1e-13 * np.abs(g1).max()
    assert np.abs(f1[0] - f3[0]).max() < 1e-12  # Z; Z′, Z″ to their own scale
    assert np.all(np.abs(f1 - f3).max(axis=1) < 1e-13 * np.abs(f1).max(axis=1))
    rng = np.random.default_rng(2)
    x, c = rng.uniform(0.0, 2.0, 6000), rng.normal(size=6000) + 1j * rng.normal(size=6000)
    k = np.arange(-32, 32)
    direct = (c[None, :] * np.exp(-1j * k[:, None] * x[None, :])).sum(axis=1)
    assert np.abs(nufft_centered(x, c, 64)[0] - direct).max() < 1e-13 * np.abs(c).sum()


def test_every_term_of_the_os_bound_is_in_its_total():
    """The bound is the sum of its named terms (docs/zeros.md lists each): none missing,
    none zero, none dropped from the total."""
    t = _rough_height(10_000_000_000)
    fast = OSFrame(t, t + 1500.0)
    h = np.array([1.0, 700.0, 1500.0])
    terms = fast.bound.terms(h)
    assert set(terms) == set(TERM_NAMES)
    for name, value in terms.items():
        assert np.all(np.isfinite(value) & (value > 0)), name
    np.testing.assert_allclose(fast.error_bound(h), sum(terms.values()), rtol=1e-14)
    text = DOCS.read_text()
    assert all(f"`{name}`" in text for name in TERM_NAMES)


@pytest.mark.parametrize(
    ("coarse", "names"),
    [
        ({"msp": 4}, ("gridding_aliasing", "gridding_truncation")),
        ({"decay": 4.0}, ("interpolation_aliasing", "interpolation_truncation")),
    ],
    ids=["gridding", "interpolation"],
)
def test_a_coarse_grid_or_kernel_is_covered_by_exactly_its_terms(coarse, names):
    """With 4 spreading points (or L = 4) the gridding (interpolation) error is ~1e-3 and
    dominates: the bound still covers it, and without its theorem's terms it would not."""
    t = _rough_height(100_000_000)
    plain, fast = Frame(t, t + 300.0), OSFrame(t, t + 300.0, **coarse)
    h = np.linspace(0.0, 300.0, 1500)
    diff = np.abs(fast.z(h)[0] - plain.z(h)[0])
    bound = fast.error_bound(h) + z_error_bound(t + h, h)
    assert np.all(diff < bound)
    terms = fast.bound.terms(h)
    assert np.any(diff > bound - sum(terms[name] for name in names))


def test_radix2_fft_meets_highams_bound():
    """Our FFT against Arb's DFT: within Higham's Thm 24.2, ‖ŷ − y‖₂ ≤ tη/(1 − tη)·√N·‖x‖₂,
    η = μ + γ₄(√2 + μ), μ = √2(2πu + ELEM) (the twiddles), and the bound is that formula."""
    n = 256
    rng = np.random.default_rng(7)
    x = rng.normal(size=n) + 1j * rng.normal(size=n)
    exact = flint.acb.dft([flint.acb(complex(v)) for v in x])
    exact = np.array([complex(float(v.real.mid()), float(v.imag.mid())) for v in exact])
    err = np.linalg.norm(fft(x) - exact)
    bound = fft_relative_error(n) * np.sqrt(n) * np.linalg.norm(x)
    assert err <= bound < 1e4 * err
    mu = np.sqrt(2.0) * (2.0 * np.pi * U + ELEM)
    eta = mu + gamma(4) * (np.sqrt(2.0) + mu)
    assert fft_relative_error(n) == pytest.approx(8 * eta / (1 - 8 * eta), rel=1e-12, abs=0)
    with pytest.raises(ValueError, match="power of 2"):
        fft(x[:100])


def test_the_spreading_bound_counts_the_terms_each_cell_sums():
    """Each fine-grid cell is a float64 sum of the terms spread onto it: the grid reports the
    largest such count, and the bound's spreading term grows with it."""
    c = np.ones(5000, dtype=complex)
    assert nufft_centered(np.full(5000, 1.0), c, 64)[1]["max_terms"] == 5000
    spread = nufft_centered(np.linspace(0.0, 2 * np.pi, 5000, endpoint=False), c, 64)[1]
    assert 1200 <= spread["max_terms"] <= 1300  # 2·MSP = 32 of the 128 cells
    t = _rough_height(100_000_000)
    inputs = OSFrame(t, t + 300.0).bound_inputs
    few = os_bound(**{**inputs, "max_terms": 10}).grid_const["spreading_rounding"]
    many = os_bound(**{**inputs, "max_terms": 10**6}).grid_const["spreading_rounding"]
    assert many > 100 * few
