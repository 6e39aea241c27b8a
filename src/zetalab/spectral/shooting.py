"""Batched shooting for boundary-value geodesics c(0) = c_a, c(1) = c_b (seed cell 6).

Every row is its own 1-D problem; all are solved at once with a fixed number of Newton steps
on v(0) (no early stop, so the loop unrolls for export). Only the optional refinement of rows
that missed (training and validation) branches on the data, and it never lets one row's grid
depend on another's. Two facts of one-dimensional geometry make it cheap and robust:

- speed is conserved, sqrt(g(c)) c' = const, so the arc length L = int sqrt(g) dc gives the
  first guess v(0) = L / sqrt(g(c_a)) (trapezoid rule);
- for the exact flow d c(1) / d v(0) = sqrt(g(c_a) / g(c(1))), the Newton slope, so no
  variational equations or second derivatives of g are integrated.

The discrete rk4 map differs from the exact flow by O(h^4), so Newton converges linearly with a
tiny rate. Rows that still miss the target by more than the tolerance are counted and reported
by the caller (``ShootingMonitor``), never dropped silently.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging

import torch

from zetalab.spectral.christoffel import Metric, full_precision
from zetalab.spectral.dynamics import GeodesicDynamics
from zetalab.spectral.integrate import rk4_fixed

log = logging.getLogger(__name__)


@dataclasses.dataclass
class ShootingResult:
    v0: torch.Tensor
    residual: torch.Tensor  # c(1) - c_b, per row
    steps: torch.Tensor  # per row: the rk4 steps its solve ended with (more when it refined)


def arc_length_guess(metric: Metric, c_a, c_b, idx, points: int) -> torch.Tensor:
    """v(0) of the exact geodesic, with the arc length by the trapezoid rule (one metric call)."""
    s = torch.linspace(0.0, 1.0, points, device=c_a.device, dtype=c_a.dtype)
    nodes = c_a[None, :] + s[:, None] * (c_b - c_a)[None, :]  # (points, B)
    root_g = torch.sqrt(metric(nodes.reshape(-1), idx.repeat(points)).to(c_a.dtype))
    root_g = root_g.reshape(points, -1)
    mean = (root_g[1:] + root_g[:-1]).sum(dim=0) / (2.0 * (points - 1))
    return mean * (c_b - c_a) / root_g[0]


def _endpoint(dyn: GeodesicDynamics, c_a, v0, steps: int) -> torch.Tensor:
    return rk4_fixed(dyn, torch.stack([c_a, v0], dim=1), steps)[:, 0]


def newton_factor(metric: Metric, c_a, idx, c1) -> torch.Tensor:
    """1 / (d c(1) / d v(0)) of the exact flow, sqrt(g(c1) / g(c_a)): one metric call."""
    g = metric(torch.cat([c_a, c1]), idx.repeat(2)).to(c_a.dtype)
    g_a, g_1 = g.chunk(2)
    return torch.sqrt(g_1 / g_a)


def newton_update(metric: Metric, c_a, c_b, idx, v0, c1) -> torch.Tensor:
    """One Newton step on v(0) with the exact-flow slope sqrt(g(c_a) / g(c1))."""
    return v0 - (c1 - c_b) * newton_factor(metric, c_a, idx, c1)


def shoot(
    metric: Metric,
    c_a: torch.Tensor,
    c_b: torch.Tensor,
    idx: torch.Tensor,
    *,
    newton_steps: int,
    steps: int,
    quad_points: int = 8,
    christoffel: str = "fd",
    fd_eps: float = 1e-3,
    differentiable: bool = False,
    max_steps: int | None = None,
    tol: float = 1e-4,
) -> ShootingResult:
    """Solve all rows' boundary-value geodesics; returns v(0) and the residual c(1) - c_b.

    With ``differentiable`` the Newton iterations run without a graph and one last Newton step
    is taken with it and a frozen slope: at the solution its derivative with respect to the
    metric's parameters is exactly the implicit-function gradient dv0/dtheta = -(dc1/dtheta) /
    (dc1/dv0), at the cost of one extra integration instead of backpropagating every step.

    With ``max_steps`` (training and validation; never in the exported, traced model) a row
    whose endpoint is not finite or misses c_b by more than ``tol`` is solved again with twice
    the rk4 steps, up to ``max_steps``: a strongly curved metric makes a coarse rk4 grid
    overshoot and blow up (Gamma = 2 over dc = 1 misses by 1e6 with 6 steps). Only the rows that
    missed are solved again, so a row's result never depends on the batch it shares (refining
    the whole batch for its worst row made band-shift epochs 20x slower as the metric curved).
    What still misses at ``max_steps`` is returned as is, for the monitor to report.
    """
    dyn = GeodesicDynamics(metric, christoffel, fd_eps)
    rows = torch.arange(c_a.shape[0], device=c_a.device)
    a, b, i = c_a, c_b, idx
    current = steps
    parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]] = []
    while True:
        dyn.set_context(i)
        with (
            torch.no_grad() if differentiable else contextlib.nullcontext(),
            full_precision(c_a.device.type),
        ):
            v0 = arc_length_guess(metric, a, b, i, quad_points)
            for _ in range(newton_steps):
                v0 = newton_update(metric, a, b, i, v0, _endpoint(dyn, a, v0, current))
        with full_precision(c_a.device.type):
            c1 = _endpoint(dyn, a, v0, current)  # with the graph when differentiable
        missed = None if max_steps is None or current >= max_steps else missed_target(c1, b, tol)
        if missed is None or not bool(missed.any()):
            parts.append((rows, v0, c1, current))
            break
        parts.append((rows[~missed], v0[~missed], c1[~missed], current))
        rows = rows[missed]
        a, b, i = c_a[rows], c_b[rows], idx[rows]
        current = min(2 * current, max_steps)
        log.debug("shooting: %d rows missed; solving them with %d rk4 steps", rows.numel(), current)
    if len(parts) == 1:
        v0, c1, row_steps = parts[0][1], parts[0][2], torch.full_like(rows, current)
    else:  # one permutation for all three
        where = row_order([p[0] for p in parts])
        v0 = torch.cat([p[1] for p in parts])[where]
        c1 = torch.cat([p[2] for p in parts])[where]
        row_steps = torch.cat([torch.full_like(p[0], p[3]) for p in parts])[where]
    if differentiable:
        with torch.no_grad(), full_precision(c_a.device.type):
            factor = newton_factor(metric, c_a, idx, c1)
        v0 = v0 - (c1 - c_b) * factor
        residual = (c1 - c_b).detach()
    else:
        residual = c1 - c_b
    return ShootingResult(v0=v0, residual=residual, steps=row_steps)


def missed_target(c1: torch.Tensor, c_b: torch.Tensor, tol: float) -> torch.Tensor:
    """Per row: |c(1) - c_b| above tol, or not finite."""
    miss = (c1 - c_b).detach().abs()
    return ~(miss <= tol)  # NaN compares False, so it counts as missed


def row_order(groups: list[torch.Tensor]) -> torch.Tensor:
    """The index that puts values computed for disjoint groups of a batch's rows, concatenated
    in group order, back in row order (indexing keeps the gradient of each group)."""
    order = torch.cat(groups)
    where = torch.empty_like(order)
    where[order] = torch.arange(order.numel(), device=order.device)
    return where


class ShootingMonitor:
    """Counts rows whose |residual| exceeds the tolerance, without syncing the device per batch.

    ``add`` only queues device-side reductions; ``flush`` reads them once (per epoch) and logs a
    warning with the count and the worst residual when any solve missed.
    """

    def __init__(self, tol: float):
        self.tol = tol
        self._missed: list[torch.Tensor] = []
        self._worst: list[torch.Tensor] = []
        self._total = 0
        self.missed_total = 0
        self.solves_total = 0
        self.worst_residual = 0.0

    def add(self, residual: torch.Tensor) -> None:
        r = residual.detach().abs()
        r = torch.where(torch.isfinite(r), r, torch.full_like(r, float("inf")))  # NaN = missed
        self._missed.append((r > self.tol).sum())
        self._worst.append(r.max())
        self._total += int(r.numel())

    def flush(self, where: str) -> dict[str, float | int]:
        missed = int(torch.stack(self._missed).sum()) if self._missed else 0
        worst = float(torch.stack(self._worst).max()) if self._worst else 0.0
        total = self._total
        self._missed, self._worst, self._total = [], [], 0
        self.missed_total += missed
        self.solves_total += total
        self.worst_residual = max(self.worst_residual, worst)
        if missed:
            log.warning(
                "shooting: %d of %d geodesic solves missed c(1) = c_b by more than tol = %.1e "
                "(%s; worst |c(1) - c_b| = %.3e); raise spectral.shooting.newton_steps or steps",
                missed,
                total,
                self.tol,
                where,
                worst,
            )
        return {"missed": missed, "solves": total, "worst_residual": worst}

    def summary(self) -> dict[str, float | int]:
        return {
            "tol": self.tol,
            "missed": self.missed_total,
            "solves": self.solves_total,
            "worst_residual": self.worst_residual,
        }
