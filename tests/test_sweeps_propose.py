"""Bayesian rounds: the study is rebuilt from result files, seeded, and proposes the same
trials on every rerun; diverged trials enter it with an infinite objective."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest
import yaml

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.sweeps.plan import SweepPlan
from zetalab.sweeps.propose import propose_round, sampler_seed
from zetalab.sweeps.spec import parse_sweep

SPEC = """
name: lw
kind: bayesian
space:
  loss.w_nll: {low: 1.0e-3, high: 1.0, log: true}
  loss.w_mmd: {low: 1.0e-2, high: 10.0, log: true}
  graph.primes: {values: [[2, 3, 5], [2, 3, 5, 7]]}
trials_per_round: 4
rounds: 3
"""


def bowl(values: dict) -> float:
    """A known objective with its minimum at w_nll = 0.1, w_mmd = 1, primes [2, 3, 5]."""
    extra = 0.0 if values["graph.primes"] == [2, 3, 5] else 0.5
    return (
        (math.log10(values["loss.w_nll"]) + 1) ** 2 + math.log10(values["loss.w_mmd"]) ** 2 + extra
    )


def write_run(base: Path, status: str, objective: float | None, epochs: int = 2) -> None:
    base.mkdir(parents=True, exist_ok=True)
    (base / "metrics.json").write_text(json.dumps({"status": status}))
    rows = ["epoch,loss_total,validation_loss,extrap_mse_height"]
    for epoch in range(1, epochs + 1):
        value = "" if objective is None else objective * (1 + (epochs - epoch))
        rows.append(f"{epoch},0.1,0.2,{value}")
    (base / "history.csv").write_text("\n".join(rows) + "\n")


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SweepPlan:
    monkeypatch.chdir(tmp_path)
    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    (sweeps / "lw.yaml").write_text(textwrap.dedent(SPEC))
    return SweepPlan.load(sweeps, load_config())


def run_round(plan: SweepPlan, round_: int, diverge: set[str] = frozenset()) -> dict:
    out = Path(f"results/sweeps/lw/round{round_}/proposal.json")
    proposal = plan.propose_job("lw", round_, out)
    for tid, values in proposal["params"].items():
        trial = f"r{round_}-{tid}"
        status = "diverged" if trial in diverge else "completed"
        write_run(Path(f"results/runs/sweep-lw-{trial}/minibatch/seed0"), status, bowl(values))
    return proposal


def test_round_zero_is_seeded_and_inside_the_space(plan: SweepPlan) -> None:
    first = Path("results/sweeps/lw/round0/proposal.json")
    plan.propose_job("lw", 0, first)
    text = first.read_text()
    again = Path("again.json")
    plan.propose_job("lw", 0, again)
    assert again.read_text() == text  # a rerun proposes the same trials, byte for byte
    proposal = json.loads(text)
    assert proposal["n_prior"] == 0 and sorted(proposal["trials"]) == ["t00", "t01", "t02", "t03"]
    nll = [v["loss.w_nll"] for v in proposal["params"].values()]
    mmd = [v["loss.w_mmd"] for v in proposal["params"].values()]
    assert all(1e-3 <= x <= 1.0 for x in nll) and all(1e-2 <= x <= 10.0 for x in mmd)
    assert len(set(nll)) == 4
    assert all(v["graph.primes"] in ([2, 3, 5], [2, 3, 5, 7]) for v in proposal["params"].values())
    # the trials' references read exactly these values
    assert proposal["trials"]["t02"]["loss"]["w_mmd"] == proposal["params"]["t02"]["loss.w_mmd"]


def test_later_rounds_learn_from_earlier_results_and_rerun_identically(plan: SweepPlan) -> None:
    p0 = run_round(plan, 0, diverge={"r0-t01"})
    p1 = run_round(plan, 1)
    assert p1["n_prior"] == 4 and p1["n_prior_ok"] == 3
    assert p1["params"] != p0["params"]
    assert p1["best_prior"] == pytest.approx(
        min(bowl(v) for t, v in p0["params"].items() if t != "t01")
    )
    text = Path("results/sweeps/lw/round1/proposal.json").read_text()
    plan.propose_job("lw", 1, "again.json")
    assert Path("again.json").read_text() == text
    p2 = plan.propose_job("lw", 2, "r2.json")
    assert p2["n_prior"] == 8


def test_sampler_seed_differs_per_round_and_sweep_but_not_per_call() -> None:
    assert sampler_seed("lw", 1) == sampler_seed("lw", 1)
    assert len({sampler_seed("lw", 0), sampler_seed("lw", 1), sampler_seed("x", 0)}) == 3


def test_tpe_uses_the_history() -> None:
    """With 60 scored random points, the proposals concentrate near the bowl's minimum."""
    raw = {**yaml.safe_load(SPEC), "trials_per_round": 10, "rounds": 7}
    spec = parse_sweep(raw, "lw.yaml", load_config())
    prior = []
    for r in range(6):  # rounds proposed from no history are seeded random draws
        prior += [(v, bowl(v)) for v in propose_round(spec, 100 + r, [])["params"].values()]
    random_mean = sum(o for _, o in prior) / len(prior)
    guided = list(propose_round(spec, 6, prior)["params"].values())
    guided_mean = sum(bowl(v) for v in guided) / len(guided)
    assert guided_mean < 0.5 * random_mean


def test_a_changed_space_is_reported_not_silently_mixed(plan: SweepPlan) -> None:
    run_round(plan, 0)
    proposal = Path("results/sweeps/lw/round0/proposal.json")
    data = json.loads(proposal.read_text())
    data["trials"]["t00"]["loss"]["w_nll"] = 5.0  # outside [1e-3, 1]
    proposal.write_text(json.dumps(data))
    with pytest.raises(ZetalabError, match="does not fit the search space"):
        plan.propose_job("lw", 1, "r1.json")
