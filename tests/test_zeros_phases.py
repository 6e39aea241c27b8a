"""Fast frame phases equal the Arb ones to float64 accuracy at every height the engine uses."""

from __future__ import annotations

import flint
import numpy as np
import pytest

from zetalab.zeros.flint_backend import _rough_height
from zetalab.zeros.frame import theta_arb
from zetalab.zeros.phases import phases


def _arb_phases(t0: float, n: np.ndarray) -> np.ndarray:
    two_pi = 2 * flint.arb.pi()
    th0 = theta_arb(t0)
    out = []
    for k in n.tolist():
        x = th0 - flint.arb(t0) * flint.arb(k).log()
        out.append(float(x - two_pi * (x / two_pi).floor()))
    return np.array(out)


@pytest.mark.parametrize("index", [10_000, 100_000_000, 1_000_000_000_000, 10_000_000_000_000])
def test_fast_phases_match_arb(index):
    old = flint.ctx.prec
    flint.ctx.prec = 128
    try:
        t0 = float(_rough_height(index))
        m = int(np.sqrt(t0 / (2 * np.pi))) + 2
        fast = phases(t0, theta_arb(t0), m)
        n = np.unique(np.concatenate((np.arange(1, min(m, 3000) + 1), np.linspace(1, m, 500))))
        n = n.astype(np.int64)
        diff = np.abs(fast[n - 1] - _arb_phases(t0, n))
    finally:
        flint.ctx.prec = old
    diff = np.minimum(diff, np.abs(diff - 2 * np.pi))
    assert diff.max() < 2e-15  # one or two ulps of a number below 2π
    assert fast.shape == (m,) and np.all((fast >= 0) & (fast < 2 * np.pi + 1e-15))


def test_fast_phases_refuse_heights_beyond_their_exactness():
    with pytest.raises(ValueError, match="t0·log m < 2"):
        phases(1e17, flint.arb(0), 10**8)
