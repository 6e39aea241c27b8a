"""Epoch benchmark: what one default training epoch costs and where the time goes.

    .venv/bin/python benchmarks/epoch.py                  # after `make run` (or its zeros and
                                                          # results/explicit_formula/estimate.npz)
    .venv/bin/python benchmarks/epoch.py --epochs 20 --variants fullbatch minibatch --profile

The default config's runs (N = 10,000, real zeros from the workflow's aggregate, the
explicit-formula column from the selection file), one torch thread, scoring after every epoch
included: the figure is `wall_time_s / epochs_run` as a run's metrics.json records it, plus
the CPU seconds per epoch (less sensitive to other load on the machine). Full-batch takes as
many steps per epoch as mini-batch (ceil(num_parts / clusters_per_step) = 5). `--profile`
adds torch.profiler's top operators over three further epochs (self CPU time).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from zetalab.config import load_config
from zetalab.learning.explicit import load_estimate_table
from zetalab.learning.features import resolve_estimate
from zetalab.learning.loop import Trainer
from zetalab.learning.problem import build_problem
from zetalab.learning.records import RunPaths
from zetalab.learning.resources import PeakMemory
from zetalab.learning.runconfig import resolve_run_config
from zetalab.learning.state import TrainState


def trainer_for(variant: str, zeros: Path, estimate: Path, tmp: Path) -> Trainer:
    table = load_estimate_table(estimate)[0]
    config = resolve_estimate(resolve_run_config(load_config(), {}, variant), table)
    problem = build_problem(config, zeros, None, table)
    return Trainer(config, problem, 0, RunPaths(tmp / "m.json", tmp / "h.csv", tmp / "p.npz"))


def epochs(trainer: Trainer, count: int, state: TrainState) -> None:
    memory = PeakMemory(trainer.device)
    for _ in range(count):
        t0 = time.perf_counter()
        means, nodes = trainer._train_epoch(nan_now=False)
        trainer._epoch_row(state.epoch + 1, t0, means, nodes, state, memory)
        state.epoch += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=["fullbatch", "minibatch"])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--zeros", type=Path, default=Path("data/zeros/rs/zeros_10400.npy"))
    parser.add_argument(
        "--estimate", type=Path, default=Path("results/explicit_formula/estimate.npz")
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for variant in args.variants:
        with tempfile.TemporaryDirectory() as tmp:
            trainer = trainer_for(variant, args.zeros, args.estimate, Path(tmp))
            state = TrainState()
            epochs(trainer, 2, state)  # warm-up
            wall, cpu = time.perf_counter(), time.process_time()
            epochs(trainer, args.epochs, state)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            steps = len(trainer._epoch_batches())
            rows.append((variant, steps, wall / args.epochs, cpu / args.epochs))
            if args.profile:
                from torch.profiler import ProfilerActivity, profile

                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    epochs(trainer, 3, state)
                print(f"\n{variant}: top operators over 3 epochs (self CPU)")
                print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
    header = f"{'variant':<10} {'steps/epoch':>11} {'wall s/epoch':>12} {'CPU s/epoch':>11}"
    print(header)
    print("-" * len(header))
    for variant, steps, wall, cpu in rows:
        print(f"{variant:<10} {steps:>11} {wall:>12.3f} {cpu:>11.3f}")


if __name__ == "__main__":
    main()
