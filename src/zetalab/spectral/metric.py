"""The metric g(c, lambda) > 0 (seed cell 4), and closed-form metrics to check the geometry.

Every metric is a callable ``metric(c, idx) -> g`` on flat batches: ``c`` (B,) concentrations,
``idx`` (B,) wavelength indices. Rows never interact (no batch statistics), which is what lets
one batched solve stand for B independent one-dimensional geodesic problems.
"""

from __future__ import annotations

import torch
from torch import nn


class MetricNet(nn.Module):
    """g(c, lambda) = softplus(MLP([c, e(lambda)])) + floor, with a learned wavelength embedding.

    Tanh hidden layers keep g smooth in c: the Christoffel symbol differentiates g once and the
    shooting Jacobian uses g itself, so a kinked activation (ReLU) would make Gamma jump.
    """

    def __init__(self, n_wavelengths: int, embedding_dim: int, hidden: int, floor: float):
        super().__init__()
        self.embedding = nn.Embedding(n_wavelengths, embedding_dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.net = nn.Sequential(
            nn.Linear(1 + embedding_dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )
        self.softplus = nn.Softplus()
        self.floor = floor

    def forward(self, c: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        features = torch.cat([c.unsqueeze(-1), self.embedding(idx).to(c.dtype)], dim=-1)
        return self.softplus(self.net(features).squeeze(-1)) + self.floor


class ExponentialMetric(nn.Module):
    """g = exp(2 a c): Gamma = a, geodesics c(s) = log(A s + B) / a (checks only)."""

    def __init__(self, a: float):
        super().__init__()
        self.a = a

    def forward(self, c: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return torch.exp(2.0 * self.a * c)

    def geodesic(self, c_a: torch.Tensor, c_b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        start = torch.exp(self.a * c_a)
        slope = torch.exp(self.a * c_b) - start
        return torch.log(slope * s + start) / self.a

    def initial_velocity(self, c_a: torch.Tensor, c_b: torch.Tensor) -> torch.Tensor:
        return (torch.exp(self.a * (c_b - c_a)) - 1.0) / self.a


class SquareMetric(nn.Module):
    """g = c^2 (c > 0): Gamma = 1/c, geodesics c(s) = sqrt(c_a^2 + s (c_b^2 - c_a^2))."""

    def forward(self, c: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return c * c

    def geodesic(self, c_a: torch.Tensor, c_b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(c_a**2 + s * (c_b**2 - c_a**2))
