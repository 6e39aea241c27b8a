"""Command line: `python -m zetalab.zeros {compute,aggregate,check}` (see docs/zeros.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from zetalab.errors import ZetalabError
from zetalab.zeros import store
from zetalab.zeros.engine import BACKENDS, check_backend, check_range, compute_range

DESCRIPTION = """\
Compute, aggregate and check nontrivial zeros of the Riemann zeta function.
γ_n is the imaginary part of the n-th zero above the real axis (γ_1 ≈ 14.1347).

examples:
  python -m zetalab.zeros compute --start 1 --count 100000 --out zeros.npy
  python -m zetalab.zeros compute --start 100000000 --count 10000 --backend rs --out hi.npy
  python -m zetalab.zeros aggregate --total 15000 --out data/zeros/rs/zeros_15000.npy \\
      data/zeros/rs/chunk_*.npy
  python -m zetalab.zeros check data/zeros/rs/zeros_15000.npy --sample 50 \\
      --odlyzko ../shared/data/odlyzko_zeros1.txt --out check.json
"""


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
        description="Write γ_S..γ_{S+C−1} as float64, in index order, to --out, with a JSON "
        "record beside it (backend, versions, error bound, Arb count check, sha256). "
        "Every backend's output passes the Arb index check N(T_a) = S−1, N(T_b) = S+C−1.",
    )
    comp.add_argument("--start", type=int, required=True, help="first index S (≥ 1)")
    comp.add_argument("--count", type=int, required=True, help="number of zeros C (≥ 1)")
    comp.add_argument(
        "--backend",
        default="rs",
        help=f"one of {', '.join(BACKENDS)} (default rs: fast Riemann–Siegel, "
        "verified with Arb; flint: certified, ~200 zeros/s; mpmath: reference, slow; "
        "file: import --table)",
    )
    comp.add_argument("--table", help="file backend: path or URL of a one-zero-per-line table")
    comp.add_argument("--out", required=True, type=Path, help="output .npy file")
    comp.add_argument("--quiet", action="store_true", help="no progress bar")

    agg = sub.add_parser(
        "aggregate",
        help="stream chunks into zeros_M.npy with a manifest",
        description="Concatenate aligned chunks (verified: checksums, no gaps or overlaps, "
        "strict monotonicity) into the first --total zeros, streamed through a memory map.",
    )
    agg.add_argument("--total", type=int, required=True, help="number of zeros M to keep")
    agg.add_argument("--out", required=True, type=Path, help="output zeros_M.npy")
    agg.add_argument("chunks", nargs="+", type=Path, help="chunk .npy files")

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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "compute":
            return _compute(args)
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
    with tqdm(total=args.count, unit="zero", disable=args.quiet, desc=args.backend) as bar:
        values, meta = compute_range(
            args.backend, args.start, args.count, args.table, progress=bar.update
        )
    store.write_chunk(args.out, values, args.start, meta)
    rate = args.count / max(meta["seconds"], 1e-9)
    print(
        f"{args.out}: γ_{args.start}..γ_{args.start + args.count - 1} "
        f"({args.count} zeros, {meta['seconds']:.2f} s, {rate:,.0f} zeros/s, "
        f"count check N={meta['count_check']['N_a']}..{meta['count_check']['N_b']})"
    )
    return 0
