"""Zero engine benchmark: every backend at n ≈ 1e3 … 1e8, plus the rs headline runs.

    .venv/bin/python benchmarks/zeros.py            # full table (~2–3 min on 2 cores)
    .venv/bin/python benchmarks/zeros.py --quick    # smaller counts, no 1e6 headline
    .venv/bin/python benchmarks/zeros.py --heights  # accuracy over whole chunks, 1e8 … 1e16
    .venv/bin/python benchmarks/zeros.py --jobs     # zeros_chunk jobs at 1e8, 1e12, 1e16
    .venv/bin/python benchmarks/zeros.py --startup  # a chunk job's start-up, cold vs cached JIT
    .venv/bin/python benchmarks/zeros.py --os       # Odlyzko–Schönhage vs plain RS, 1e10 … 1e12
    .venv/bin/python benchmarks/zeros.py --research # one 1e6-zero block at n = 1e16: speed, memory

Each row: backend, first index, count, wall seconds, zeros/s, Z-evaluations per zero (rs only:
every point where Z was evaluated, sampling + refinement + polishing), and the max |error|
against certified python-flint values on the same indices (rs rows compare on a sample of up
to 200 indices), measured on what is stored (exact reference + float64 offset, compared in
Arb), beside the recorded bound. Every row's zeros passed the Arb index check (compute_range
runs it). The run is deterministic (fixed indices and seeds), so reruns differ only in timings.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

from zetalab.zeros.engine import MAX_INDEX, compute_range
from zetalab.zeros.flint_backend import certified_balls
from zetalab.zeros.store import chunk_path, chunk_ranges

DEFAULT_CHUNK_SIZE = 5000  # zeros.chunk_size in config/config.yaml

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
    else:
        idx = np.arange(start, start + count)
        if count > sample:
            idx = np.unique(np.random.default_rng(start).integers(start, start + count, sample))
        err = float(values.errors_against(idx - start, certified_balls(idx)).max())
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


FLINT_CHECK_TOP = 12  # python-flint's zeta_zeros up to this decade; Z in Arb above it
ARB_SIDE = 0.9e-9  # a sign change of Z in Arb across γ̂ ± this proves |γ̂ − γ| < 1e-9


def arb_side_check(values, positions: np.ndarray) -> tuple[float, bool, float]:
    """Above python-flint's reach: Z in Arb (certified) at R + o ± ARB_SIDE for each sampled
    zero, exact points. Returns the largest secant estimate of |γ̂ − γ|, whether every sign
    changed (each zero then within 1e-9), and the seconds per zero."""
    from zetalab.zeros.rs_bounds import arb_z

    began = time.perf_counter()
    worst, certified = 0.0, True
    for pos in positions:
        ref, off = str(int(values.reference_at([pos])[0])), float(values.offsets[pos])
        below, above = arb_z(ref, off - ARB_SIDE), arb_z(ref, off + ARB_SIDE)
        certified &= below * above < 0
        root = -ARB_SIDE + 2 * ARB_SIDE * below / (below - above)  # secant, from the offset
        worst = max(worst, abs(root))
    return worst, bool(certified), (time.perf_counter() - began) / len(positions)


def default_chunk(n: int) -> tuple[int, int]:
    """(first zero, count) of the workflow's chunk (default chunk_size) that holds zero n."""
    (chunk,) = chunk_ranges(1, DEFAULT_CHUNK_SIZE, first=n)
    return chunk.start, chunk.count


def heights_sweep(decades: list[int], sample: int = 9) -> None:
    """Per decade of n: the whole default chunk holding a seeded random index (at 10^16 the
    last one the engine accepts), checked in Arb at `sample` zeros spread over the chunk —
    first, last and between, so the block ends where the offsets are largest are seen —
    against python-flint's certified zeros up to 10^12; above, by Z in Arb either side of the
    stored value; beside what one float64 per zero would keep and the reference's time."""
    print(
        "| decade | chunk | zeros | rs zeros/s | max err as stored (where) | checked by "
        "| recorded bound | float64 height would lose | reference s/zero |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    rng = np.random.default_rng(11)
    for e in decades:
        n = int(rng.integers(10**e, min(10 ** (e + 1), MAX_INDEX + 1)))
        start, count = default_chunk(n)
        began = time.perf_counter()
        values, meta = compute_range("rs", start, count)
        wall = time.perf_counter() - began
        picks = sample if e <= FLINT_CHECK_TOP else max(3, sample // 2)
        pos = np.unique(np.linspace(0, count - 1, picks).astype(np.int64))
        height = float(values.heights(int(pos[-1]), int(pos[-1]) + 1)[0])
        lost = 0.5 * float(np.spacing(height))
        if e <= FLINT_CHECK_TOP:
            began = time.perf_counter()
            balls = certified_balls(pos + start)
            ref_s = (time.perf_counter() - began) / len(pos)
            errors = values.errors_against(pos, balls)
            err, where, how = float(errors.max()), int(pos[np.argmax(errors)]), "python-flint"
        else:
            err, certified, ref_s = arb_side_check(values, pos)
            where = -1
            how = f"Z in Arb at ±{ARB_SIDE:.1e}: {'sign change' if certified else 'FAILED'}"
        at = f"zero {where:,} of the chunk" if where >= 0 else f"{len(pos)} zeros"
        print(
            f"| 10^{e} | {start:,} | {count:,} | {_rate(count / wall)} | {err:.1e} ({at}) "
            f"| {how} | {meta['error_bound']:.1e} | {lost:.1e} | {ref_s:.2f} |",
            flush=True,
        )


def _chunk_job(start: int, count: int, workdir: str) -> tuple[float, float, dict]:
    """One `zeros_chunk` job through Snakemake (default config, backend rs): the rule's own
    benchmark (the job's wall seconds and peak memory) and the chunk's record."""
    import json

    repo = os.path.join(os.path.dirname(__file__), "..")
    os.makedirs(os.path.join(workdir, "config"), exist_ok=True)
    with open(os.path.join(workdir, "config", "config.yaml"), "w") as fh:
        fh.write(f"zeros:\n  backend: rs\n  chunk_size: {DEFAULT_CHUNK_SIZE}\n")
    target = chunk_path("data/zeros", "rs", start, start + count - 1)
    snakemake = os.path.join(os.path.dirname(sys.executable), "snakemake")
    argv = [snakemake, "-s", os.path.join(repo, "Snakefile"), "-d", workdir, "--cores", "2"]
    subprocess.run([*argv, str(target)], check=True, capture_output=True)
    name = target.name.removesuffix(".npy").replace("chunk_", "chunk_rs_")
    with open(os.path.join(workdir, "logs", "benchmarks", "zeros", name + ".tsv")) as fh:
        header, row = fh.read().splitlines()[:2]
    stats = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    with open(os.path.join(workdir, target.with_suffix(".json"))) as fh:
        record = json.load(fh)
    return float(stats["s"]), float(stats["max_rss"]) / 1024, record


def jobs(near: tuple[int, ...] = (10**8 + 1, 10**12 + 1, MAX_INDEX)) -> None:
    """Per height: one whole `zeros_chunk` job at the default chunk size (a process of its
    own: interpreter, imports, the JIT cache, the frames, Turing's count, the chunk written),
    beside the warmed rate of the same code on 2 threads in this process (the neighbouring
    chunk, after a small run at that height loaded the JIT and the log table); the signs the
    count rested on (smallest |Z| and the bound that proved it); and the Odlyzko–Schönhage
    bound's terms at the far end of a block there."""
    os.environ["ZETALAB_THREADS"] = "2"
    print(
        "| near n | chunk | zeros | whole job s | whole job zeros/s | warmed s | warmed "
        "zeros/s | job/warmed | job peak GB | signs | min abs Z | its bound | min abs Z/bound "
        "| moved / re-summed / Arb |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    bounds, recheck = {}, {}
    for n in near:
        start, count = default_chunk(n)
        with tempfile.TemporaryDirectory() as tmp:
            job_s, peak, record = _chunk_job(start, count, tmp)
        neighbour = start + count if start + 2 * count - 1 <= MAX_INDEX else start - count
        compute_range("rs", neighbour + count // 2, 2000)  # JIT, log table: the warm-up
        began = time.perf_counter()
        compute_range("rs", neighbour, count)
        warm = time.perf_counter() - began
        sign = record["sign_check"]
        print(
            f"| {n:.0e} | {start:,} | {count:,} | {job_s:.1f} | {_rate(count / job_s)} "
            f"| {warm:.1f} | {_rate(count / warm)} | {warm / job_s:.0%} | {peak:.2f} "
            f"| {sign['samples']:,} | {sign['min_abs_z']:.1e} | {sign['bound_at_min_abs_z']:.1e} "
            f"| {sign['min_abs_z_over_bound']:.1e} | {sign['shifted_samples']} / "
            f"{sign['precise_evaluations']} / {sign['arb_sign_evaluations']} |",
            flush=True,
        )
        bounds[n] = _block_bound_terms(start)
        recheck[n] = _plain_evaluation_seconds(start)
    print("\nRe-checking every sign by plain Riemann–Siegel instead (~1.05 signs per zero):\n")
    print("| near n | plain RS s per evaluation | ceiling zeros/s for the re-check alone |")
    print("|---:|---:|---:|")
    for n, seconds in recheck.items():
        print(f"| {n:.0e} | {seconds:.2e} | {_rate(1.0 / (1.05 * seconds))} |")
    print("\nOdlyzko–Schönhage bound at the far end of a block (each term, docs/zeros.md):\n")
    names = list(next(iter(bounds.values())))
    print("| term | " + " | ".join(f"{n:.0e}" for n in bounds) + " |")
    print("|---|" + "---:|" * len(bounds))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{b[name]:.1e}" for b in bounds.values()) + " |")


def _plain_evaluation_seconds(n: int) -> float:
    """Seconds per plain Riemann–Siegel evaluation of Z (two threads) near zero n: the cost of
    proving a sign without the Odlyzko–Schönhage bound."""
    from zetalab.unfold import inverse_smooth_count
    from zetalab.zeros.frame import Frame

    t = float(inverse_smooth_count(n))
    frame = Frame(t, t + 10.0)
    h = np.linspace(0.0, 10.0, 4096 if n < 10**13 else 64)
    frame.z(h[:8])
    began = time.perf_counter()
    frame.z(h)
    return (time.perf_counter() - began) / len(h)


def _block_bound_terms(n: int) -> dict[str, float]:
    """Every term of the OS bound at the last point of a full block starting at zero n."""
    from zetalab.unfold import inverse_smooth_count
    from zetalab.zeros.odlyzko_schonhage import OSFrame
    from zetalab.zeros.rs import block_size

    t0 = float(inverse_smooth_count(n))
    t1 = float(inverse_smooth_count(n + block_size(n)))
    frame = OSFrame(t0, t1)
    terms = frame.bound.terms(np.array([t1 - frame.t0]))
    out = {name: float(value[0]) for name, value in terms.items()}
    out["total"] = float(frame.error_bound(np.array([t1 - frame.t0]))[0])
    return out


def research(count: int = 1_000_000) -> None:
    """The research goal (issue 11): the last `count` zeros the engine accepts (n just below
    10^16, MAX_INDEX) as one chunk job pays for them —
    a `python -m zetalab.zeros compute` process (interpreter, imports, cached JIT, frame,
    Odlyzko–Schönhage, Turing's count, the chunk written and checksummed) — and the process's
    peak memory. Plain Riemann–Siegel is timed on 20 evaluations in this process."""
    import json
    import resource

    from zetalab.zeros.frame import Frame
    from zetalab.zeros.rs import block_size

    start = MAX_INDEX - count + 1
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "chunk.npy")
        argv = [sys.executable, "-m", "zetalab.zeros", "compute", "--start", str(start)]
        argv += ["--count", str(count), "--out", out, "--quiet"]
        began = time.perf_counter()
        job = subprocess.run(argv, capture_output=True, text=True)
        wall = time.perf_counter() - began
        if job.returncode:
            sys.exit(f"the chunk job failed:\n{job.stderr}")
        with open(os.path.join(tmp, "chunk.json"), encoding="utf-8") as fh:
            record = json.load(fh)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    t0 = float(record["count_check"]["T_a"])
    plain = Frame(t0, t0 + 10.0)  # its phases are the block's set-up, not timed here
    began = time.perf_counter()
    plain.z(np.linspace(0.0, 10.0, 20), derivs=True)
    plain_s = (time.perf_counter() - began) / 20
    print(
        "| first n | zeros | block | wall s (whole job) | zeros/s | peak GB | count "
        "| Z evals/zero | plain RS |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    print(
        f"| {start:,} | {count:,} | {block_size(start):,} | {wall:.1f} | {_rate(count / wall)} "
        f"| {peak:.2f} | {record['count_check']['method']} "
        f"| {record['z_evaluations_per_zero']:.2f} | {plain_s:.2f} s per evaluation, "
        f"≈ {_rate(1 / (3.5 * plain_s))} zeros/s |",
        flush=True,
    )


def startup(start: int = 100_001, count: int = 5_000) -> None:
    """Wall time of one chunk job's process (`python -m zetalab.zeros compute`) with numba's
    cache empty (a fresh machine or a job per container: it compiles) and filled (every later
    job on the machine or in a warmed image), beside Python + imports alone."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": tmp}
        job = [
            sys.executable,
            "-m",
            "zetalab.zeros",
            "compute",
            "--start",
            str(start),
            "--count",
            str(count),
            "--out",
            os.path.join(tmp, "c.npy"),
            "--quiet",
            "--force",  # the same --out each time
        ]
        imports = [sys.executable, "-c", "import zetalab.zeros.cli, zetalab.zeros.rs"]
        print("| process | wall s |")
        print("|---|---:|")
        for label, argv in (
            ("python + imports only", imports),
            (f"chunk job ({count:,} zeros at n = {start:,}), empty cache", job),
            (f"chunk job ({count:,} zeros at n = {start:,}), cached", job),
            (f"chunk job ({count:,} zeros at n = {start:,}), cached", job),
        ):
            began = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            print(f"| {label} | {time.perf_counter() - began:.2f} |", flush=True)


def os_sweep(decades: list[int], os_count: int = 20_000, sample: int = 4) -> None:
    """Per decade: rs as the engine runs it (Odlyzko–Schönhage, Turing counts) on a chunk of
    `os_count` zeros, plain Riemann–Siegel on a smaller range (same indices), and python-flint's
    time per zero in the same run; errors as stored against flint on a sample."""
    import resource

    from zetalab.zeros.rs import compute_rs

    print(
        "| first n | evaluator | zeros | wall s | zeros/s | max err as stored | count check "
        "| flint s/zero |"
    )
    print("|---:|---|---:|---:|---:|---:|---|---:|")
    compute_range("rs", 10**8, 200)  # compile/load both kernels before timing
    compute_rs(10**8, 10**8 + 199, evaluator="os")
    for e in decades:
        start = 10**e
        # two positions inside the plain range too (flint costs seconds a zero up here)
        pos = np.unique([0, 100, *np.linspace(0, os_count - 1, sample - 2).astype(np.int64)])
        began = time.perf_counter()
        balls = certified_balls(pos + start)
        flint_s = (time.perf_counter() - began) / len(pos)
        began = time.perf_counter()
        values, meta = compute_range("rs", start, os_count)
        wall = time.perf_counter() - began
        err = values.errors_against(pos, balls).max()
        label = "OS" if meta["odlyzko_schonhage_blocks"] else "plain"
        print(
            f"| {start:,} | rs ({label}) | {os_count:,} | {wall:.2f} | {_rate(os_count / wall)} | "
            f"{err:.1e} | {meta['count_check'].get('method', 'arb')} | {flint_s:.2f} |",
            flush=True,
        )
        # the workflow's default chunk there (it grows with the height)
        size = default_chunk(start)[1]
        began = time.perf_counter()
        compute_range("rs", start, size)
        wall = time.perf_counter() - began
        print(f"| {start:,} | rs ({label}) | {size:,} | {wall:.2f} | {_rate(size / wall)} | | | |")
        plain_count = max(200, os_count // 10 ** max(0, e - 9))
        began = time.perf_counter()
        plain, stats = compute_rs(start, start + plain_count - 1, evaluator="rs")
        wall = time.perf_counter() - began
        pos_plain = pos[pos < plain_count]
        err = plain.errors_against(pos_plain, balls[: len(pos_plain)]).max()
        methods = ", ".join(sorted({c["method"] for c in stats.count_checks}))
        print(
            f"| {start:,} | plain RS | {plain_count:,} | {wall:.2f} | "
            f"{_rate(plain_count / wall)} | {err:.1e} | {methods} | {flint_s:.2f} |",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, skip the headline")
    parser.add_argument(
        "--heights",
        nargs="*",
        type=int,
        metavar="E",
        help="accuracy over the default chunk at 10^E (default 8 … 16)",
    )
    parser.add_argument("--startup", action="store_true", help="a chunk job's start-up cost")
    parser.add_argument(
        "--jobs", action="store_true", help="zeros_chunk jobs near 1e8, 1e12, 1e16 vs warmed"
    )
    parser.add_argument(
        "--research", action="store_true", help="one 1e6-zero block at n = 1e16 (speed, memory)"
    )
    parser.add_argument(
        "--os",
        nargs="*",
        type=int,
        metavar="E",
        help="Odlyzko–Schönhage vs plain RS vs flint at n = 10^E (default 10 11 12)",
    )
    args = parser.parse_args()
    if args.os is not None:
        os_sweep(args.os or [10, 11, 12])
        return
    if args.heights is not None:
        heights_sweep(decades=args.heights or list(range(8, 17)))
        return
    if args.jobs:
        jobs()
        return
    if args.research:
        research()
        return
    if args.startup:
        startup()
        return
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
