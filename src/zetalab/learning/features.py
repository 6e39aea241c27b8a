"""Node features: what a model may see about zero n without seeing hidden zeros.

Columns: the observed δ (0 where hidden), the observed flag, a position encoding, and prime
waves sin(t₀ log p)/√p, cos(t₀ log p)/√p at the smooth height t₀ = N0⁻¹(n − ½). The waves are
the terms of the explicit formula for S(t) ≈ −δ, so a model can learn amplitudes for them
instead of rediscovering oscillations from raw indices.
"""

from __future__ import annotations

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.learning.graph import first_primes, validate_primes

DYNAMIC_COLUMNS = 2  # observed δ and observed flag change every epoch; the rest are static


def wave_primes(setting: str | int | list[int], graph_primes: list[int]) -> list[int]:
    """Resolve model.wave_primes: "graph" (the graph's primes), K (first K primes) or a list."""
    if setting == "graph":
        return sorted(int(p) for p in graph_primes)
    if isinstance(setting, int) and not isinstance(setting, bool):
        if setting < 0:
            raise ZetalabError(
                f"model.wave_primes = {setting} is negative", "use a count ≥ 0, a list or 'graph'"
            )
        return first_primes(setting)
    if isinstance(setting, list):
        return validate_primes(setting, where="model.wave_primes")
    raise ZetalabError(
        f"model.wave_primes = {setting!r} is not understood",
        "use 'graph', a count K (the first K primes) or a list of primes",
    )


def static_features(smooth_heights: np.ndarray, primes: list[int]) -> np.ndarray:
    """Position encoding and prime waves, (M, 1 + 2·len(primes)) float32."""
    t0 = np.asarray(smooth_heights, dtype=np.float64)
    m = len(t0)
    # Position in [-1, 1] over the nodes: lets a model separate the low, sparse zeros from
    # the high ones without a scale that grows with N.
    pos = (2.0 * (np.arange(m, dtype=np.float64) + 0.5) / m - 1.0)[:, None]
    cols = [pos]
    if primes:
        logp = np.log(np.asarray(primes, dtype=np.float64))
        phase = t0[:, None] * logp[None, :]
        amp = 1.0 / np.sqrt(np.asarray(primes, dtype=np.float64))
        cols += [np.sin(phase) * amp, np.cos(phase) * amp]
    return np.concatenate(cols, axis=1).astype(np.float32)


def num_features(num_wave_primes: int) -> int:
    return DYNAMIC_COLUMNS + 1 + 2 * num_wave_primes


def assemble(static: np.ndarray, delta: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Full feature matrix for given nodes: [δ·observed, observed, static...]."""
    obs = np.asarray(observed, dtype=bool)
    dyn = np.stack([np.where(obs, delta, 0.0), obs.astype(np.float64)], axis=1)
    return np.concatenate([dyn.astype(np.float32), static], axis=1)
