"""The A/B verdict logic on synthetic results: a pure function, no files."""

import numpy as np
import pytest

from zetalab.evaluation.verdict import (
    SCENARIO_A,
    SCENARIO_B,
    RunResult,
    ab_verdict,
    paired_test,
    verdict_markdown,
)


def _runs(errors: dict[str, list[float]], status: dict[str, list[str]] | None = None):
    status = status or {}
    out = []
    for variant, values in errors.items():
        for seed, e in enumerate(values):
            st = status.get(variant, ["completed"] * len(values))[seed]
            out.append(RunResult(variant, seed, st, e, 1.1 * e))
    return out


def test_clear_scenario_b_when_full_batch_is_much_better_on_every_seed():
    rng = np.random.default_rng(1)
    full = list(0.01 * (1 + 0.1 * rng.random(6)))
    mini = list(0.10 * (1 + 0.1 * rng.random(6)))
    v = ab_verdict(_runs({"fullbatch": full, "minibatch": mini, "fullbatch-norg": mini}))
    assert v["scenario"] == SCENARIO_B
    test = v["comparisons"]["team1_vs_team2"]["extrapolation"]
    assert test["n_pairs"] == 6 and test["significant"]
    assert test["t_pvalue"] < 1e-4
    assert test["wilcoxon_pvalue"] == pytest.approx(0.5**6)  # every seed favours full-batch
    assert test["wilcoxon_agrees"] is True
    assert test["geometric_mean_ratio"] == pytest.approx(0.1, rel=0.1)
    assert v["rg_penalty_significant"] is True
    assert "Scenario B" in verdict_markdown(v)


def test_scenario_a_when_equal_or_noisy():
    rng = np.random.default_rng(2)
    for _ in range(20):
        same = list(np.exp(rng.normal(-3, 0.5, 5)))
        other = list(np.exp(rng.normal(-3, 0.5, 5)))
        v = ab_verdict(_runs({"fullbatch": same, "minibatch": other, "fullbatch-norg": other}))
        test = v["comparisons"]["team1_vs_team2"]["extrapolation"]
        assert (v["scenario"] == SCENARIO_B) == (test["t_pvalue"] < 0.05)
    equal = [0.02, 0.03, 0.05]
    v = ab_verdict(_runs({"fullbatch": equal, "minibatch": equal, "fullbatch-norg": equal}))
    assert v["scenario"] == SCENARIO_A and not v["rg_penalty_significant"]
    assert v["comparisons"]["team1_vs_team2"]["extrapolation"]["t_pvalue"] == 1.0


def test_full_batch_worse_is_not_scenario_b():
    v = ab_verdict(_runs({"fullbatch": [0.2, 0.3, 0.25, 0.22, 0.3], "minibatch": [0.02] * 5}))
    assert v["scenario"] == SCENARIO_A
    assert v["comparisons"]["team1_vs_team2"]["extrapolation"]["t_pvalue"] > 0.99


def test_few_seeds_say_the_test_has_little_power():
    v = ab_verdict(_runs({"fullbatch": [0.01, 0.011], "minibatch": [0.1, 0.2]}))
    test = v["comparisons"]["team1_vs_team2"]["extrapolation"]
    assert test["low_power"] and not test["wilcoxon_can_reach_alpha"]
    assert any("little power" in n for n in v["notes"])
    one = ab_verdict(_runs({"fullbatch": [0.01], "minibatch": [0.1]}))
    assert one["scenario"] == SCENARIO_A and "no test is possible" in one["reason"]


def test_team2_failing_completely_is_scenario_b_and_diverged_runs_are_not_paired():
    runs = _runs(
        {"fullbatch": [0.01, 0.02, 0.03], "minibatch": [0.5, float("nan"), 0.7]},
        {"minibatch": ["diverged"] * 3},
    )
    v = ab_verdict(runs)
    assert v["scenario"] == SCENARIO_B and v["team2_failed_completely"]
    comp = v["comparisons"]["team1_vs_team2"]
    assert comp["failed"]["minibatch"] == [0, 1, 2] and comp["extrapolation"]["n_pairs"] == 0
    partly = _runs(
        {"fullbatch": [0.01, 0.02, 0.03], "minibatch": [0.011, 0.021, 0.7]},
        {"minibatch": ["completed", "completed", "diverged"]},
    )
    v = ab_verdict(partly)
    assert not v["team2_failed_completely"]
    assert v["comparisons"]["team1_vs_team2"]["extrapolation"]["seeds"] == [0, 1]


def test_holdout_is_reported_but_never_decides():
    runs = [
        RunResult("fullbatch", s, "completed", e, h)
        for s, (e, h) in enumerate([(0.05, 0.001), (0.05, 0.001), (0.06, 0.001)])
    ] + [
        RunResult("minibatch", s, "completed", e, h)
        for s, (e, h) in enumerate([(0.05, 0.1), (0.06, 0.2), (0.05, 0.3)])
    ]
    v = ab_verdict(runs)
    comp = v["comparisons"]["team1_vs_team2"]
    assert comp["holdout"]["significant"] and not comp["extrapolation"]["significant"]
    assert v["scenario"] == SCENARIO_A


def test_paired_test_pairs_by_seed():
    t = paired_test({0: 1.0, 1: 2.0, 5: 3.0}, {1: 4.0, 5: 6.0, 7: 1.0}, 0.05)
    assert t["seeds"] == [1, 5] and t["reference"] == [2.0, 3.0] and t["other"] == [4.0, 6.0]
    assert t["geometric_mean_ratio"] == pytest.approx(0.5)
