"""ODE integration: a branch-free fixed-step rk4 and the torchdiffeq front end (seed cell 7).

``rk4_fixed`` is torchdiffeq's "rk4" (Kutta's 3/8 rule) written as a plain loop over a fixed
grid: no step-size control, no data-dependent branches, so one call integrates millions of
independent trajectories in lock step and can be traced and exported unrolled. ``solve`` goes
through torchdiffeq (rk4 on the same grid, or adaptive dopri5; optionally the adjoint).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torchdiffeq import odeint, odeint_adjoint

from zetalab.errors import ZetalabError
from zetalab.spectral.config import SolverConfig

Dynamics = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def time_grid(steps: int, like: torch.Tensor) -> torch.Tensor:
    return torch.linspace(0.0, 1.0, steps + 1, device=like.device, dtype=like.dtype)


def rk4_fixed(func: Dynamics, y0: torch.Tensor, steps: int) -> torch.Tensor:
    """y(1) for y' = func(t, y), y(0) = y0, with `steps` 3/8-rule steps on [0, 1]."""
    grid = time_grid(steps, y0)
    y = y0
    for k in range(steps):
        t0, t1 = grid[k], grid[k + 1]
        dt = t1 - t0
        k1 = func(t0, y)
        k2 = func(t0 + dt / 3.0, y + dt * k1 / 3.0)
        k3 = func(t0 + dt * 2.0 / 3.0, y + dt * (k2 - k1 / 3.0))
        k4 = func(t1, y + dt * (k1 - k2 + k3))
        y = y + (k1 + 3.0 * (k2 + k3) + k4) * dt * 0.125
    return y


def solve(func: nn.Module, y0: torch.Tensor, cfg: SolverConfig) -> torch.Tensor:
    """y(1) by torchdiffeq with the configured method; the adjoint when cfg.adjoint is set."""
    if cfg.method == "rk4":
        t = time_grid(cfg.steps, y0)
        kwargs: dict = {"method": "rk4"}
    else:
        t = time_grid(1, y0)
        kwargs = {
            "method": "dopri5",
            "rtol": cfg.rtol,
            "atol": cfg.atol,
            "options": {"max_num_steps": cfg.max_steps},
        }
    integrator = odeint_adjoint if cfg.adjoint else odeint
    try:
        return integrator(func, y0, t, **kwargs)[-1]
    except AssertionError as exc:
        if "max_num_steps" not in str(exc):
            raise
        raise ZetalabError(
            f"dopri5 needed more than spectral.solver.max_steps = {cfg.max_steps} steps ({exc})",
            "raise spectral.solver.max_steps, loosen rtol/atol, or use method: rk4",
        ) from exc
