"""Christoffel symbols of a one-dimensional metric, Gamma = 1/2 g^-1 dg/dc (seed cell 5).

Two ways, checked against each other: central finite differences (the seed's way: the three
points c - h, c, c + h go through the metric in one stacked forward pass, and no autograd is
needed, so the result can be traced and exported) and autograd (exact up to rounding).
Both always run in full precision: under float16 autocast the difference g(c+h) - g(c-h) would
keep only about three significant digits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def full_precision(device_type: str) -> contextlib.AbstractContextManager:
    """Switch autocast off inside the geometry, and only when it is on (keeps traces clean)."""
    if torch.is_autocast_enabled(device_type):
        return torch.autocast(device_type=device_type, enabled=False)
    return contextlib.nullcontext()


def fd_step(c: torch.Tensor, eps_rel: float) -> torch.Tensor:
    """Step scaled with the concentration, so large and small c get the same relative error."""
    return eps_rel * torch.clamp(c.abs(), min=1.0)


def christoffel_fd(metric: Metric, c: torch.Tensor, idx: torch.Tensor, eps_rel: float = 1e-3):
    """Central difference Gamma = (g(c+h) - g(c-h)) / (4 h g(c)), one metric call for all three."""
    with full_precision(c.device.type):
        h = fd_step(c, eps_rel)
        g = metric(torch.cat([c - h, c, c + h]), idx.repeat(3)).to(c.dtype)
        g_minus, g_centre, g_plus = g.chunk(3)
        return (g_plus - g_minus) / (4.0 * h * g_centre)


def christoffel_autograd(metric: Metric, c: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Gamma from dg/dc by autograd; keeps the graph when gradients are being taken around it.

    Rows are independent, so the gradient of sum(g) with respect to c is the elementwise dg/dc.
    """
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad(), full_precision(c.device.type):
        # Without grad mode (e.g. odeint_adjoint's forward pass) a c that requires grad may be
        # a view made under no_grad, outside any graph: differentiate a detached copy instead.
        x = c if c.requires_grad and create_graph else c.detach().requires_grad_(True)
        g = metric(x, idx).to(c.dtype)
        (dg,) = torch.autograd.grad(g.sum(), x, create_graph=create_graph)
    gamma = 0.5 * dg / g
    return gamma if create_graph else gamma.detach()


def christoffel(
    metric: Metric, c: torch.Tensor, idx: torch.Tensor, method: str, eps_rel: float
) -> torch.Tensor:
    if method == "fd":
        return christoffel_fd(metric, c, idx, eps_rel)
    if method == "autograd":
        return christoffel_autograd(metric, c, idx)
    raise ValueError(f"unknown Christoffel method {method!r}")


def compare_christoffel(
    metric: Metric, c: torch.Tensor, idx: torch.Tensor, eps_rel: float = 1e-3
) -> dict[str, float]:
    """Largest absolute and relative gap between the two ways, for the logs and outputs."""
    with torch.no_grad():
        fd = christoffel_fd(metric, c, idx, eps_rel)
    exact = christoffel_autograd(metric, c, idx).detach()
    gap = (fd - exact).abs()
    scale = exact.abs().clamp(min=1e-3)
    return {
        "max_abs_diff": float(gap.max()),
        "max_rel_diff": float((gap / scale).max()),
        "max_abs_gamma": float(exact.abs().max()),
        "points": int(c.numel()),
    }
