"""Collecting a sweep: objectives from the runs' files, diverged and failed trials kept with
an infinite objective, the ranking, the winner, the leaderboard, the plot and the summary."""

from __future__ import annotations

import csv
import json
import math
import textwrap
from pathlib import Path

import pytest

from zetalab.config import load_config
from zetalab.sweeps.plan import SweepPlan, summary_job
from zetalab.sweeps.results import read_run

GRID = """
name: graph
kind: grid
space:
  graph.primes: {values: [[2, 3], [2, 3, 5], [2, 3, 5, 7], [3, 5], [5, 7], [7, 11]]}
seeds: [0, 1]
"""
NEXT = """
name: opt
kind: grid
space:
  train.lr: {values: [1.0e-3, 1.0e-4]}
freeze: {graph.primes: graph}
"""


def write_run(base: Path, status: str, series: list[float | None], **record) -> None:
    base.mkdir(parents=True, exist_ok=True)
    (base / "metrics.json").write_text(json.dumps({"status": status, **record}))
    rows = ["epoch,loss_total,extrap_mse_height,validation_loss"]
    rows += [f"{i},0.5,{'' if v is None else v},0.3" for i, v in enumerate(series, start=1)]
    (base / "history.csv").write_text("\n".join(rows) + "\n")


def test_read_run_final_best_and_bad_files(tmp_path: Path) -> None:
    write_run(tmp_path / "a", "completed", [3.0, 1.0, 2.0])
    m, h = tmp_path / "a" / "metrics.json", tmp_path / "a" / "history.csv"
    assert read_run(m, h, "extrapolation_mse_height", "final").objective == 2.0
    assert read_run(m, h, "extrapolation_mse_height", "best").objective == 1.0
    assert read_run(m, h, "validation_loss", "final").objective == 0.3
    assert read_run(m, h, "extrapolation_mse_height", "final").converged is False
    # A run that kept its epoch 2 (patience): `final` is that epoch's value, and it converged.
    write_run(tmp_path / "k", "completed", [3.0, 1.0, 2.0], kept_epoch=2, converged=True)
    kept = read_run(tmp_path / "k/metrics.json", tmp_path / "k/history.csv",
                    "extrapolation_mse_height", "final")  # fmt: skip
    assert (kept.objective, kept.converged) == (1.0, True)
    write_run(tmp_path / "d", "diverged", [3.0])
    run = read_run(tmp_path / "d/metrics.json", tmp_path / "d/history.csv",
                   "extrapolation_mse_height", "final")  # fmt: skip
    assert (run.status, run.objective) == ("diverged", math.inf)
    write_run(tmp_path / "n", "completed", [3.0, None])
    run = read_run(tmp_path / "n/metrics.json", tmp_path / "n/history.csv",
                   "extrapolation_mse_height", "final")  # fmt: skip
    assert (run.status, run.objective) == ("diverged", math.inf)
    (tmp_path / "c").mkdir()
    (tmp_path / "c/metrics.json").write_text("{not json")
    run = read_run(tmp_path / "c/metrics.json", tmp_path / "c/history.csv",
                   "extrapolation_mse_height", "final")  # fmt: skip
    assert (run.status, run.objective) == ("failed", math.inf) and "unreadable" in run.note
    run = read_run(tmp_path / "x/metrics.json", tmp_path / "x/history.csv",
                   "extrapolation_mse_height", "final")  # fmt: skip
    assert run.status == "failed"


@pytest.fixture
def collected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SweepPlan:
    monkeypatch.chdir(tmp_path)
    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    (sweeps / "graph.yaml").write_text(textwrap.dedent(GRID))
    (sweeps / "opt.yaml").write_text(textwrap.dedent(NEXT))
    plan = SweepPlan.load(sweeps, load_config())
    finals = {"t00": 5.0, "t01": 2.0, "t02": 1.0, "t03": 4.0, "t04": 0.5, "t05": 3.0}
    for trial in plan.trials["graph"]:
        for seed in (0, 1):
            base = Path(f"results/runs/{trial.cfg}/minibatch/seed{seed}")
            if trial.id == "t04" and seed == 1:  # one seed diverged -> the trial is inf
                write_run(base, "diverged", [9.0])
            elif trial.id == "t05" and seed == 0:  # a hard failure: no metrics.json at all
                continue
            else:
                write_run(base, "completed", [10.0, finals[trial.id] + 0.1 * seed])
    plan.collect_job("graph", "results/sweeps/graph")
    plan.report_job("graph", "results/sweeps/graph")
    return plan


def test_collector_ranks_and_keeps_diverged_and_failed_trials(collected: SweepPlan) -> None:
    with open("results/sweeps/graph/trials.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["trial"] for r in rows] == ["t02", "t01", "t03", "t00", "t04", "t05"]
    assert float(rows[0]["objective"]) == pytest.approx(1.05)
    assert float(rows[0]["objective_std"]) == pytest.approx(math.sqrt(0.005))
    assert rows[0]["graph.primes"] == "[2, 3, 5, 7]"
    by_id = {r["trial"]: r for r in rows}
    assert (by_id["t04"]["status"], by_id["t04"]["objective"], by_id["t04"]["diverged"]) == (
        "diverged", "inf", "1",
    )  # fmt: skip
    assert (by_id["t05"]["status"], by_id["t05"]["objective"], by_id["t05"]["failed"]) == (
        "failed", "inf", "1",
    )  # fmt: skip
    with open("results/sweeps/graph/runs.csv") as fh:
        runs = list(csv.DictReader(fh))
    assert len(runs) == 12
    assert sum(r["status"] == "completed" for r in runs) == 10


def test_best_and_top_files_feed_later_phases(collected: SweepPlan) -> None:
    best = json.loads(Path("results/sweeps/graph/best.json").read_text())
    assert best["trial"] == "t02" and best["cfg"] == "sweep-graph-t02"
    assert best["config"] == {"graph": {"primes": [2, 3, 5, 7]}}
    assert best["objective"] == pytest.approx(1.05) and best["n_completed"] == 4
    top = json.loads(Path("results/sweeps/graph/top.json").read_text())
    assert [top["ranks"][f"rank{i}"]["trial"] for i in range(1, 7)] == [
        "t02", "t01", "t03", "t00", "t04", "t05",
    ]  # fmt: skip
    assert top["ranks"]["rank5"]["objective"] is None  # JSON has no inf
    # the next phase's trials resolve their frozen primes from best.json
    from zetalab.learning.runconfig import resolve_references

    trial = collected.trials["opt"][0]
    assert resolve_references(trial.overrides)["graph"]["primes"] == [2, 3, 5, 7]
    result = collected.collect("opt")[0]
    assert result.config == {"train": {"lr": 1e-3}, "graph": {"primes": [2, 3, 5, 7]}}


def test_leaderboard_plot_and_summary(collected: SweepPlan) -> None:
    md = Path("results/sweeps/graph/leaderboard.md").read_text()
    assert "top 6 of 6 trials" in md and "| 1 | t02 |" in md
    with open("results/sweeps/graph/leaderboard.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 6
    png = Path("results/sweeps/graph/progress.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    summary_job(["results/sweeps/graph/best.json"], "summary.csv", "summary.md")
    with open("summary.csv") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["sweep"] == "graph" and row["winner"] == "t02" and row["trials"] == "6"


def test_leaderboard_keeps_only_the_top_ten(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    values = ", ".join(str(x) for x in range(2, 14))
    (sweeps / "g.yaml").write_text(
        f"name: g\nkind: grid\nspace:\n  model.hidden: {{values: [{values}]}}\n"
    )
    plan = SweepPlan.load(sweeps, load_config())
    for i, trial in enumerate(plan.trials["g"]):
        write_run(Path(f"results/runs/{trial.cfg}/minibatch/seed0"), "completed", [float(12 - i)])
    plan.report_job("g", "out")
    with open("out/leaderboard.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10 and rows[0]["trial"] == "t11" and rows[0]["model.hidden"] == "13"


def test_championship_reports_holdout_beside_extrapolation_and_never_ranks_on_it(
    collected: SweepPlan,
) -> None:
    Path("sweeps/champ.yaml").write_text(
        "name: champ\nkind: championship\nfrom: graph\ntop: 2\nseeds: [0]\n"
        "control: {variants: [fullbatch], rank: 1}\n"
    )
    plan = SweepPlan.load("sweeps", load_config())
    trials = plan.trials["champ"]
    # top01 wins the objective; its holdout is far worse than top02's: the order must not move.
    objective = {"top01": 1.0, "top02": 2.0, "control": 3.0}
    holdout = {"top01": 9.0, "top02": 0.1, "control": 0.2}
    for trial in trials:
        for metrics, _ in plan.run_files(trial).values():
            base = Path(metrics).parent
            write_run(base, "completed", [objective[trial.id]])
            errors = {
                "extrapolation": {"mse_height": objective[trial.id] + 0.5},
                "holdout": {"mse_height": holdout[trial.id]},
            }
            (base / "evaluation.json").write_text(json.dumps({"errors": errors}))
    inputs = plan.report_inputs("champ")
    assert all(p in inputs for t in trials for p in plan.evaluation_files(t).values())
    assert not any(p.endswith("evaluation.json") for p in plan.report_inputs("graph"))
    plan.collect_job("champ", "results/sweeps/champ")
    plan.report_job("champ", "results/sweeps/champ")
    with open("results/sweeps/champ/leaderboard.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["trial"] for r in rows] == ["top01", "top02", "control"]
    assert [float(r["holdout_mse_height"]) for r in rows] == [9.0, 0.1, 0.2]
    assert float(rows[0]["final_extrapolation_mse_height"]) == 1.5
    best = json.loads(Path("results/sweeps/champ/best.json").read_text())
    assert best["trial"] == "top01"
    md = Path("results/sweeps/champ/leaderboard.md").read_text()
    assert "holdout is reported only" in md
