"""Study S baselines and data regimes: known functions reproduced, each regime's physics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zetalab.errors import ZetalabError
from zetalab.spectral.baselines import BASELINES, low_rank_rank, predict, select_strongest
from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import (
    STRAY_LIGHT,
    non_monotonic_fraction,
    photometric_variance,
    regime_absorbance,
    synthetic_spectra,
)
from zetalab.spectral.validate import METHODS, markdown_table, summarise

CPU = torch.device("cpu")
C = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.1])
INNER = [1, 2, 3, 4]


def _leave_out(method: str, a: np.ndarray, k: int) -> np.ndarray:
    keep = [i for i in range(len(C)) if i != k]
    return predict(method, C[keep], a[keep], C[k : k + 1])[0]


def _lines() -> np.ndarray:
    """Three 'wavelengths' whose absorbance is a straight line in c."""
    return np.stack([2.0 + 3.0 * C, -1.0 + 0.5 * C, 0.25 - 0.75 * C], axis=1)


@pytest.mark.parametrize("method", ["linear", "cubic_spline", "pchip", "akima"])
def test_a_line_is_reproduced_exactly_inside_and_beyond_the_range(method):
    a = _lines()
    for k in range(len(C)):  # inner ones interpolate, the ends extrapolate
        np.testing.assert_allclose(_leave_out(method, a, k), a[k], rtol=0, atol=1e-12)


def test_the_gaussian_process_reproduces_a_line_closely():
    """Its RBF kernel has no linear term: close inside the range, not exact (documented)."""
    a = _lines()
    for k in INNER:
        np.testing.assert_allclose(_leave_out("gp", a, k), a[k], rtol=0, atol=1e-3)


def test_a_cubic_is_reproduced_by_the_spline_and_not_by_linear():
    a = np.stack([1.0 - 2.0 * C + 0.5 * C**2 + 3.0 * C**3, C**3], axis=1)
    for k in range(len(C)):
        np.testing.assert_allclose(_leave_out("cubic_spline", a, k), a[k], rtol=0, atol=1e-12)
    assert np.abs(_leave_out("linear", a, 2) - a[2]).max() > 1e-2


def test_pchip_does_not_overshoot_a_step():
    a = np.where(C > 0.6, 1.0, 0.0)[:, None]
    query = np.linspace(0.1, 1.1, 101)
    for method, overshoots in (("pchip", False), ("cubic_spline", True)):
        pred = predict(method, C, a, query)
        assert (pred.max() > 1.0 + 1e-9 or pred.min() < -1e-9) == overshoots


def test_baselines_refuse_bad_input():
    with pytest.raises(ZetalabError, match="unknown baseline"):
        predict("spline9", C, _lines(), [0.5])
    with pytest.raises(ZetalabError, match="strictly increasing"):
        predict("linear", C[::-1], _lines(), [0.5])


def _clean(regime: str, c, n: int = 601) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    c = torch.as_tensor(c, dtype=torch.float64)
    return x, regime_absorbance(regime, c, x, torch.zeros(4, dtype=torch.float64))


def test_beer_lambert_is_linear_in_concentration():
    _, a = _clean("beer_lambert", C)
    ratio = a / torch.as_tensor(C)[:, None]
    torch.testing.assert_close(ratio, ratio[:1].expand_as(ratio), atol=1e-12, rtol=0)


def test_monomer_dimer_has_an_isosbestic_point():
    """A / c of every concentration crosses at one wavelength (eps_D = 2 eps_M), not elsewhere."""
    x, a = _clean("monomer_dimer", C)
    molar = a / torch.as_tensor(C)[:, None]
    gap = molar[-1] - molar[0]
    inside = (x > 0.35) & (x < 0.65)
    sign_change = torch.nonzero(inside[:-1] & (gap[:-1] * gap[1:] < 0)).flatten()
    assert sign_change.numel() == 1
    lo, hi = float(x[sign_change[0]]), float(x[sign_change[0] + 1])
    for _ in range(60):  # bisection on the noise-free generator itself
        mid = 0.5 * (lo + hi)
        at = regime_absorbance(
            "monomer_dimer",
            torch.as_tensor([C[0], C[-1]]),
            torch.tensor([lo, mid], dtype=torch.float64),
            torch.zeros(4, dtype=torch.float64),
        ) / torch.as_tensor([[C[0]], [C[-1]]])
        if float((at[1, 0] - at[0, 0]) * (at[1, 1] - at[0, 1])) <= 0:
            hi = mid
        else:
            lo = mid
    point = torch.tensor([0.5 * (lo + hi)], dtype=torch.float64)
    every = regime_absorbance(
        "monomer_dimer", torch.as_tensor(C), point, torch.zeros(4, dtype=torch.float64)
    )[:, 0] / torch.as_tensor(C)
    assert float(every.max() - every.min()) < 1e-9 * float(every.abs().max())
    # and A is not linear in c elsewhere: the dimer takes over as c rises
    peak = int(torch.argmax(a[0]))
    assert float(molar[:, peak].max() - molar[:, peak].min()) > 0.1 * float(molar[:, peak].max())


def test_band_shift_moves_the_peak_monotonically_and_broadens_it():
    x, a = _clean("band_shift", np.linspace(0.1, 1.1, 11))
    left = x < 0.75  # the shifting band; the fixed band sits at 0.85
    peaks = torch.stack([x[left][torch.argmax(row[left])] for row in a])
    assert bool(torch.all(torch.diff(peaks) > 0))
    widths = []
    for row in a:
        band = row[left]
        above = x[left][band >= 0.5 * band.max()]
        widths.append(float(above.max() - above.min()))
    assert all(np.diff(widths) > 0)


def test_saturation_flattens_below_the_stray_light_ceiling():
    _, a = _clean("saturation", np.linspace(0.1, 1.1, 11))
    ceiling = -np.log10(STRAY_LIGHT / (1.0 + STRAY_LIGHT))
    assert float(a.max()) < ceiling
    peak = int(torch.argmax(a[-1]))
    steps = torch.diff(a[:, peak])
    assert bool(torch.all(steps > 0)) and bool(torch.all(torch.diff(steps) < 0))  # concave
    _, weak = _clean("saturation", [0.001, 0.002])  # low absorbance: Beer-Lambert
    torch.testing.assert_close(weak[1], 2.0 * weak[0], rtol=1e-2, atol=1e-9)


REGIMES = ["beer_lambert", "monomer_dimer", "band_shift", "saturation"]


@pytest.mark.parametrize("regime", REGIMES)
def test_each_regime_is_seeded_and_carries_the_configured_noise(regime):
    cfg = SpectralConfig.load({"data": {"regime": regime, "noise": 0.01, "noise_intensity": 0}})
    a = synthetic_spectra(cfg.data, 3, CPU, torch.float64)
    b = synthetic_spectra(cfg.data, 3, CPU, torch.float64)
    torch.testing.assert_close(a.spectra, b.spectra, rtol=0, atol=0)
    assert float((a.spectra - a.clean).std()) == pytest.approx(0.01, rel=0.1)


def test_the_regimes_draw_independent_noise():
    noise = []
    for regime in REGIMES:
        data = {"regime": regime, "noise_intensity": 0, "n_wavelengths": 601}
        d = synthetic_spectra(SpectralConfig.load({"data": data}).data, 0, CPU, torch.float64)
        noise.append((d.spectra - d.clean).flatten())
    corr = torch.corrcoef(torch.stack(noise))  # 3606 draws each: |r| of independent ~0.02
    assert float((corr - torch.eye(4)).abs().max()) < 0.08  # one shared seed gave r = 1


def test_photometric_noise_grows_with_absorbance_as_ten_to_the_a():
    a = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    var = photometric_variance(a, 0.002, 2e-4)
    grow = 2e-4 * torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64) / math.log(10)
    torch.testing.assert_close(var, 0.002**2 + grow**2)
    cfg = SpectralConfig.load({"data": {"regime": "saturation", "noise_intensity": 1e-3}})
    d = synthetic_spectra(cfg.data, 0, CPU, torch.float64)
    residual, clean = d.spectra - d.clean, d.clean
    high, low = residual[clean > 1.5].std(), residual[clean < 0.05].std()
    assert float(high) > 5 * float(low)  # measured, not only the formula
    torch.testing.assert_close(d.noise_variance, photometric_variance(clean, 0.002, 1e-3))


def test_baseline_drift_is_off_by_default_and_an_offset_and_slope_when_on():
    cfg = SpectralConfig.load({"data": {"noise": 0.0, "noise_intensity": 0.0}})
    assert cfg.data.drift == 0.0
    flat = synthetic_spectra(cfg.data, 0, CPU, torch.float64)
    torch.testing.assert_close(flat.spectra, flat.clean, rtol=0, atol=0)
    drifted = synthetic_spectra(cfg.replace(data={"drift": 0.01}).data, 0, CPU, torch.float64)
    shift = drifted.spectra - drifted.clean  # linear across the grid per spectrum
    second = torch.diff(shift, n=2, dim=1)
    assert float(second.abs().max()) < 1e-12 and float(shift.abs().max()) > 1e-3


@pytest.mark.parametrize(
    "regime, non_monotonic",
    [
        ("beer_lambert", False),
        ("monomer_dimer", False),
        ("band_shift", True),
        ("saturation", False),
    ],
)
def test_non_monotonic_fraction_is_measured_on_the_noise_free_signal(regime, non_monotonic):
    """SPEC §9's "non-monotonic in concentration" holds for the band shift only; noise on
    near-zero wavelengths used to count elsewhere (37 % for monomer-dimer)."""
    cfg = SpectralConfig.load({"data": {"regime": regime}})
    fraction = non_monotonic_fraction(synthetic_spectra(cfg.data, 0, CPU, torch.float64))
    assert (fraction > 0.1) == non_monotonic and (fraction == 0.0) != non_monotonic


def _result(
    k: int,
    mse: dict[str, float],
    kind: str = "interpolation",
    chosen: str = "cubic_spline",
    converged: bool = True,
) -> dict:
    scores = {m: {"mse": mse[m], "mae": mse[m], "r2": 0.9, "spectral_angle": 0.1} for m in METHODS}
    return {
        "index": k,
        "concentration": float(C[k]),
        "kind": kind,
        "sources": [float(C[k - 1])],
        "scores": scores,
        "best": min(mse, key=mse.get),
        "strongest": {"method": chosen, "inner_loo_mse": {}},
        "noise_floor": 4e-6,
        "convergence": {"converged": converged, "kept_epoch": 7, "epochs_run": 9},
    }


BASE = {"linear": 4.0, "cubic_spline": 1.0, "pchip": 2.0, "akima": 3.0, "gp": 5.0, "low_rank": 0.2}


def test_the_verdict_compares_with_the_inner_loo_choice_not_the_held_out_best():
    """low_rank is best on the held-out scores, but the inner leave-one-out chose the spline:
    the NODE is compared with the spline's held-out MSE, never with a hindsight minimum."""
    losing = [_result(1, {"node": 2.0, **BASE}), _result(2, {"node": 0.5, **BASE})]
    summary = summarise(losing, "interpolation")
    assert summary["strongest_baseline"] == "cubic_spline"
    assert summary["strongest_mse"] == pytest.approx(1.0)
    assert summary["winner"] == "strongest"
    assert summary["node_to_strongest_mse_ratio"] == pytest.approx(1.25)
    assert "(cubic spline at 2) wins; the converged geodesic NODE loses" in summary["verdict"]
    winning = summarise([_result(1, {"node": 0.5, **BASE})], "interpolation")
    assert winning["winner"] == "node"
    assert "the converged geodesic NODE beats the strongest baseline" in winning["verdict"]
    table = markdown_table(
        "band_shift",
        {"interpolation": losing, "extrapolation": []},
        {"interpolation": summary, "extrapolation": summarise([], "extrapolation")},
    )
    assert "## Interpolation" in table and "## Extrapolation" not in table
    assert "| strongest baseline (inner leave-one-out choice) ✓ | 1.000e+00 |" in table
    assert "cubic spline (1.00e+00)" in table and "yes, kept 7 of 9" in table


def test_no_verdict_is_stated_from_an_unconverged_model():
    results = [
        _result(1, {"node": 0.1, **BASE}),
        _result(2, {"node": 0.1, **BASE}, converged=False),
    ]
    summary = summarise(results, "interpolation")
    assert summary["winner"] is None and summary["unconverged"] == [2]
    assert summary["verdict"].startswith("Interpolation: not converged")
    table = markdown_table(
        "beer_lambert",
        {"interpolation": results, "extrapolation": []},
        {"interpolation": summary, "extrapolation": summarise([], "extrapolation")},
    )
    assert "**geodesic NODE** (not converged)" in table and "**no** (epoch cap)" in table


def test_every_baseline_is_scored():
    assert set(BASELINES) == {"linear", "cubic_spline", "pchip", "akima", "gp", "low_rank"}


def _mixture() -> tuple[np.ndarray, np.ndarray]:
    """Two component spectra whose amounts are cubics in c: exactly rank 2."""
    x = np.linspace(0.0, 1.0, 40)
    s1, s2 = np.exp(-(((x - 0.3) / 0.1) ** 2)), np.exp(-(((x - 0.7) / 0.08) ** 2))
    f1, f2 = C - 0.2 * C**3, 0.5 * C**2 + 0.1 * C**3
    return np.outer(f1, s1) + np.outer(f2, s2), np.stack([s1, s2])


def test_low_rank_reproduces_a_rank_two_mixture_and_its_rank_is_chosen_by_inner_loo():
    a, _ = _mixture()
    for k in range(len(C)):
        keep = [i for i in range(len(C)) if i != k]
        rank, scores = low_rank_rank(C[keep], a[keep], inside=0 < k < len(C) - 1)
        assert rank == 2, scores
        assert scores[1] > 1e3 * scores[2]
        np.testing.assert_allclose(_leave_out("low_rank", a, k), a[k], rtol=0, atol=1e-10)
    assert np.abs(predict("low_rank", C, a, [0.6], low_rank_rank=1) - a[2:3]).max() > 1e-3


def test_a_fixed_rank_beyond_the_training_spectra_is_refused():
    with pytest.raises(ZetalabError, match="low_rank_rank = 6 exceeds the 5 training spectra"):
        predict("low_rank", C[:5], _lines()[:5], [0.4], low_rank_rank=6)


def test_the_strongest_baseline_is_chosen_on_the_training_spectra_only():
    """A cubic in c: the spline is exact on the inner leave-one-out, linear is not. Whatever the
    held-out spectrum is (here garbage), the choice is the same, since it never sees it."""
    a = np.stack([1.0 - 2.0 * C + 0.5 * C**2 + 3.0 * C**3, C**3], axis=1)
    keep = [0, 1, 3, 4, 5]
    chosen, scores = select_strongest(C[keep], a[keep], inside=True)
    assert chosen in ("cubic_spline", "low_rank") and scores["linear"] > 1e-4
    assert scores[chosen] < 1e-20
    chosen_end, _ = select_strongest(C[keep], a[keep], inside=False)
    assert chosen_end in ("cubic_spline", "low_rank")


@pytest.mark.parametrize(
    "section, message",
    [
        ({"validation": {"low_rank_rank": 5}}, "spectral.validation.low_rank_rank = 5 exceeds"),
        ({"data": {"noise": -0.01}}, "spectral.data.noise"),
        ({"data": {"noise_intensity": -1e-4}}, "spectral.data.noise_intensity"),
        ({"data": {"drift": -1e-3}}, "spectral.data.drift"),
        ({"train": {"patience": 0}}, "spectral.train.patience"),
        ({"train": {"patience": 5, "lr_patience": 6}}, "spectral.train.patience = 5 is below"),
    ],
)
def test_bad_rank_noise_and_patience_are_config_errors_naming_the_key(section, message):
    from zetalab.spectral.plan import check_settings

    with pytest.raises(ZetalabError, match=message.replace(".", r"\.")):
        check_settings(SpectralConfig.load(section).to_dict())


@pytest.mark.parametrize("regime", REGIMES)
def test_the_physics_form_fit_recovers_noise_free_spectra_of_its_regime(regime):
    """The reference knows the form: on noise-free spectra it predicts a left-out one to
    rounding (jittered band positions and constants included), inside and beyond the range."""
    from zetalab.spectral.physics import physics_fit

    cfg = SpectralConfig.load({"data": {"regime": regime, "noise": 0.0, "noise_intensity": 0.0}})
    d = synthetic_spectra(cfg.data, 0, CPU, torch.float64)
    c, a, w = d.concentrations.numpy(), d.spectra.numpy(), d.wavelengths.numpy()
    for k in (0, 2, 5):
        keep = [i for i in range(len(c)) if i != k]
        pred = physics_fit(regime, c[keep], a[keep], w, c[k : k + 1])[0]
        assert float(np.mean((pred - a[k]) ** 2)) < 1e-14


def test_low_rank_uses_the_interpolation_rank_inside_and_the_extrapolation_rank_beyond():
    """One query batch mixing both kinds: each query gets the rank its own kind's inner
    leave-one-out chose (here 3 inside, 2 beyond), as if it were asked alone."""
    from zetalab.spectral.baselines import low_rank, low_rank_fit, low_rank_rank

    c = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.1])
    w = np.linspace(0, 1, 40)
    components = np.stack([np.exp(-(((w - m) / 0.1) ** 2)) for m in (0.3, 0.6, 0.8)])
    amounts = np.stack([c, c**2, np.sin(3 * c)], 1)
    a = amounts @ components + 0.01 * np.random.default_rng(41).standard_normal((6, 40))
    inside, beyond = low_rank_rank(c, a, True)[0], low_rank_rank(c, a, False)[0]
    assert (inside, beyond) == (3, 2)
    query = np.array([0.4, 1.3, 0.8, 0.05])
    got = low_rank(c, a, query)
    for q, value in enumerate(query):
        rank = inside if c[0] <= value <= c[-1] else beyond
        np.testing.assert_allclose(got[q], low_rank_fit(c, a, query[q : q + 1], rank)[0])
