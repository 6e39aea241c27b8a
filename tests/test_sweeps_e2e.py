"""Tiny versions of every shipped phase (graph, optimiser, loss weights, championship) run end
to end through Snakemake: real training jobs, a Bayesian round learning from the one before,
later phases reading earlier winners from their result files, leaderboards, plots, summary.

The zeros aggregate is placed where the zero stage writes it (the zero stage has its own
tests), and --allowed-rules keeps this run to the learning and sweep rules."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake, tiny_config

pytestmark = pytest.mark.slow

# The tiny configuration (.test/config/config.yaml), smaller still, with every phase limited.
TINY = tiny_config(
    {
        "dataset": {"horizon": 10},
        "graph": {"partition": {"method": "contiguous", "num_parts": 3}},
        "model": {"layers": 1},
        "train": {"checkpoint_every": 5},
        "loss": {"rg_max_lag": 4, "mmd_max_samples": 64, "mmd_reference_size": 32},
        "targets": {"study_s": False},
        "sweeps": {
            "limit": {"trials_per_round": 2, "rounds": 2, "seeds": 1, "epochs": 1, "top": 1}
        },
    }
)
N, H = TINY["dataset"]["N"], TINY["dataset"]["horizon"]
RULES = [
    "graph_build", "graph_partition", "run_config", "explicit_formula", "train", "evaluate",
    "sweep_propose", "sweep_collect", "sweep_report", "sweep_summary", "sweeps",
]  # fmt: skip


def place_zeros(odlyzko, workdir: Path, total: int) -> None:
    from zetalab.zeros.store import aggregate, write_chunk

    root = workdir / "data" / "zeros" / "rs"
    chunk = root / "chunk_test.npy"
    write_chunk(chunk, odlyzko[:total], 1, {"backend": "file"})
    aggregate([chunk], root / f"zeros_{total}.npy", total)


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def test_every_shipped_phase_runs_end_to_end(odlyzko, tmp_path: Path, monkeypatch) -> None:
    place_zeros(odlyzko, tmp_path, N + 2 * H)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    args = ["--configfile", str(tmp_path / "tiny.yaml"), "--allowed-rules", *RULES]
    run_snakemake(tmp_path, *args, "--cores", "2", "sweeps")

    sweeps = tmp_path / "results" / "sweeps"
    runs = tmp_path / "results" / "runs"
    graph = read(sweeps / "graph/best.json")
    assert graph["n_trials"] == 2 and graph["config"]["graph"]["primes"] in (
        [2, 3, 5],
        [2, 3, 5, 7],
    )
    # the optimiser ran on the graph phase's winner, read from its best.json
    for tid, lr in (("t00", 5e-4), ("t01", 1e-3)):
        metrics = read(runs / f"sweep-optimiser-{tid}/minibatch/seed0/metrics.json")
        assert metrics["config"]["graph"]["primes"] == graph["config"]["graph"]["primes"]
        assert metrics["config"]["train"]["lr"] == lr and metrics["epochs_run"] == 1
    optimiser = read(sweeps / "optimiser/best.json")
    assert optimiser["config"]["graph"]["primes"] == graph["config"]["graph"]["primes"]

    # two Bayesian rounds: round 1 learned from round 0's two results
    r0 = read(sweeps / "lossweights/round0/proposal.json")
    r1 = read(sweeps / "lossweights/round1/proposal.json")
    assert (r0["n_prior"], r1["n_prior"]) == (0, 2)
    for tid, values in r1["params"].items():
        metrics = read(runs / f"sweep-lossweights-r1-{tid}/minibatch/seed0/metrics.json")
        assert metrics["config"]["loss"]["w_nll"] == values["loss.w_nll"]
        assert metrics["config"]["loss"]["w_mmd"] == values["loss.w_mmd"]
        assert metrics["config"]["loss"]["w_mse"] == 1.0
        assert metrics["config"]["train"]["lr"] == optimiser["config"]["train"]["lr"]
    # a rerun of a round proposes the same trials, byte for byte
    from zetalab.config import load_config
    from zetalab.sweeps.plan import SweepPlan

    monkeypatch.chdir(tmp_path)
    config = load_config(tmp_path / "tiny.yaml")
    plan = SweepPlan.load(Path(__file__).resolve().parents[1] / "config" / "sweeps", config)
    plan.propose_job("lossweights", 1, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == (
        sweeps / "lossweights/round1/proposal.json"
    ).read_bytes()

    # championship: the best loss-weight config, plus the full-batch control of the winner
    top = read(sweeps / "lossweights/top.json")
    assert len(top["ranks"]) == 4
    winner = top["ranks"]["rank1"]["config"]
    metrics = read(runs / "sweep-championship-top01/minibatch/seed0/metrics.json")
    assert metrics["config"]["loss"]["w_nll"] == winner["loss"]["w_nll"]
    assert metrics["config"]["graph"]["primes"] == graph["config"]["graph"]["primes"]
    control = read(runs / "sweep-championship-control/fullbatch/seed0/metrics.json")
    assert control["kind"] == "fullbatch"
    assert control["config"]["loss"]["w_mmd"] == top["ranks"]["rank1"]["config"]["loss"]["w_mmd"]

    with open(sweeps / "summary.csv") as fh:
        summary = list(csv.DictReader(fh))
    assert [r["sweep"] for r in summary] == ["graph", "optimiser", "lossweights", "championship"]
    for name in ("graph", "optimiser", "lossweights", "championship"):
        assert (sweeps / name / "progress.png").stat().st_size > 5000
        board = (sweeps / name / "leaderboard.md").read_text()
        assert "| 1 |" in board
    # the champions' holdout error is shown beside the extrapolation error (never ranked on)
    with open(sweeps / "championship/leaderboard.csv") as fh:
        board = list(csv.DictReader(fh))
    assert all(float(r["holdout_mse_height"]) > 0 for r in board)
    assert "holdout is reported only" in (sweeps / "championship/leaderboard.md").read_text()
    with open(sweeps / "championship/trials.csv") as fh:
        trials = {r["trial"]: r for r in csv.DictReader(fh)}
    assert set(trials) == {"top01", "control"}
    assert trials["control"]["variants"] == "fullbatch"
