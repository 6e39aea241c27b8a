"""Training benchmark: time per epoch and peak memory against N for both variants.

    .venv/bin/python benchmarks/training.py                   # N = 1e4, 1e5 (CPU)
    nice -n 10 .venv/bin/python benchmarks/training.py --sizes 10000 100000 1000000

Each (variant, N) runs in a fresh process so its peak memory is its own. Zero values do not
affect time or memory, so the heights are synthetic: t_n = N0⁻¹(n − ½ + ε_n) with ε_n
uniform in ±0.3 (a jittered smooth sequence), not real zeros. Model and losses are the
defaults (hidden 32, 3 GraphConv layers; full-batch with all four losses including the global
rg_penalty; mini-batch Cluster-GCN with METIS clusters of ~200 nodes, 10 per step). The
device is `auto`: CUDA when present (then memory is torch.cuda.max_memory_allocated),
otherwise CPU (peak RSS of the process, and its growth over the training loop).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_case(variant: str, n: int, epochs: int, threads: int) -> dict:
    """Train `epochs` epochs of one variant at N = n; return timings and memory."""
    import numpy as np
    import torch

    from zetalab.config import load_config
    from zetalab.learning.dataset import zero_data
    from zetalab.learning.graph import build_graph
    from zetalab.learning.loop import RunPaths, Trainer
    from zetalab.learning.partition import partition_graph
    from zetalab.learning.problem import build_problem
    from zetalab.learning.resources import process_peak_bytes
    from zetalab.learning.runconfig import resolve_run_config
    from zetalab.unfold import inverse_smooth_count

    torch.set_num_threads(threads)
    horizon = 100
    total = n + 2 * horizon
    num_parts = max(1, total // 200)
    overrides = {
        "dataset": {"N": n, "horizon": horizon},
        "graph": {"partition": {"method": "metis", "num_parts": num_parts}},
        # One optimiser step per full-batch epoch: an epoch is one pass over the graph in both
        # variants (the workflow default matches step counts instead; see the train schema).
        "train": {
            "max_epochs": epochs,
            "patience": None,
            "checkpoint_every": 10**6,
            "fullbatch_steps_per_epoch": 1,
        },
        # Synthetic heights have no selection file: a fixed setting gives the same column count.
        "model": {"estimate": {"num_primes": 1000, "taper": 0.5}},
    }
    config = resolve_run_config(load_config(), overrides, variant)
    rss_start = process_peak_bytes()
    rng = np.random.default_rng(0)
    idx = np.arange(1, total + 1, dtype=np.float64)
    gammas = inverse_smooth_count(idx - 0.5 + rng.uniform(-0.3, 0.3, total))
    t0 = time.perf_counter()
    graph = build_graph(total, config["graph"]["primes"])
    t_graph = time.perf_counter() - t0
    t_part = None
    if variant == "minibatch":
        t0 = time.perf_counter()
        partition_graph(graph, "metis", num_parts)
        t_part = time.perf_counter() - t0
    problem = build_problem(config, zero_data(gammas))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        trainer = Trainer(config, problem, 0, RunPaths(d / "m.json", d / "h.csv", d / "p.npz"))
        metrics = trainer.run("bench")
    times = [metrics["mean_epoch_time_s"]]
    return {
        "variant": variant,
        "N": n,
        "nodes": total,
        "edges": graph.num_edges,
        "device": metrics["device"],
        "epochs": epochs,
        "epoch_time_s": times[0],
        "nodes_per_s": metrics["nodes_per_s"],
        "graph_build_s": t_graph,
        "metis_s": t_part,
        "peak_mem_bytes": metrics["peak_mem_bytes"],
        "peak_mem_kind": metrics["peak_mem_kind"],
        "loop_growth_bytes": metrics["train_loop_mem_growth_bytes"],
        "rss_at_start_bytes": rss_start,
        "status": metrics["status"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--variants", nargs="+", default=["fullbatch", "minibatch"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--case", nargs=2, metavar=("VARIANT", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    if args.case:
        row = run_case(args.case[0], int(args.case[1]), args.epochs, args.threads)
        print("RESULT " + json.dumps(row))
        return

    rows = []
    for n in args.sizes:
        for variant in args.variants:
            cmd = [
                sys.executable,
                __file__,
                "--case",
                variant,
                str(n),
                "--epochs",
                str(args.epochs),
                "--threads",
                str(args.threads),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                print(f"{variant} N={n}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(lines[0][len("RESULT ") :]))
            print(f"done {variant} N={n}", file=sys.stderr, flush=True)

    header = (
        f"{'variant':<10} {'N':>9} {'device':>6} {'s/epoch':>8} {'nodes/s':>10} "
        f"{'peak MB':>8} {'loop MB':>8} {'B/node':>7} {'metis s':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        metis = f"{r['metis_s']:.1f}" if r["metis_s"] is not None else "-"
        print(
            f"{r['variant']:<10} {r['N']:>9} {r['device']:>6} {r['epoch_time_s']:>8.3f} "
            f"{r['nodes_per_s']:>10.0f} {r['peak_mem_bytes'] / 2**20:>8.0f} "
            f"{r['loop_growth_bytes'] / 2**20:>8.0f} {r['peak_mem_bytes'] / r['nodes']:>7.0f} "
            f"{metis:>7}"
        )
    # Marginal memory per node between the two largest sizes (removes the runtime's constant).
    for variant in args.variants:
        mine = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["nodes"])
        if len(mine) >= 2:
            a, b = mine[-2], mine[-1]
            slope = (b["peak_mem_bytes"] - a["peak_mem_bytes"]) / (b["nodes"] - a["nodes"])
            print(
                f"{variant}: marginal peak memory {slope:.0f} B/node between "
                f"N={a['N']} and N={b['N']}"
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
