"""The geodesic-coupled spectral neural ODE (seed cell 7).

To carry the spectrum value A(c_a, lambda) to concentration c_b: shoot the geodesic of g(., lambda)
from c_a to c_b for v(0), then integrate the coupled state [c, v, B] from s = 0 to 1 and read
A(c_b) = c_b B(1). One row of the flat batch is one (transition, wavelength) sample.

B = A / c is the apparent absorptivity, the quantity a chemist plots against c: the ODE carries
it, B(0) = A(c_a) / c_a, and the absorbance is c times it. So c = 0 gives A = 0 exactly, by
construction and whatever the networks learn (no solution absorbs at zero concentration), and
Beer-Lambert, B constant, is the flow f = 0. Concentrations must be positive to start from
(``data.check_spectra`` refuses c <= 0; ``infer`` refuses negative ones).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from zetalab.spectral.config import ModelConfig, ShootingConfig, SolverConfig, SpectralConfig
from zetalab.spectral.device import torch_dtype
from zetalab.spectral.dynamics import CoupledDynamics, SpectralFlowNet
from zetalab.spectral.integrate import solve
from zetalab.spectral.metric import MetricNet
from zetalab.spectral.shooting import row_order, shoot


def to_absorptivity(a: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """B = A / c, the ODE's third state (c > 0: the start is always a measured spectrum)."""
    return a / c


def to_absorbance(b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """A = c B: zero at c = 0 exactly, whatever B the flow produced."""
    return c * b


class GeodesicSpectralNODE(nn.Module):
    def __init__(
        self,
        n_wavelengths: int,
        model: ModelConfig,
        solver: SolverConfig,
        shooting: ShootingConfig,
    ):
        super().__init__()
        self.n_wavelengths = n_wavelengths
        self.solver_cfg = solver
        self.shooting_cfg = shooting
        self.metric = MetricNet(
            n_wavelengths, model.embedding_dim, model.metric_hidden, model.metric_floor
        )
        self.flow = SpectralFlowNet(
            n_wavelengths, model.embedding_dim, model.flow_hidden, model.wavelength_position
        )
        self.dynamics = CoupledDynamics(self.metric, self.flow, solver.christoffel, solver.fd_eps)
        self.ode_solves = 0  # trajectories integrated, for the throughput figures

    def shoot(self, c_from: torch.Tensor, c_to: torch.Tensor, idx: torch.Tensor):
        cfg = self.shooting_cfg
        differentiable = torch.is_grad_enabled() and any(
            p.requires_grad for p in self.metric.parameters()
        )
        result = shoot(
            self.metric,
            c_from,
            c_to,
            idx,
            newton_steps=cfg.newton_steps,
            steps=cfg.steps,
            quad_points=cfg.quad_points,
            christoffel=self.solver_cfg.christoffel,
            fd_eps=self.solver_cfg.fd_eps,
            differentiable=differentiable,
            max_steps=cfg.max_steps,
            tol=cfg.tol,
        )
        self.ode_solves += c_from.numel() * (cfg.newton_steps + 1)
        return result

    def forward(
        self, c_from: torch.Tensor, c_to: torch.Tensor, a_from: torch.Tensor, idx: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted A(c_to) per row, and c(1) - c_to of the path the spectrum travelled."""
        shot = self.shoot(c_from, c_to, idx)
        y0 = torch.stack([c_from, shot.v0, to_absorptivity(a_from.to(c_from.dtype), c_from)], 1)
        y1 = self._follow(y0, idx, shot.steps)
        self.ode_solves += c_from.numel()
        return to_absorbance(y1[:, 2], c_to), y1[:, 0] - c_to

    def _follow(self, y0: torch.Tensor, idx: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        """The coupled ODE of every row; a row whose path needed a finer rk4 grid follows it on
        that grid too (rows grouped by grid, results put back in row order)."""
        solver = self.solver_cfg
        if solver.method != "rk4":  # adaptive: no grid to follow
            return solve(self.dynamics.set_context(idx), y0, solver)
        levels = torch.unique(steps).tolist()
        if len(levels) == 1:
            on_grid = dataclasses.replace(solver, steps=max(solver.steps, int(levels[0])))
            return solve(self.dynamics.set_context(idx), y0, on_grid)
        groups = [torch.nonzero(steps == level).squeeze(1) for level in levels]
        parts = [
            solve(
                self.dynamics.set_context(idx[rows]),
                y0[rows],
                dataclasses.replace(solver, steps=max(solver.steps, int(level))),
            )
            for rows, level in zip(groups, levels, strict=True)
        ]
        return torch.cat(parts)[row_order(groups)]

    @torch.no_grad()
    def predict_spectrum(self, c_from: float, c_to: float, spectrum: torch.Tensor) -> torch.Tensor:
        """A full spectrum (W,) carried from c_from to c_to, all wavelengths in one batch."""
        idx = torch.arange(self.n_wavelengths, device=spectrum.device)
        c_a = torch.full_like(spectrum, c_from)
        c_b = torch.full_like(spectrum, c_to)
        return self(c_a, c_b, spectrum, idx)[0]


def build_model(
    cfg: SpectralConfig, n_wavelengths: int, device: torch.device
) -> GeodesicSpectralNODE:
    """A model with the config's architecture and solvers, in its dtype on `device`."""
    model = GeodesicSpectralNODE(n_wavelengths, cfg.model, cfg.solver, cfg.shooting)
    return model.to(device, torch_dtype(cfg.dtype))
