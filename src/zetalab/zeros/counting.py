"""Rigorous zero counts N(T) from Arb, and the index check every chunk passes.

N(T) (zeros with 0 < γ ≤ T) from `arb.zeta_nzeros` is exact when T is not too close to a zero;
an inexact (interval) answer is retried at higher precision, never rounded.
"""

from __future__ import annotations

import flint
import numpy as np

from zetalab.errors import ZetalabError

PRECISIONS = (64, 128, 256)


def count_zeros_upto(t: float) -> int:
    """N(t) exactly; ArithmeticError if Arb cannot decide (t within ~1e-15 of a zero)."""
    old = flint.ctx.prec
    try:
        for prec in PRECISIONS:
            flint.ctx.prec = prec
            n = flint.arb(t).zeta_nzeros()
            if n.is_exact():
                return int(n.unique_fmpz())
    finally:
        flint.ctx.prec = old
    raise ArithmeticError(f"zeta_nzeros({t!r}) is not exact even at {PRECISIONS[-1]} bits")


def index_check(values: np.ndarray, start: int, where: str) -> dict:
    """Prove γ̂_start is the start-th zero and γ̂_end the end-th: N just below and just above.

    T_a sits a quarter of the first gap below the first value and T_b a quarter of the last gap
    above the last one, so an index off by one (a skipped or doubled zero, a table line lost)
    shows as N(T_a) ≠ start − 1 or N(T_b) ≠ end. Both counts go into the chunk's record.
    """
    end = start + len(values) - 1
    if len(values) >= 2:
        eps_a = 0.25 * float(values[1] - values[0])
        eps_b = 0.25 * float(values[-1] - values[-2])
    else:
        eps_a = eps_b = 1e-3
    eps_a, eps_b = min(eps_a, 1e-3), min(eps_b, 1e-3)
    t_a = float(values[0]) - eps_a
    t_b = float(values[-1]) + eps_b
    try:
        n_a, n_b = count_zeros_upto(t_a), count_zeros_upto(t_b)
    except ArithmeticError as exc:
        raise ZetalabError(f"{where}: count check failed ({exc})", "recompute this chunk") from exc
    if n_a != start - 1 or n_b != end:
        raise ZetalabError(
            f"{where}: zeros {start}..{end} fail the Arb count check: N({t_a:.9f}) = {n_a} "
            f"(expected {start - 1}), N({t_b:.9f}) = {n_b} (expected {end}); a zero is missing, "
            "doubled or misindexed",
            "recompute this range with another backend (flint is certified), or fix the table",
        )
    return {"T_a": t_a, "T_b": t_b, "N_a": n_a, "N_b": n_b, "method": "arb index check"}


def block_index_check(block_checks: list[dict], start: int, end: int, where: str) -> dict:
    """The chunk's index record from the `rs` blocks' own proofs, with no new Arb call.

    Each block lo..hi proved N(T_a) and N(T_b) (Turing's method, cross-checked by Arb on a
    sample of blocks) and found exactly N(T_b) − N(T_a) sign changes in (T_a, T_b], so its
    zeros' indices are proved when N(T_a) < lo and N(T_b) ≥ hi; here we check that, and that
    the blocks tile start..end in order. At n = 10¹² two Arb calls per chunk would cost 1–5 s,
    more than computing a 5,000-zero chunk.
    """
    if not block_checks:
        raise ZetalabError(f"{where}: no block count records", "report this bug")
    expected = start
    for check in block_checks:
        lo, hi = check["start"], check["end"]
        if lo != expected or hi < lo or not (check["N_a"] < lo and check["N_b"] >= hi):
            raise ZetalabError(
                f"{where}: the block of zeros {lo}..{hi} (proved counts N = "
                f"{check['N_a']}..{check['N_b']}) does not cover its zeros where zero "
                f"{expected} comes next",
                "report this bug; compute this range with --backend flint",
            )
        expected = hi + 1
    if expected != end + 1:
        raise ZetalabError(
            f"{where}: the blocks cover zeros {start}..{expected - 1}, not {start}..{end}",
            "report this bug; compute this range with --backend flint",
        )
    first, last = block_checks[0], block_checks[-1]
    return {
        "T_a": first["T_a"],
        "T_b": last["T_b"],
        "N_a": first["N_a"],
        "N_b": last["N_b"],
        "method": "rs blocks: " + ", ".join(sorted({c.get("method", "arb") for c in block_checks})),
    }
