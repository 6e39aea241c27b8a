"""Zero engine benchmark: every backend at n ≈ 1e3 … 1e8, plus the rs headline runs.

    .venv/bin/python benchmarks/zeros.py            # full table (~2–3 min on 2 cores)
    .venv/bin/python benchmarks/zeros.py --quick    # smaller counts, no 1e6 headline

Each row: backend, first index, count, wall seconds, zeros/s, Z-evaluations per zero (rs only:
every point where Z was evaluated, sampling + refinement + polishing), and the max |error|
against certified python-flint values on the same indices (rs rows compare on a sample of up
to 200 indices). Every row's zeros passed the Arb index check (compute_range runs it). The
run is deterministic (fixed indices and seeds), so reruns differ only in timings.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from zetalab.zeros.engine import compute_range
from zetalab.zeros.flint_backend import certified_zeros, compute_flint

HEIGHTS = (1_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
ODLYZKO = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "odlyzko_zeros1.txt"
)


def _row(backend: str, start: int, count: int, table: str | None = None, sample: int = 200):
    began = time.perf_counter()
    values, meta = compute_range(backend, start, count, table=table)
    wall = time.perf_counter() - began
    if backend == "flint":
        err = 0.0  # the reference itself (certified radius in the next column)
    elif count <= sample:
        ref, _ = compute_flint(start, start + count - 1)
        err = float(np.abs(values - ref).max())
    else:
        idx = np.unique(np.random.default_rng(start).integers(start, start + count, sample))
        ref, _ = certified_zeros(idx)
        err = float(np.abs(values[idx - start] - ref).max())
    evals = meta.get("z_evaluations_per_zero")
    return {
        "backend": backend,
        "start": start,
        "count": count,
        "wall_s": wall,
        "zeros_per_s": count / wall,
        "evals_per_zero": evals,
        "max_err": err,
        "bound": meta.get("error_bound"),
    }


def _print(rows: list[dict]) -> None:
    print(
        "| backend | first n | count | wall s | zeros/s | Z-evals/zero | max abs err vs flint "
        "| recorded bound |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        evals = f"{r['evals_per_zero']:.2f}" if r["evals_per_zero"] is not None else "–"
        bound = f"{r['bound']:.1e}" if r["bound"] is not None else "–"
        print(
            f"| {r['backend']} | {r['start']:,} | {r['count']:,} | {r['wall_s']:.3f} | "
            f"{_rate(r['zeros_per_s'])} | {evals} | {r['max_err']:.1e} | {bound} |",
            flush=True,
        )


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, skip the headline")
    args = parser.parse_args()
    counts = {"rs": 2_000, "flint": 30, "mpmath": 2, "file": 2_000}
    if args.quick:
        counts = {"rs": 300, "flint": 10, "mpmath": 1, "file": 300}
    print(
        f"# zeros benchmark — {platform.processor() or platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} CPUs, threads={os.environ.get('ZETALAB_THREADS', 'all')}"
    )
    compute_range("rs", 20_000, 50)  # load the compiled kernel before timing
    rows = []
    for n in HEIGHTS:
        rows.append(_row("rs", n, counts["rs"]))
        rows.append(_row("flint", n, counts["flint"]))
        rows.append(_row("mpmath", n, counts["mpmath"]))
        if os.path.exists(ODLYZKO) and n + counts["file"] <= 100_000:
            rows.append(_row("file", n, counts["file"], table=ODLYZKO))
    print("\n## Per backend and height\n")
    _print(rows)
    print("\n## Headline (rs, completeness verified by Arb counts per block and per chunk)\n")
    headline = [_row("rs", 100_000_000, 10_000)]
    if not args.quick:
        headline.insert(0, _row("rs", 1, 1_000_000))
    _print(headline)


if __name__ == "__main__":
    main()
