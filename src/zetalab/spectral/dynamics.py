"""Right-hand sides of the ODEs as modules (torchdiffeq style: ``forward(t, y)``).

The wavelength indices of the rows are context, set once per solve with ``set_context``; the
embeddings are looked up inside ``forward`` so that odeint_adjoint, which only sees the
module's parameters, still trains them.
"""

from __future__ import annotations

import torch
from torch import nn

from zetalab.spectral.christoffel import Metric, christoffel


class GeodesicDynamics(nn.Module):
    """State [c, v] (B, 2): c' = v, v' = -Gamma(c, lambda) v^2, the 1-D geodesic equation."""

    def __init__(self, metric: Metric, method: str = "fd", fd_eps: float = 1e-3):
        super().__init__()
        self.metric = metric
        self.method = method
        self.fd_eps = fd_eps
        self.idx: torch.Tensor | None = None

    def set_context(self, idx: torch.Tensor) -> GeodesicDynamics:
        self.idx = idx
        return self

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        c, v = y[:, 0], y[:, 1]
        gamma = christoffel(self.metric, c, self.idx, self.method, self.fd_eps)
        return torch.stack([v, -gamma * v * v], dim=1)


class SpectralFlowNet(nn.Module):
    """The seed's deliberately tiny flow network, (3 + embedding_dim) -> hidden -> 1 (11->16->1)."""

    def __init__(self, n_wavelengths: int, embedding_dim: int, hidden: int, position: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(n_wavelengths, embedding_dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.position = position
        self.scale = 2.0 / max(n_wavelengths - 1, 1)
        extra = 4 if position else 3
        self.net = nn.Sequential(
            nn.Linear(extra + embedding_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )

    def forward(self, c, v, a, idx) -> torch.Tensor:
        e = self.embedding(idx).to(c.dtype)
        parts = [c[:, None], v[:, None], a[:, None], e]
        if self.position:
            parts.append((idx.to(c.dtype) * self.scale - 1.0)[:, None])
        return self.net(torch.cat(parts, dim=1)).squeeze(1)


class CoupledDynamics(nn.Module):
    """State [c, v, B] (B, 3): the geodesic plus dB/ds = v * f(c, v, B, e(lambda)).

    B = A / c is the apparent absorptivity (the model reads A = c B at the end, so c = 0 maps
    to A = 0). The factor v makes the spectrum move only when the concentration does (B is
    unchanged on the trivial path c_a = c_b) and makes the change independent of how the path
    is timed: dB = f dc.
    """

    def __init__(self, metric: Metric, flow: SpectralFlowNet, method: str, fd_eps: float):
        super().__init__()
        self.geodesic = GeodesicDynamics(metric, method, fd_eps)
        self.flow = flow

    def set_context(self, idx: torch.Tensor) -> CoupledDynamics:
        self.geodesic.set_context(idx)
        return self

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        c, v, a = y[:, 0], y[:, 1], y[:, 2]
        dc_dv = self.geodesic(t, y[:, :2])
        da = v * self.flow(c, v, a, self.geodesic.idx).to(y.dtype)
        return torch.cat([dc_dv, da[:, None]], dim=1)
