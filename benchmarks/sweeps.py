"""Sweeps benchmark: the DAG of a 4 rounds × 50 trials Bayesian sweep, and one round's proposal.

Targets (issue 6): `snakemake -n sweeps` lists the 200 training jobs in < 10 s; proposing a
round from 200 earlier results (reading their files, rebuilding the study, asking 50) < 2 s.

    .venv/bin/python benchmarks/sweeps.py [--trials 50] [--rounds 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import yaml

from zetalab.config import load_config
from zetalab.sweeps.plan import SweepPlan

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"

SWEEP = """
name: big
kind: bayesian
space:
  loss.w_nll: {{low: 1.0e-3, high: 1.0, log: true}}
  loss.w_mmd: {{low: 1.0e-2, high: 10.0, log: true}}
trials_per_round: {trials}
rounds: {rounds}
epochs: 2
"""


def bowl(values: dict) -> float:
    return (math.log10(values["loss.w_nll"]) + 1) ** 2 + math.log10(values["loss.w_mmd"]) ** 2


def make_workdir(root: Path, trials: int, rounds: int) -> tuple[Path, Path, Path]:
    sweeps, work = root / "sweeps", root / "work"
    sweeps.mkdir()
    (sweeps / "big.yaml").write_text(textwrap.dedent(SWEEP.format(trials=trials, rounds=rounds)))
    config = {
        "dataset": {"N": 300, "horizon": 10},
        "graph": {"partition": {"num_parts": 4}},
        "sweeps": {"dir": str(sweeps)},
        "targets": {"study_s": False},
    }
    configfile = root / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    work.mkdir()
    return sweeps, work, configfile


def time_dry_run(work: Path, configfile: Path) -> tuple[float, float, int]:
    """Wall time and CPU time (user + sys) of `snakemake -n sweeps`, and the jobs listed.

    The CPU time is what the dry run costs on an idle machine; the wall time also counts
    waiting for cores that other processes hold."""
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(work), "-n", "sweeps",
           "--configfile", str(configfile)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = proc.stdout + proc.stderr
    jobs = set(re.findall(r"results/runs/(sweep-big-r\d+-t\d+)/minibatch/seed0/metrics\.json", out))
    return wall, cpu, len(jobs)


def time_parse(sweeps: Path) -> float:
    config = load_config(overrides={"sweeps": {"dir": str(sweeps)}})
    t0 = time.perf_counter()
    plan = SweepPlan.load(sweeps, config)
    assert len(plan.all_trials()) > 0
    return time.perf_counter() - t0


def time_propose(root: Path, sweeps: Path, trials: int, rounds: int) -> tuple[float, int]:
    """Run rounds 0..rounds-1 with a known objective, then time proposing round `rounds`."""
    (sweeps / "big.yaml").write_text(
        textwrap.dedent(SWEEP.format(trials=trials, rounds=rounds + 1))
    )
    cwd = Path.cwd()
    os.chdir(root / "work")
    try:
        plan = SweepPlan.load(sweeps, load_config(overrides={"sweeps": {"dir": str(sweeps)}}))
        for r in range(rounds):
            proposal = plan.propose_job("big", r, f"results/sweeps/big/round{r}/proposal.json")
            for tid, values in proposal["params"].items():
                run = Path(f"results/runs/sweep-big-r{r}-{tid}/minibatch/seed0")
                run.mkdir(parents=True, exist_ok=True)
                (run / "metrics.json").write_text(json.dumps({"status": "completed"}))
                (run / "history.csv").write_text(
                    f"epoch,extrap_mse_height\n1,{bowl(values) + 1}\n2,{bowl(values)}\n"
                )
        t0 = time.perf_counter()
        proposal = plan.propose_job("big", rounds, "proposal.json")
        elapsed = time.perf_counter() - t0
        return elapsed, proposal["n_prior"]
    finally:
        os.chdir(cwd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sweeps, work, configfile = make_workdir(root, args.trials, args.rounds)
        parse = min(time_parse(sweeps) for _ in range(args.repeat))
        rows.append(("parse + expand sweep files (in process)", f"{parse:.3f} s", "schemas cached"))
        dry = [time_dry_run(work, configfile) for _ in range(args.repeat)]
        label = f"snakemake -n sweeps ({args.rounds}x{args.trials} trials)"
        rows.append(
            (f"{label}, wall", f"{min(d[0] for d in dry):.2f} s",
             f"{dry[0][2]} trial jobs listed; target < 10 s")
        )  # fmt: skip
        rows.append((f"{label}, CPU user+sys", f"{min(d[1] for d in dry):.2f} s", "-"))
        empty_root = root / "empty"
        empty_root.mkdir()
        empty_sweeps, empty_work, empty_config = make_workdir(empty_root, args.trials, 1)
        (empty_sweeps / "big.yaml").unlink()
        base = [time_dry_run(empty_work, empty_config) for _ in range(args.repeat)]
        rows.append(
            ("same, no sweep files (workflow parse baseline)",
             f"{min(d[0] for d in base):.2f} s", f"CPU {min(d[1] for d in base):.2f} s")
        )  # fmt: skip
        times = []
        for i in range(args.repeat):
            sub = root / f"propose{i}"
            sub.mkdir()
            (sub / "work").mkdir()
            sub_sweeps = sub / "sweeps"
            sub_sweeps.mkdir()
            elapsed, prior = time_propose(sub, sub_sweeps, args.trials, args.rounds)
            times.append(elapsed)
        rows.append(
            (f"propose round {args.rounds} ({args.trials} trials)", f"{min(times):.3f} s",
             f"from {prior} earlier results; target < 2 s")
        )  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'best of ' + str(args.repeat):>12}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
