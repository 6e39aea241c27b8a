"""A reference frame for evaluating Z near one height: the per-chunk extended-precision part.

`Frame(t0, t_max)` computes, once per chunk, the phases φ_n = θ(t0) − t0·log n mod 2π for
every n the Riemann–Siegel sum needs up to t_max (log p of the primes in Arb at 128 bits, the
rest in error-free double-double arithmetic, `phases.py`), and θ(t0) itself in Arb (for Gram
points). Everything after that is float64 on offsets h = t − t0.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import flint
import numpy as np

from zetalab.zeros import rs_kernel
from zetalab.zeros.heights import ZeroHeights, delta_theta, from_parts
from zetalab.zeros.phases import phases
from zetalab.zeros.rs_series import remainder_polynomials

ARB_PREC = 128
PARALLEL_MIN_POINTS = 2048
T = TypeVar("T")


def _workers() -> int:
    """Threads for Z evaluation and spreading: ZETALAB_THREADS (the zeros_chunk rule sets it
    to its `threads`), else the CPUs this process may use."""
    env = os.environ.get("ZETALAB_THREADS")
    return max(1, int(env)) if env else max(1, len(os.sched_getaffinity(0)))


@functools.cache
def _pool(size: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="zeta-z")


def split_over_threads(run: Callable[[slice], T], size: int) -> list[T]:
    """run(part) for contiguous slices covering range(size), one per thread: the numba kernels
    release the GIL (nogil=True), so the parts run at once. Below PARALLEL_MIN_POINTS items,
    or with one thread, one call does it all (a thread hand-off costs more than it saves)."""
    threads = _workers()
    if threads == 1 or size < PARALLEL_MIN_POINTS:
        return [run(slice(0, size))]
    edges = np.linspace(0, size, threads + 1).astype(np.int64)
    parts = [slice(int(lo), int(hi)) for lo, hi in itertools.pairwise(edges)]
    return list(_pool(threads).map(run, parts))


def theta_arb(t: float) -> flint.arb:
    """θ(t) = Im log Γ(¼ + it/2) − (t/2)·log π, exact to the working precision."""
    half = flint.arb(t) / 2
    return flint.acb(flint.arb(0.25), half).lgamma().imag - half * flint.arb.pi().log()


class Frame:
    """Evaluates Z, Z′, Z″ at t0 + h for offsets h, counting every evaluation point."""

    def __init__(self, t0: float, t_max: float):
        if not (t0 > 10.0 and t_max >= t0):
            raise ValueError(f"Frame needs 10 < t0 ≤ t_max, got t0={t0}, t_max={t_max}")
        self.t0 = float(t0)
        self.log_t0 = math.log(self.t0 / (2.0 * math.pi))
        m_max = int(math.sqrt(t_max / (2.0 * math.pi))) + 2
        old = flint.ctx.prec
        flint.ctx.prec = ARB_PREC
        try:
            th0 = theta_arb(self.t0)
            pi = flint.arb.pi()
            # log p from Arb for the primes, the rest in double-double (`phases`): 15× faster
            # than an Arb loop over every n (0.9 s a block at n = 10¹²), same float64 values
            phi = phases(self.t0, th0, m_max)
            gram0 = (th0 / pi).floor()
            self.gram0 = int(gram0.unique_fmpz())
            self.theta_excess = float(th0 - gram0 * pi)  # θ(t0) − gram0·π ∈ [0, π)
        finally:
            flint.ctx.prec = old
        self.phi0 = phi
        n = np.arange(1, m_max + 1, dtype=np.float64)
        self.log_n = np.log(n)
        self.amp = 1.0 / np.sqrt(n)
        self.coef, self.lengths = remainder_polynomials()
        self.t_max = float(t_max)
        self.evaluations = 0

    def z(self, h: np.ndarray, derivs: bool = False) -> np.ndarray:
        """Rows (Z, Z′, Z″) at t0 + h (rows 1–2 zero unless derivs)."""
        h = np.ascontiguousarray(h, dtype=np.float64)
        if h.size and (self.t0 + h.max()) > self.t_max * (1 + 1e-12):
            raise ValueError("evaluation beyond the frame's t_max")
        self.evaluations += h.size
        parts = split_over_threads(
            lambda part: rs_kernel.z_eval(
                h[part],
                self.t0,
                self.log_t0,
                self.phi0,
                self.log_n,
                self.amp,
                self.coef,
                self.lengths,
                derivs,
            ),
            h.size,
        )
        return np.concatenate(parts, axis=1)

    def gram_offsets(self, j: np.ndarray) -> np.ndarray:
        """Offsets h_j with θ(t0 + h_j) = j·π (Gram points), by Newton on the reduced equation."""
        # j − gram0 in exact integers: Gram indices beyond 2^53 ≈ 9e15 are not float64 numbers
        rel = np.asarray(j, dtype=np.int64) - np.int64(self.gram0)
        target = rel.astype(np.float64) * math.pi - self.theta_excess
        h = target / (0.5 * self.log_t0)
        for _ in range(50):
            t = self.t0 + h
            step = (delta_theta(self.t0, h) - target) / _theta_d1(t)
            h = h - step
            if np.max(np.abs(step), initial=0.0) < 1e-12 * max(1.0, self.t0):
                break
        return h


def frame_heights(t0: float, h: np.ndarray, first_index: int) -> ZeroHeights:
    """Heights t0 + h kept exact: base ⌊t0⌋ plus (t0 − ⌊t0⌋) + h (one float64 rounding)."""
    base = math.floor(t0)
    offsets = (t0 - base) + np.asarray(h, dtype=np.float64)  # t0 − ⌊t0⌋ is exact
    return from_parts(np.full(len(offsets), base, dtype=np.int64), offsets, first_index)


def _theta_d1(t: np.ndarray) -> np.ndarray:
    inv2 = 1.0 / (t * t)
    return 0.5 * np.log(t / (2.0 * math.pi)) - inv2 * (1.0 / 48.0 + inv2 * (7.0 / 1920.0))
