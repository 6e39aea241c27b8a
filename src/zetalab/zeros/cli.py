"""Command line: `python -m zetalab.zeros {compute,aggregate,check,warmup}` (docs/zeros.md).

`compute` checks its output path (writable, not an existing file unless --force) and the
memory its count needs before any zero is computed, so a typo in `--out` or an impossible
`--count` costs nothing and overwrites nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tqdm import tqdm

from zetalab.errors import ZetalabError
from zetalab.zeros import store
from zetalab.zeros.engine import BACKENDS, MAX_INDEX, check_backend, check_range, compute_range

# What each command writes to --out, and the file written beside it
OUT_FORMATS = {
    "compute": {
        ".npy": "float64 offsets + exact references in the .json record",
        ".txt": "decimal heights",
    },
    "aggregate": {".npy": "the aggregate's offsets, its manifest beside it"},
    "check": {".json": "the JSON report"},
}
# Peak memory of `compute` per zero: the offsets of every block, their concatenation, the float64
# heights of the index check and the output buffer. Measured 24 B (.npy) and 27 B (.txt) per zero
# for 2e6 zeros at n = 1e6 (peak RSS minus the process's 188 MB); 64 leaves headroom.
BYTES_PER_ZERO = 64

DESCRIPTION = """\
Compute, aggregate and check nontrivial zeros of the Riemann zeta function.
γ_n is the imaginary part of the n-th zero above the real axis (γ_1 ≈ 14.1347).

examples:
  python -m zetalab.zeros compute --start 1 --count 100000 --out zeros.npy
  python -m zetalab.zeros compute --start 1e11 --count 1000 --backend rs --out hi.txt
  python -m zetalab.zeros aggregate --total 15000 --out data/zeros/rs/zeros_15000.npy \\
      data/zeros/rs/chunk_*.npy
  python -m zetalab.zeros check data/zeros/rs/zeros_15000.npy --sample 50 \\
      --odlyzko ../shared/data/odlyzko_zeros1.txt --out check.json
"""


COMPUTE_DESCRIPTION = """\
Write γ_S..γ_{S+C−1} in index order to --out, with a JSON record beside it (backend,
versions, error bound, count check, sign_bound, sha256). What each backend proves:

  rs      zeros 1..300 from flint. Every block (20,000 zeros below n ≈ 2.5e12, more above)
          is counted by Turing's method on samples whose signs of Z are proved (a rigorous
          bound on the Riemann–Siegel / Odlyzko–Schönhage error, else exact re-summation,
          else Arb). Arb's zeta_nzeros cross-checks every block below n = 1e9 and 1/16 of the
          blocks from 1e9 to 1e13, none above. The whole output passes the Arb index check
          N(T_a) = S−1, N(T_b) = S+C−1 when S < 1e9; from 1e9 up (an Arb count costs
          0.1 s to minutes there) the record collects the blocks' proofs instead.
  flint   Arb's certified zeros (acb.zeta_zeros); the Arb index check at every height.
  mpmath  mpmath.zetazero at 30 digits; the Arb index check at every height.
  file    each value brackets a sign change of Z (certified), Arb counts at sampled points;
          the Arb index check at every height.

sign_bound in the record is "rigorous" when every sign the count rests on is proved (every
backend, every height up to 1e16). The stored values' error_bound is certified for flint and
an estimate for rs (checked against Arb by `check` and benchmarks/zeros.py --heights).
"""
FORCE_HELP = "overwrite --out (and the record beside it) if it exists"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zetalab.zeros",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    comp = sub.add_parser(
        "compute",
        help="compute γ_S..γ_{S+C−1} into one float64 .npy (plus a .json record)",
        description=COMPUTE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    comp.add_argument(
        "--start",
        type=index_arg,
        required=True,
        help=f"first index S (1 ≤ S, S + C − 1 ≤ {MAX_INDEX:.0e}; 1e12 is accepted)",
    )
    comp.add_argument("--count", type=index_arg, required=True, help="number of zeros C (≥ 1)")
    comp.add_argument(
        "--backend",
        default="rs",
        help=f"one of {', '.join(BACKENDS)} (default rs: fast Riemann–Siegel, "
        "verified with Arb; flint: certified, ~200 zeros/s; mpmath: reference, slow; "
        "file: import --table)",
    )
    comp.add_argument("--table", help="file backend: path or URL of a one-zero-per-line table")
    comp.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output: .npy (float64 offsets; the blocks' exact integer references are in the "
        ".json record beside it) or .txt (one decimal height per line, 12 digits after the "
        "point, plus the .json record)",
    )
    comp.add_argument("--quiet", action="store_true", help="no progress bar")
    comp.add_argument("--force", action="store_true", help=FORCE_HELP)

    agg = sub.add_parser(
        "aggregate",
        help="stream chunks into zeros_M.npy with a manifest",
        description="Concatenate aligned chunks (verified: checksums, no gaps or overlaps, "
        "strict monotonicity) into the first --total zeros, streamed through a memory map.",
    )
    agg.add_argument("--total", type=int, required=True, help="number of zeros M to keep")
    agg.add_argument("--out", required=True, type=Path, help="output zeros_M.npy")
    agg.add_argument("chunks", nargs="+", type=Path, help="chunk .npy files")
    agg.add_argument("--force", action="store_true", help=FORCE_HELP)

    chk = sub.add_parser(
        "check",
        help="compare an aggregate with certified flint values and Odlyzko's table",
        description="Sample the aggregate, compare with python-flint certified zeros and with "
        "the reference table where it overlaps; exit 1 on any violation.",
    )
    chk.add_argument("aggregate", type=Path)
    chk.add_argument("--sample", type=int, default=50, help="zeros compared with flint")
    chk.add_argument("--odlyzko", type=Path, help="reference table (line k = γ_k)")
    chk.add_argument("--out", type=Path, help="JSON report")
    chk.add_argument("--seed", type=int, default=0)
    chk.add_argument("--force", action="store_true", help=FORCE_HELP)

    sub.add_parser(
        "warmup",
        help="compile the numba kernel into its cache (once per machine or worker image)",
        description="Compile and cache the Riemann–Siegel kernel (numba cache=True; the cache "
        "sits beside the source or in NUMBA_CACHE_DIR), so later jobs load it instead.",
    )
    return parser


def index_arg(text: str) -> int:
    """An integer index, also written as 1e12 or 1_000_000 (refused unless exactly integral)."""
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "compute":
            return _compute(args)
        if args.command == "warmup":
            from zetalab.zeros.rs_kernel import warm_up

            seconds = warm_up()
            print(f"numba kernel ready ({seconds:.1f} s)")
            return 0
        if args.out is not None:
            check_out(args.out, args.command, args.force)
        if args.command == "aggregate":
            manifest = store.aggregate(args.chunks, args.out, args.total)
            print(f"{args.out}: {manifest['count']} zeros from {len(manifest['chunks'])} chunks")
            return 0
        from zetalab.zeros.check import check_aggregate

        report = check_aggregate(args.aggregate, args.sample, args.odlyzko, args.out, args.seed)
        print(report["summary"])
        return 0 if report["passed"] else 1
    except ZetalabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _compute(args: argparse.Namespace) -> int:
    check_backend(args.backend)
    check_range(args.start, args.count)
    check_out(args.out, "compute", args.force)
    check_memory(args.count)
    with tqdm(total=args.count, unit="zero", disable=args.quiet, desc=args.backend) as bar:
        values, meta = compute_range(
            args.backend, args.start, args.count, args.table, progress=bar.update
        )
    if args.out.suffix == ".txt":
        store.write_text(args.out, values, meta)
    else:
        store.write_chunk(args.out, values, args.start, meta)
    rate = args.count / max(meta["seconds"], 1e-9)
    print(
        f"{args.out}: γ_{args.start}..γ_{args.start + args.count - 1} "
        f"({args.count} zeros, {meta['seconds']:.2f} s, {rate:,.0f} zeros/s, "
        f"count check N={meta['count_check']['N_a']}..{meta['count_check']['N_b']})"
    )
    return 0


def check_out(out: Path, command: str = "compute", force: bool = False) -> None:
    """Refuse an output the command cannot or must not write, before computing anything: a
    suffix it does not write, a directory, an existing file (unless `force`), a place where no
    file can be created (probed by creating and removing one)."""
    formats = OUT_FORMATS[command]
    if out.suffix not in formats:
        raise ZetalabError(
            f"--out {out}: the suffix {out.suffix or '(none)'!r} is not a format {command} writes",
            "end --out with "
            + " or ".join(f"{suffix} ({what})" for suffix, what in formats.items()),
        )
    beside = {
        "compute": [store.meta_path(out)],
        "aggregate": [store.manifest_path(out)],
        "check": [],
    }[command]
    for path in (out, *beside):
        if path.is_dir():
            raise ZetalabError(f"--out {out}: {path} is a directory", "give a file name")
        if path.exists() and not force:
            raise ZetalabError(
                f"--out {out}: {path} exists (nothing was computed or overwritten)",
                "choose another --out, or pass --force to replace it",
            )
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ZetalabError(
            f"--out {out}: {parent} is a file, not a directory", "choose another --out path"
        )
    problem = None
    if not os.access(parent, os.W_OK | os.X_OK):
        problem = "permission denied"
    else:
        try:  # root passes os.access everywhere, and /proc, /sys refuse new files anyway
            fd, probe = tempfile.mkstemp(prefix=".zetalab-probe-", dir=parent)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
    if problem:
        raise ZetalabError(
            f"--out {out}: cannot create a file in {parent} ({problem})",
            "choose a directory you can write to",
        )


def available_memory() -> int:
    """Bytes this process may still allocate: MemAvailable, or all physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_memory(count: int) -> None:
    """Refuse a --count whose zeros (held in memory until written) would not fit."""
    need, have = count * BYTES_PER_ZERO, available_memory()
    if need > have:
        fits = max(1, have // BYTES_PER_ZERO)
        raise ZetalabError(
            f"--count {count} needs about {need / 2**30:.1f} GiB in memory, "
            f"{have / 2**30:.1f} GiB are available",
            f"compute at most ~{fits:.2e} zeros per call (several --start/--count runs), or "
            "use the workflow: zeros_chunk jobs of zeros.chunk_size streamed into an aggregate",
        )
