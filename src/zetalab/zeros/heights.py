"""Zero heights kept exact at any height: an integer reference per block plus float64 offsets.

Why: one float64 height has an ulp of 2^-52·t, 7.5e-9 at t = 4.3e7 (n = 1e8) and 6e-5 at
t = 2.7e11 (n = 1e12), so storing γ_n as one float64 throws away what the engine computed.
Odlyzko's tables store each zero as a decimal offset from a base height; we do the same in
binary: γ = reference + offset, where the reference is an exact integer (int64, one per block
of at most BLOCK zeros) and the offset a float64 in [0, block width). A block of 65,536 zeros
spans less than ~1e5 in t at every height, so rounding an offset costs at most 2^-53·1e5 ≈ 1e-11.

Everything that needs full accuracy (unfolding, decimal export, comparison with Arb) works from
the reference and the offset, never from a rounded float64 height.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import flint
import numpy as np

# Zeros per block: one exact integer reference each (in the chunk record and the manifest).
BLOCK = 1 << 16
THETA_PREC = 128  # bits for θ(reference)/π in Arb
DECIMALS = 12  # digits after the point in text exports


@dataclass(frozen=True)
class ZeroHeights:
    """γ_k = references[b] + offsets[k] for the zeros k of block b (exact integer references).

    `offsets` may be a read-only memory map (an aggregate of 1e8 zeros is 800 MB); block b
    covers positions block_starts[b] .. block_starts[b+1]−1, and position k holds zero
    first_index + k.
    """

    offsets: np.ndarray
    block_starts: np.ndarray
    references: np.ndarray
    first_index: int = 1

    def __post_init__(self) -> None:
        if self.offsets.ndim != 1 or self.offsets.dtype != np.float64:
            raise ValueError(f"offsets must be 1-D float64, got {self.offsets.dtype}")
        if len(self.block_starts) != len(self.references) or (
            len(self.offsets) and (len(self.block_starts) == 0 or self.block_starts[0] != 0)
        ):
            raise ValueError("blocks must start at position 0, one reference per block")

    def __len__(self) -> int:
        return len(self.offsets)

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        """np.asarray(values): the float64 heights (rounded to 2^-53·γ; see `heights`)."""
        out = self.heights()
        return out if dtype is None else out.astype(dtype)

    @property
    def last_index(self) -> int:
        return self.first_index + len(self) - 1

    def reference_at(self, positions: np.ndarray) -> np.ndarray:
        """The exact integer reference (int64) of each position."""
        block = np.searchsorted(self.block_starts, positions, side="right") - 1
        return self.references[block]

    def heights(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """γ as float64 (rounded: fine for plots and wave phases, not for δ at large heights)."""
        hi = len(self) if hi is None else hi
        part = self.slice(lo, hi)
        out = np.empty(hi - lo)
        for s_lo, s_hi, ref in part.segments():
            out[s_lo:s_hi] = float(ref) + np.asarray(part.offsets[s_lo:s_hi])
        return out

    def slice(self, lo: int, hi: int) -> ZeroHeights:
        """Positions lo..hi−1 as their own ZeroHeights (a view of the offsets)."""
        if not 0 <= lo <= hi <= len(self):
            raise IndexError(f"slice {lo}..{hi} outside 0..{len(self)}")
        if lo == hi:
            return ZeroHeights(np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64), lo + 1)
        b0 = int(np.searchsorted(self.block_starts, lo, side="right") - 1)
        b1 = int(np.searchsorted(self.block_starts, hi, side="left"))
        starts = np.maximum(self.block_starts[b0:b1] - lo, 0)
        return ZeroHeights(
            self.offsets[lo:hi], starts, self.references[b0:b1], self.first_index + lo
        )

    def segments(self, size: int = BLOCK) -> list[tuple[int, int, int]]:
        """(lo, hi, reference) runs of at most `size` positions that share one reference."""
        out = []
        bounds = [*self.block_starts.tolist(), len(self)]
        for b in range(len(self.block_starts)):
            for lo in range(int(bounds[b]), int(bounds[b + 1]), size):
                out.append((lo, min(lo + size, int(bounds[b + 1])), int(self.references[b])))
        return out

    def max_rounding(self) -> float:
        """Half an ulp of the largest stored offset: what storing the offsets in float64 costs."""
        if not len(self):
            return 0.0
        big = max(float(np.max(np.abs(self.offsets[lo:hi]))) for lo, hi, _ in self.segments())
        return 0.5 * float(np.spacing(big))

    def deltas(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """δ_n = θ(γ_n)/π + 1 − (n − ½), accurate to ~1e-10 at any height.

        Per run of zeros, R = ⌊first height⌋ (exact) and θ(R)/π = K + f come from Arb at 128
        bits; the rest, θ(R + h) − θ(R) for the small exact offsets h, is float64 without
        cancellation (log1p), so no float64 height enters.
        """
        hi = len(self) if hi is None else hi
        part = self.slice(lo, hi)
        out = np.empty(hi - lo)
        for s_lo, s_hi, ref in part.segments():
            off = np.asarray(part.offsets[s_lo:s_hi])
            base = ref + math.floor(float(off[0]))  # ⌊first height⌋, exact
            h = off - float(base - ref)  # exact: an integer below each offset is subtracted
            k, frac = theta_over_pi(base)
            n = np.arange(part.first_index + s_lo, part.first_index + s_hi, dtype=np.int64)
            whole = (k + 1 - n).astype(np.float64) + 0.5  # exact: |K + 1 − n| ≤ a block
            out[s_lo:s_hi] = whole + (frac + delta_theta(float(base), h) / math.pi)
        return out

    def decimal_lines(
        self, lo: int = 0, hi: int | None = None, decimals: int = DECIMALS
    ) -> list[str]:
        """γ as decimal strings with `decimals` digits after the point, exactly rounded."""
        hi = len(self) if hi is None else hi
        part = self.slice(lo, hi)
        lines: list[str] = []
        for s_lo, s_hi, ref in part.segments():
            off = np.asarray(part.offsets[s_lo:s_hi])
            whole = np.floor(off)
            frac = np.char.mod(f"%.{decimals}f", off - whole)  # exact binary value, rounded
            carry = np.char.startswith(frac, "1")
            ints = ref + whole.astype(np.int64) + carry
            frac = np.where(carry, "0." + "0" * decimals, frac)
            lines.extend(f"{i}{f[1:]}" for i, f in zip(ints.tolist(), frac.tolist(), strict=True))
        return lines

    def errors_against(self, positions: np.ndarray, exact: Sequence[flint.arb]) -> np.ndarray:
        """|γ_stored − γ_exact| at positions, evaluated in Arb (no float64 height involved)."""
        old = flint.ctx.prec
        flint.ctx.prec = THETA_PREC
        try:
            refs = self.reference_at(np.asarray(positions))
            return np.array(
                [
                    abs(float((x - int(r)) - flint.arb(float(self.offsets[int(p)]))))
                    for p, r, x in zip(positions, refs, exact, strict=True)
                ]
            )
        finally:
            flint.ctx.prec = old


def from_parts(base: np.ndarray, offset: np.ndarray, first_index: int = 1) -> ZeroHeights:
    """Normalise per-zero (integer base, float64 offset) pairs into blocks of BLOCK zeros.

    Each block's reference is ⌊first height⌋ (exact integer arithmetic); an offset changes only
    when its base differs from the block's reference, and then by one float64 rounding.
    """
    base = np.asarray(base, dtype=np.int64)
    offset = np.asarray(offset, dtype=np.float64)
    if base.shape != offset.shape or offset.ndim != 1:
        raise ValueError("base and offset must be 1-D arrays of the same length")
    starts = np.arange(0, len(offset), BLOCK, dtype=np.int64)
    if not len(offset):
        return ZeroHeights(offset, starts, np.empty(0, np.int64), first_index)
    if not np.all(np.isfinite(offset[starts])):
        raise ValueError("non-finite offset at the start of a block")
    refs = base[starts] + np.floor(offset[starts]).astype(np.int64)
    per_zero = np.repeat(refs, np.diff(np.append(starts, len(offset))))
    shift = base - per_zero
    new = np.where(shift == 0, offset, offset + shift.astype(np.float64))
    return ZeroHeights(np.ascontiguousarray(new), starts, refs, first_index)


def from_float64(values: np.ndarray, first_index: int = 1) -> ZeroHeights:
    """Heights given as float64 (a table, a legacy chunk), re-expressed exactly in blocks."""
    values = np.asarray(values, dtype=np.float64)
    return from_parts(np.zeros(len(values), dtype=np.int64), values, first_index)


def from_decimal_strings(tokens: Sequence[str], first_index: int = 1) -> ZeroHeights:
    """Decimal heights such as "267653395648.625948242142" (a table, a text export), exactly:
    the integer part as an integer, the fraction as a float64 (one rounding, ≤ 2^-54)."""
    text = np.char.strip(np.asarray(tokens, dtype=str))
    if text.size and not np.all(np.char.isdigit(np.char.replace(text, ".", "", count=1))):
        bad = next(t for t in text.tolist() if not t.replace(".", "", 1).isdigit())
        raise ValueError(f"{bad!r} is not a plain decimal number (digits and one point)")
    parts = np.char.partition(text, ".")
    whole = np.where(parts[:, 0] == "", "0", parts[:, 0]).astype(np.int64)
    frac = np.char.add("0.", np.where(parts[:, 2] == "", "0", parts[:, 2])).astype(np.float64)
    return from_parts(whole, frac, first_index)


def concatenate(parts: Sequence[ZeroHeights]) -> ZeroHeights:
    """Join consecutive runs (the first's first_index is kept)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return ZeroHeights(np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64))
    sizes = np.cumsum([0] + [len(p) for p in parts[:-1]])
    return ZeroHeights(
        np.concatenate([np.asarray(p.offsets) for p in parts]),
        np.concatenate([p.block_starts + s for p, s in zip(parts, sizes, strict=True)]),
        np.concatenate([p.references for p in parts]),
        parts[0].first_index,
    )


def split_arb(x: flint.arb) -> tuple[int, float]:
    """(⌊x⌋, x − ⌊x⌋ rounded to float64) for the midpoint of an Arb ball."""
    mid = x.mid()
    whole = int(mid.floor().unique_fmpz())
    return whole, float(mid - whole)


def theta_over_pi(t: int) -> tuple[int, float]:
    """θ(t)/π = K + f for an integer t ≥ 10: K exact, f ∈ [0, 1) to float64 accuracy."""
    old = flint.ctx.prec
    flint.ctx.prec = THETA_PREC
    try:
        ta = flint.arb(t)
        half = ta / 2
        theta = flint.acb(flint.arb(0.25), half).lgamma().imag - half * flint.arb.pi().log()
        return split_arb(theta / flint.arb.pi())
    finally:
        flint.ctx.prec = old


def delta_theta(t0: float, h: np.ndarray) -> np.ndarray:
    """θ(t0 + h) − θ(t0) in float64 without cancellation (t0 ≥ 10, exact; h small, exact)."""
    log_t0 = math.log(t0 / (2.0 * math.pi))
    t = t0 + h
    return 0.5 * h * log_t0 + 0.5 * t * np.log1p(h / t0) - 0.5 * h + (_series(t) - _series(t0))


def _series(t: np.ndarray | float) -> np.ndarray:
    inv = 1.0 / np.asarray(t, dtype=np.float64)
    inv2 = inv * inv
    return inv * (
        1.0 / 48.0 + inv2 * (7.0 / 5760.0 + inv2 * (31.0 / 80640.0 + inv2 * (127.0 / 430080.0)))
    )
