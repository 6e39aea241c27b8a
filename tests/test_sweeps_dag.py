"""The sweeps in the DAG: `snakemake -n sweeps` lists every trial job by name; dropping a sweep
file in adds its trials, deleting it removes them; a bad file stops the workflow at parse time."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake

BIG = """
name: big
kind: bayesian
space:
  loss.w_nll: {low: 1.0e-3, high: 1.0, log: true}
  loss.w_mmd: {low: 1.0e-2, high: 10.0, log: true}
trials_per_round: 50
rounds: 4
epochs: 2
"""
GRID = """
name: primes
kind: grid
space:
  graph.primes: {values: [[2, 3, 5], [2, 3, 5, 7]]}
epochs: 1
"""


def setup_workdir(tmp_path: Path, enabled: bool = False) -> tuple[Path, Path, Path]:
    work, sweeps = tmp_path / "work", tmp_path / "sweeps"
    sweeps.mkdir(parents=True)
    (sweeps / "big.yaml").write_text(textwrap.dedent(BIG))
    (sweeps / "primes.yaml").write_text(textwrap.dedent(GRID))
    config = {
        "dataset": {"N": 300, "horizon": 10},
        "graph": {"partition": {"num_parts": 4}},
        "sweeps": {"enabled": enabled, "dir": str(sweeps)},
        "targets": {"study_z": True, "study_s": False},
    }
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    work.mkdir(parents=True)
    return work, sweeps, configfile


def train_cfgs(output: str) -> list[str]:
    return re.findall(r"results/runs/(sweep-[a-z0-9-]+)/\w+/seed\d+/metrics\.json", output)


@pytest.mark.slow
def test_dry_run_lists_every_trial_and_follows_the_sweep_files(tmp_path: Path) -> None:
    work, sweeps, configfile = setup_workdir(tmp_path)
    proc = run_snakemake(work, "-n", "sweeps", "--configfile", str(configfile))
    out = proc.stdout + proc.stderr
    cfgs = set(train_cfgs(out))
    expected = {f"sweep-big-r{r}-t{i:02d}" for r in range(4) for i in range(50)}
    assert expected <= cfgs
    assert {"sweep-primes-t00", "sweep-primes-t01"} <= cfgs
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    assert jobs["train"] == "202" and jobs["sweep_propose"] == "4"
    assert jobs["sweep_collect"] == "2" and jobs["sweep_summary"] == "1"
    # deleting a sweep file removes its trials; enabled sweeps join the default target
    (sweeps / "primes.yaml").unlink()
    work2, _, configfile2 = setup_workdir(tmp_path / "second", enabled=True)
    (tmp_path / "second" / "sweeps" / "primes.yaml").unlink()
    proc = run_snakemake(work2, "-n", "--configfile", str(configfile2))
    out = proc.stdout + proc.stderr
    cfgs = set(train_cfgs(out))
    assert expected <= cfgs
    assert not any(c.startswith("sweep-primes") for c in cfgs)
    assert "results/sweeps/summary.md" in out


@pytest.mark.slow
def test_default_target_leaves_sweeps_out_and_bad_files_stop_the_parse(tmp_path: Path) -> None:
    work, sweeps, configfile = setup_workdir(tmp_path)
    (sweeps / "copy.yaml").write_text(textwrap.dedent(GRID))  # a second sweep named "primes"
    proc = run_snakemake(work, "-n", "--configfile", str(configfile), check=False)
    assert proc.returncode != 0
    message = proc.stdout + proc.stderr
    assert "both are named 'primes'" in message and str(sweeps / "copy.yaml") in message
    assert "rule train:" not in message  # refused before any job was planned
