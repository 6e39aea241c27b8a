"""Study S baselines and data regimes: known functions reproduced, each regime's physics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zetalab.errors import ZetalabError
from zetalab.spectral.baselines import BASELINES, predict
from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import (
    STRAY_LIGHT,
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


@pytest.mark.parametrize("regime", ["beer_lambert", "monomer_dimer", "band_shift", "saturation"])
def test_each_regime_is_seeded_and_carries_the_configured_noise(regime):
    cfg = SpectralConfig.load({"data": {"regime": regime, "noise": 0.01}})
    a = synthetic_spectra(cfg.data, 3, CPU, torch.float64)
    b = synthetic_spectra(cfg.data, 3, CPU, torch.float64)
    torch.testing.assert_close(a.spectra, b.spectra, rtol=0, atol=0)
    quiet = synthetic_spectra(cfg.replace(data={"noise": 0.0}).data, 3, CPU, torch.float64)
    assert float((a.spectra - quiet.spectra).std()) == pytest.approx(0.01, rel=0.1)


def _result(k: int, mse: dict[str, float], kind: str = "interpolation") -> dict:
    scores = {m: {"mse": mse[m], "mae": mse[m], "r2": 0.9, "spectral_angle": 0.1} for m in METHODS}
    return {
        "index": k,
        "concentration": float(C[k]),
        "kind": kind,
        "sources": [float(C[k - 1])],
        "scores": scores,
        "best": min(mse, key=mse.get),
    }


def test_the_verdict_names_the_strongest_baseline_and_who_wins():
    base = {"linear": 4.0, "cubic_spline": 1.0, "pchip": 2.0, "akima": 3.0, "gp": 5.0}
    losing = [_result(1, {"node": 2.0, **base}), _result(2, {"node": 0.5, **base})]
    summary = summarise(losing, "interpolation")
    assert summary["strongest_baseline"] == "cubic_spline"
    assert summary["winner"] == "cubic_spline"
    assert summary["wins"]["node"] == 1
    assert summary["node_to_strongest_mse_ratio"] == pytest.approx(1.25)
    assert "cubic spline wins; the geodesic NODE loses" in summary["verdict"]
    winning = summarise([_result(1, {"node": 0.1, **base})], "interpolation")
    assert winning["winner"] == "node"
    assert "the geodesic NODE beats the strongest baseline, cubic spline" in winning["verdict"]
    table = markdown_table(
        "band_shift",
        {"interpolation": losing, "extrapolation": []},
        {"interpolation": summary, "extrapolation": summarise([], "extrapolation")},
        4e-6,
    )
    assert "## Interpolation" in table and "## Extrapolation" not in table
    assert table.index("| cubic spline ✓") < table.index("| **geodesic NODE**")


def test_every_baseline_is_scored():
    assert set(BASELINES) == {"linear", "cubic_spline", "pchip", "akima", "gp"}
