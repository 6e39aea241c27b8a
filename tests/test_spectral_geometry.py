"""Study S geometry: Christoffel symbols and shooting against closed forms."""

from __future__ import annotations

import pytest
import torch

from zetalab.spectral.christoffel import (
    christoffel_autograd,
    christoffel_fd,
    compare_christoffel,
)
from zetalab.spectral.dynamics import GeodesicDynamics
from zetalab.spectral.integrate import rk4_fixed
from zetalab.spectral.metric import ExponentialMetric, MetricNet, SquareMetric
from zetalab.spectral.shooting import ShootingMonitor, shoot

F64 = torch.float64


def _idx(n: int) -> torch.Tensor:
    return torch.zeros(n, dtype=torch.long)


@pytest.mark.parametrize("a", [-1.5, 0.4, 2.0])
def test_christoffel_of_exponential_metric_is_a(a):
    metric = ExponentialMetric(a)
    c = torch.linspace(-1.0, 2.0, 31, dtype=F64)
    expected = torch.full_like(c, a)
    torch.testing.assert_close(
        christoffel_fd(metric, c, _idx(31), 1e-4), expected, atol=0, rtol=1e-6
    )
    torch.testing.assert_close(
        christoffel_autograd(metric, c, _idx(31)), expected, atol=1e-12, rtol=0
    )


def test_christoffel_of_square_metric_is_one_over_c():
    metric = SquareMetric()
    c = torch.linspace(0.2, 3.0, 29, dtype=F64)
    torch.testing.assert_close(christoffel_fd(metric, c, _idx(29), 1e-4), 1 / c, rtol=1e-7, atol=0)
    torch.testing.assert_close(christoffel_autograd(metric, c, _idx(29)), 1 / c, rtol=1e-12, atol=0)


def test_fd_and_autograd_agree_on_the_metric_network():
    torch.manual_seed(0)
    net = MetricNet(n_wavelengths=7, embedding_dim=4, hidden=8, floor=1e-3).double()
    c = torch.linspace(0.1, 1.1, 7, dtype=F64).repeat(7)
    idx = torch.arange(7).repeat_interleave(7)
    gap = compare_christoffel(net, c, idx, eps_rel=1e-5)
    assert gap["max_abs_gamma"] > 1e-3  # a non-trivial metric
    assert gap["max_rel_diff"] < 1e-6
    assert (net(c, idx) > 0).all()


@pytest.mark.parametrize("a", [0.7, -1.2])
def test_shooting_reaches_target_and_follows_the_analytic_geodesic(a):
    metric = ExponentialMetric(a)
    c_a = torch.tensor([0.1, 0.5, 1.1, 0.3, 0.9], dtype=F64)
    c_b = torch.tensor([1.1, 0.2, 0.1, 0.3, 0.7], dtype=F64)
    result = shoot(metric, c_a, c_b, _idx(5), newton_steps=4, steps=64)
    assert result.residual.abs().max() < 1e-5
    torch.testing.assert_close(result.v0, metric.initial_velocity(c_a, c_b), atol=0, rtol=1e-5)
    # halfway along, the integrated path matches c(s) = log(A s + B) / a
    half = rk4_fixed(
        GeodesicDynamics(metric).set_context(_idx(5)), torch.stack([c_a, result.v0], 1), 32
    )
    s = torch.tensor(1.0, dtype=F64)
    torch.testing.assert_close(half[:, 0], metric.geodesic(c_a, c_b, s), atol=1e-6, rtol=0)
    mid = rk4_fixed(
        GeodesicDynamics(metric).set_context(_idx(5)),
        torch.stack(
            [c_a, 0.5 * result.v0], 1
        ),  # c(s/2 scale): half speed over [0,1] = s in [0, .5]
        32,
    )
    torch.testing.assert_close(
        mid[:, 0], metric.geodesic(c_a, c_b, torch.tensor(0.5, dtype=F64)), atol=1e-6, rtol=0
    )


def test_shooting_on_square_metric():
    metric = SquareMetric()
    c_a = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    c_b = torch.tensor([1.5, 0.6, 2.5], dtype=F64)
    result = shoot(metric, c_a, c_b, _idx(3), newton_steps=4, steps=64, christoffel="autograd")
    assert result.residual.abs().max() < 1e-5
    torch.testing.assert_close(result.v0, (c_b**2 - c_a**2) / (2 * c_a), atol=0, rtol=1e-5)


def test_a_missed_shooting_target_is_counted_with_its_residual(caplog):
    metric = ExponentialMetric(1.0)  # curved; no Newton steps and two rk4 steps cannot hit it
    c_a = torch.tensor([0.0, 0.0, 0.5], dtype=F64)
    c_b = torch.tensor([1.0, 0.0, 0.5], dtype=F64)
    result = shoot(metric, c_a, c_b, _idx(3), newton_steps=0, steps=2, quad_points=2)
    miss = float(result.residual.abs().max())
    assert 1e-3 < miss < 1.0
    monitor = ShootingMonitor(tol=1e-5)
    monitor.add(result.residual)
    monitor.add(torch.tensor([float("nan"), 0.0], dtype=F64))  # a blown-up solve also counts
    with caplog.at_level("WARNING"):
        counts = monitor.flush("test")
    assert counts == {"missed": 2, "solves": 5, "worst_residual": float("inf")}
    assert "2 of 5 geodesic solves missed" in caplog.text
    assert monitor.summary()["missed"] == 2
