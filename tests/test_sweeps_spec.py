"""Sweep files: schema, cross-file checks, grid expansion and the trials they register."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.sweeps.plan import SweepPlan, phase_order
from zetalab.sweeps.spec import load_sweeps
from zetalab.sweeps.trials import expand_all

GRID = """
name: graph
kind: grid
base: {train: {lr: 1.0e-3}}
space:
  graph.primes: {values: [[2, 3, 5], [2, 3, 5, 7], [11, 13]]}
  train.lr_min: {values: [0.0, 1.0e-5]}
"""
BAYES = """
name: lw
kind: bayesian
space:
  loss.w_nll: {low: 1.0e-3, high: 1.0, log: true}
  loss.w_mmd: {low: 1.0e-2, high: 10.0, log: true}
freeze: {graph.primes: graph}
trials_per_round: 3
rounds: 2
seeds: [0, 1]
epochs: 4
"""
CHAMP = """
name: champ
kind: championship
from: lw
top: 2
seeds: [0, 1, 2]
control: {variants: [fullbatch], rank: 1}
"""


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config()


def write(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(textwrap.dedent(text))
    return directory


def error_of(tmp_path: Path, config: dict, **files: str) -> str:
    with pytest.raises(ZetalabError) as info:
        load_sweeps(write(tmp_path / "sw", **files), config)
    return str(info.value)


def test_shipped_phases_are_valid_and_follow_seed_002(repo: Path, config: dict) -> None:
    plan = SweepPlan.load(repo / "config" / "sweeps", config)
    assert phase_order(plan.specs) == ["graph", "optimiser", "lossweights", "championship"]
    graph = [t.params["graph.primes"] for t in plan.trials["graph"]]
    assert graph == [
        [2, 3, 5], [2, 3, 5, 7], [2, 3, 5, 7, 11, 13], [2, 3, 5, 7, 11, 13, 17, 19],
        [11, 13, 17, 19],
    ]  # fmt: skip
    assert all(t.overrides["train"]["lr"] == 1e-3 for t in plan.trials["graph"])
    assert [t.params["train.lr"] for t in plan.trials["optimiser"]] == [5e-4, 1e-3, 5e-5]
    lw = plan.specs["lossweights"]
    assert lw.kind == "bayesian"
    assert {p.key: (p.low, p.high, p.log) for p in lw.space} == {
        "loss.w_nll": (1e-3, 1.0, True),
        "loss.w_mmd": (1e-2, 10.0, True),
    }
    assert lw.base["loss"]["w_mse"] == 1.0
    champ = plan.trials["championship"]
    assert champ[-1].id == "control" and champ[-1].variants == ("fullbatch",)
    assert all(s.metric.startswith("extrapolation") for s in plan.specs.values())


def test_grid_expands_every_combination_in_file_order(tmp_path: Path, config: dict) -> None:
    specs = load_sweeps(write(tmp_path, graph=GRID), config)
    trials = expand_all(specs)["graph"]
    assert [t.id for t in trials] == ["t00", "t01", "t02", "t03", "t04", "t05"]
    assert [t.cfg for t in trials][:2] == ["sweep-graph-t00", "sweep-graph-t01"]
    assert [(t.params["graph.primes"], t.params["train.lr_min"]) for t in trials] == [
        ([2, 3, 5], 0.0), ([2, 3, 5], 1e-5), ([2, 3, 5, 7], 0.0), ([2, 3, 5, 7], 1e-5),
        ([11, 13], 0.0), ([11, 13], 1e-5),
    ]  # fmt: skip
    assert trials[3].overrides == {
        "train": {"lr": 1e-3, "lr_min": 1e-5},
        "graph": {"primes": [2, 3, 5, 7]},
    }
    assert all(t.inputs == () and t.variants == ("minibatch",) for t in trials)


def test_later_phases_refer_to_result_files_not_values(tmp_path: Path, config: dict) -> None:
    specs = load_sweeps(write(tmp_path, graph=GRID, lw=BAYES, champ=CHAMP), config)
    trials = expand_all(specs)
    lw = trials["lw"]
    assert [t.id for t in lw] == ["r0-t00", "r0-t01", "r0-t02", "r1-t00", "r1-t01", "r1-t02"]
    t = lw[4]
    assert t.cfg == "sweep-lw-r1-t01" and t.seeds == (0, 1)
    assert t.overrides["graph"]["primes"] == {
        "$from": "results/sweeps/graph/best.json",
        "key": "config.graph.primes",
    }
    assert t.overrides["loss"]["w_nll"] == {
        "$from": "results/sweeps/lw/round1/proposal.json",
        "key": "trials.t01.loss.w_nll",
    }
    assert t.overrides["train"]["max_epochs"] == 4
    assert t.overrides["train"]["patience"] is None  # a fixed budget: recorded as not converged
    assert t.overrides["train"]["schedule"] == "cosine"
    assert set(t.inputs) == {
        "results/sweeps/graph/best.json",
        "results/sweeps/lw/round1/proposal.json",
    }
    # every prime set the graph phase can pick is a candidate, so graph files stay in the DAG
    assert t.candidates["graph.primes"] == [[2, 3, 5], [2, 3, 5, 7], [11, 13]]
    assert [a["graph"]["primes"] for a in t.static_alternatives()] == [
        [2, 3, 5], [2, 3, 5, 7], [11, 13],
    ]  # fmt: skip
    champ = trials["champ"]
    assert [c.id for c in champ] == ["top01", "top02", "control"]
    assert champ[1].overrides["loss"]["w_mmd"] == {
        "$from": "results/sweeps/lw/top.json",
        "key": "ranks.rank2.config.loss.w_mmd",
    }
    assert champ[1].overrides["graph"]["primes"]["key"] == "ranks.rank2.config.graph.primes"
    assert champ[2].variants == ("fullbatch",) and champ[2].seeds == (0, 1, 2)


def test_limits_shrink_every_phase_for_tiny_runs(repo: Path, config: dict) -> None:
    tiny = load_config(
        overrides={"sweeps": {"limit": {"trials_per_round": 2, "rounds": 1, "seeds": 1,
                                        "epochs": 1, "top": 1}}}
    )  # fmt: skip
    plan = SweepPlan.load(repo / "config" / "sweeps", tiny)
    assert {n: len(t) for n, t in plan.trials.items()} == {
        "graph": 2, "optimiser": 2, "lossweights": 2, "championship": 2,
    }  # fmt: skip
    assert all(t.overrides["train"]["max_epochs"] == 1 for t in plan.all_trials())
    assert all(len(t.seeds) == 1 for t in plan.all_trials())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BAYES.replace("loss.w_nll", "loss.w_nl"), "key space.loss.w_nl: unknown parameter"),
        (BAYES.replace("loss.w_nll", "optimiser.lr"), "key space.optimiser.lr: unknown parameter"),
        (BAYES.replace("high: 1.0,", "high: 1.0e-3,"), "range [0.001, 0.001] is empty"),
        (BAYES.replace("low: 1.0e-3, high: 1.0,", "low: 1.0, high: 1.0e-3,"), "is inverted"),
        (BAYES.replace("low: 1.0e-3, high: 1.0,", "low: 0, high: 1.0,"), "touches zero"),
        (BAYES.replace("low: 1.0e-3, high: 1.0,", "low: -1, high: 1.0,"), "touches zero"),
        (BAYES.replace("kind: bayesian", "kind: random"), "key kind: 'random' is not one of"),
        (BAYES.replace("epochs: 4", "epochs: 0"), "key epochs: 0 is less than the minimum"),
        (BAYES + "variants: [cluster]\n", "key variants: unknown variant 'cluster'"),
        (BAYES.replace("log: true}", "log: true, step: 2}"), "is neither {values"),
        (BAYES + "base: {loss: {w_rg: -1}}\n", "base:"),
        (BAYES + "base: {train: {lrr: 1}}\n", "key base.train.lrr: unknown parameter"),
        (BAYES.replace("graph.primes: graph", "graph.primes: grpah"), "missing phase 'grpah'"),
    ],
)
def test_bad_sweep_files_are_refused_naming_file_and_key(
    tmp_path: Path, config: dict, text: str, expected: str
) -> None:
    message = error_of(tmp_path, config, graph=GRID, lw=text)
    assert expected in message
    assert str(tmp_path / "sw" / "lw.yaml") in message


def test_negative_learning_rate_value_is_refused(tmp_path: Path, config: dict) -> None:
    bad = GRID.replace("lr_min: {values: [0.0, 1.0e-5]}", "lr: {values: [1.0e-3, -1.0]}")
    bad = bad.replace("base: {train: {lr: 1.0e-3}}", "")
    message = error_of(tmp_path, config, graph=bad)
    assert "key space.train.lr: -1.0 is not a valid value of train.lr" in message


def test_grid_needs_values_and_a_log_range_needs_bayesian(tmp_path: Path, config: dict) -> None:
    bad = GRID.replace("{values: [0.0, 1.0e-5]}", "{low: 0.0, high: 1.0e-5}")
    assert "a grid needs a list of values" in error_of(tmp_path, config, graph=bad)


def test_two_sweeps_with_the_same_name_are_refused(tmp_path: Path, config: dict) -> None:
    message = error_of(tmp_path, config, a=GRID, b=GRID)
    assert "both are named 'graph'" in message
    assert "a.yaml" in message and "b.yaml" in message


def test_championship_of_a_missing_phase_is_refused(tmp_path: Path, config: dict) -> None:
    message = error_of(tmp_path, config, graph=GRID, champ=CHAMP)
    assert "champ.yaml: key from: refers to a missing phase 'lw'" in message


def test_championship_larger_than_its_source_is_refused(tmp_path: Path, config: dict) -> None:
    message = error_of(
        tmp_path, config, graph=GRID, lw=BAYES, champ=CHAMP.replace("top: 2", "top: 7")
    )
    assert "key top: top = 7 but phase 'lw' has 6 trials" in message


def test_freezing_a_key_the_phase_does_not_provide_is_refused(tmp_path: Path, config: dict) -> None:
    bad = BAYES.replace("freeze: {graph.primes: graph}", "freeze: {model.hidden: graph}")
    message = error_of(tmp_path, config, graph=GRID, lw=bad)
    assert "freeze.model.hidden" in message


def test_phases_referring_in_a_cycle_are_refused(tmp_path: Path, config: dict) -> None:
    a = GRID.replace("graph.primes: {values: [[2, 3, 5], [2, 3, 5, 7], [11, 13]]}", "")
    a += "freeze: {graph.primes: lw}\n"
    message = error_of(tmp_path, config, graph=a, lw=BAYES)
    assert "cycle" in message


def test_a_missing_sweeps_folder_is_refused(tmp_path: Path, config: dict) -> None:
    with pytest.raises(ZetalabError, match="is not a folder"):
        load_sweeps(tmp_path / "nope", config)


def test_registry_lists_every_candidate_graph_of_a_frozen_trial(repo: Path, config: dict) -> None:
    from zetalab.sweeps.registry import register_trials

    plan = SweepPlan.load(repo / "config" / "sweeps", config)
    run_configs: dict = {"ab": {}}
    inputs: dict = {}
    register_trials(plan, config, run_configs, inputs)
    assert len(run_configs) == 1 + 5 + 3 + 200 + 11
    total = config["dataset"]["N"] + 2 * config["dataset"]["horizon"]
    part = config["graph"]["partition"]
    files = inputs["sweep-optimiser-t01"]
    assert files[0] == "results/sweeps/graph/best.json"
    for tag in ("2-3-5", "2-3-5-7", "2-3-5-7-11-13", "2-3-5-7-11-13-17-19", "11-13-17-19"):
        graph_dir = f"results/graphs/n{total}_p{tag}"
        assert f"{graph_dir}/graph.npz" in files
        assert f"{graph_dir}/partition_{part['method']}{part['num_parts']}.npz" in files
    control = inputs["sweep-championship-control"]  # full-batch: graphs only, no partitions
    assert control[0] == "results/sweeps/lossweights/top.json"
    assert not any("partition" in f for f in control) and len(control) == 6


def test_registry_refuses_non_primes_naming_the_trial(tmp_path: Path, config: dict) -> None:
    from zetalab.sweeps.registry import register_trials

    bad = GRID.replace("[11, 13]", "[4, 6]")
    plan = SweepPlan.load(write(tmp_path / "sw", graph=bad), config)
    with pytest.raises(ZetalabError, match=r"trial sweep-graph-t04 \(minibatch\).*4, 6"):
        register_trials(plan, config, {}, {})
