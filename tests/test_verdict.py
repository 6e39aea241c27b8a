"""The A/B verdict logic on synthetic results: a pure function, no files."""

import math

import numpy as np
import pytest
from scipy import stats

from zetalab.evaluation.verdict import (
    RunResult,
    ab_verdict,
    failure_test,
    paired_test,
    seeds_needed,
    tost_power,
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


def _spread(n: int, seed: int) -> np.ndarray:
    """Errors spread over seeds by a factor of ~2, shared by both teams (paired design)."""
    return 0.02 * np.exp(np.random.default_rng(seed).normal(0, 0.7, n))


def test_equivalent_within_margin_is_outcome_a():
    base = _spread(6, 1)
    noise = np.exp(np.random.default_rng(2).normal(0, 0.01, 6))  # ±1 % per seed
    v = ab_verdict(_runs({"fullbatch": list(base * noise), "minibatch": list(base)}))
    assert v["outcome"] == "A" and v["margin"] == 1.10
    test = v["comparisons"]["team1_vs_team2"]["extrapolation"]
    assert test["equivalent"] and test["tost_pvalue"] < 0.05
    lo, hi = test["ratio_ci"]
    assert 1 / 1.1 < lo < 1 < hi < 1.1
    assert "equivalent" in v["reason"] and "within the margin" in v["reason"]
    # The same numbers with a margin the interval does not fit in: not shown.
    tight = ab_verdict(
        _runs({"fullbatch": list(base * noise), "minibatch": list(base)}), margin=1.001
    )
    assert tight["outcome"] == "inconclusive" and tight["seeds_needed"] > 6


def test_tost_matches_two_textbook_one_sided_tests():
    d = np.log([1.02, 0.97, 1.05, 1.01, 0.99, 1.03])
    t = paired_test(
        {i: float(np.exp(x)) for i, x in enumerate(d)}, dict.fromkeys(range(6), 1.0), 0.05
    )
    bound = math.log(1.1)
    p_low = stats.ttest_1samp(d, -bound, alternative="greater").pvalue
    p_high = stats.ttest_1samp(d, bound, alternative="less").pvalue
    assert t["tost_pvalue"] == pytest.approx(max(p_low, p_high), rel=1e-9)
    assert t["t_pvalue"] == pytest.approx(stats.ttest_1samp(d, 0, alternative="less").pvalue)


def test_full_batch_much_better_on_every_seed_is_b():
    rng = np.random.default_rng(1)
    full = list(0.01 * (1 + 0.1 * rng.random(6)))
    mini = list(0.10 * (1 + 0.1 * rng.random(6)))
    v = ab_verdict(_runs({"fullbatch": full, "minibatch": mini, "fullbatch-norg": mini}))
    assert v["outcome"] == "B"
    test = v["comparisons"]["team1_vs_team2"]["extrapolation"]
    assert test["n_pairs"] == 6 and test["significant"] and not test["equivalent"]
    assert test["t_pvalue"] < 1e-4
    assert test["wilcoxon_pvalue"] == pytest.approx(0.5**6)  # every seed favours full-batch
    assert test["geometric_mean_ratio"] == pytest.approx(0.1, rel=0.1)
    assert v["rg_penalty"]["outcome"] == "B" and v["rg_penalty_significant"]
    assert verdict_markdown(v).startswith("# A/B verdict: B")


def test_full_batch_30_to_50_percent_worse_on_all_seeds_is_worse_not_a():
    # Defect (a) of issue 13: this used to be "Scenario A".
    mini = _spread(5, 3)
    factor = np.array([1.3, 1.5, 1.4, 1.35, 1.45])
    v = ab_verdict(_runs({"fullbatch": list(mini * factor), "minibatch": list(mini)}))
    assert v["outcome"] == "worse"
    test = v["comparisons"]["team1_vs_team2"]["extrapolation"]
    assert test["t_pvalue_worse"] < 1e-3 and test["t_pvalue"] > 0.99
    assert "higher extrapolation" in v["reason"]


def test_partial_divergence_4_of_5_is_b_with_the_reason():
    # Defect (b) of issue 13: 4 of 5 mini-batch runs diverge -> used to be "Scenario A".
    full = list(_spread(5, 4))
    mini = [full[0] * 1.01, math.nan, math.nan, math.nan, math.nan]
    status = {"minibatch": ["completed", "diverged", "diverged", "diverged", "diverged"]}
    v = ab_verdict(_runs({"fullbatch": full, "minibatch": mini}, status))
    assert v["outcome"] == "B"
    assert v["failed_share"] == {"fullbatch": 0.0, "minibatch": 0.8, "fullbatch-norg": math.nan}
    assert "minibatch diverges more often" in v["reason"] and "4/5" in v["reason"]
    comp = v["comparisons"]["team1_vs_team2"]
    assert comp["failed"]["minibatch"] == [1, 2, 3, 4]
    assert comp["extrapolation"]["seeds"] == [0]  # diverged runs are never paired
    # Full-batch failing more is `worse`, by the same rule.
    flipped = _runs({"fullbatch": mini, "minibatch": full}, {"fullbatch": status["minibatch"]})
    assert ab_verdict(flipped)["outcome"] == "worse"


def test_fisher_decides_when_both_teams_diverge():
    assert failure_test(1, 10, 9, 10, 0.05)["fails_more"] == "other"
    assert failure_test(1, 10, 9, 10, 0.05)["decided_by"] == "fisher"
    even = failure_test(1, 5, 2, 5, 0.05)  # p = 1: neither fails more
    assert even["fails_more"] is None and even["fisher_pvalue"] == pytest.approx(1.0)
    assert failure_test(0, 5, 0, 5, 0.05)["fails_more"] is None


def test_too_few_seeds_is_inconclusive_with_its_reason():
    one = ab_verdict(_runs({"fullbatch": [0.01], "minibatch": [0.1]}))
    assert one["outcome"] == "inconclusive"
    assert "only 1 usable seed pair" in one["reason"] and "at least 2" in one["reason"]
    none = ab_verdict(_runs({"fullbatch": [], "minibatch": []}))
    assert none["outcome"] == "inconclusive"


def test_noisy_study_is_inconclusive_and_says_how_many_seeds_it_needs():
    rng = np.random.default_rng(5)
    base = _spread(3, 6)
    full = base * np.exp(rng.normal(0, 0.3, 3))
    v = ab_verdict(_runs({"fullbatch": list(full), "minibatch": list(base)}))
    test = v["comparisons"]["team1_vs_team2"]["extrapolation"]
    assert v["outcome"] == "inconclusive"
    need = test["seeds_needed"]
    assert need is not None and need > 3 and f"about {need} seed pairs" in v["reason"]
    sd = test["sd_log_ratio"]
    assert tost_power(need, sd, 1.1, 0.05) >= 0.8 > tost_power(need - 1, sd, 1.1, 0.05)


def test_p_equal_to_alpha_is_not_significant():
    t = paired_test({0: 1.0, 1: 1.0}, {0: 2.0, 1: 3.0}, alpha=0.0)
    assert not t["significant"] and not t["equivalent"]
    # Choose alpha to be exactly the p-value: still not significant.
    base = paired_test({0: 0.5, 1: 0.6, 2: 0.55}, {0: 1.0, 1: 1.0, 2: 1.0}, 0.05)
    exact = paired_test({0: 0.5, 1: 0.6, 2: 0.55}, {0: 1.0, 1: 1.0, 2: 1.0}, base["t_pvalue"])
    assert not exact["significant"]


def test_power_and_seeds_needed_agree_with_a_simulation():
    sd, margin, alpha = 0.1, 1.1, 0.05
    n = seeds_needed(sd, margin, alpha)
    # (z_{0.95} + z_{0.9})² sd² / log(m)² ≈ 9.5 pairs by the normal approximation.
    assert 9 <= n <= 13
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(1000):
        d = rng.normal(0, sd, n)
        t = paired_test(
            {i: float(np.exp(x)) for i, x in enumerate(d)},
            dict.fromkeys(range(n), 1.0),
            alpha,
            margin,
        )
        hits += t["equivalent"]
    assert hits / 1000 == pytest.approx(tost_power(n, sd, margin, alpha), abs=0.05)
    assert seeds_needed(sd, margin, alpha, log_ratio=math.log(1.2)) is None  # beyond the margin


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
    assert v["outcome"] != "B"


def test_seed_error_is_the_mean_over_windows():
    r = RunResult.over_windows("fullbatch", 0, "completed", [0.1, 0.3], [0.2, 0.4])
    assert r.extrapolation == pytest.approx(0.2) and r.holdout == pytest.approx(0.3)
    assert r.n_windows == 2 and not r.failed
    bad = RunResult.over_windows("fullbatch", 0, "completed", [0.1, math.nan], [0.2, 0.4])
    assert bad.failed


def test_margin_must_exceed_one():
    with pytest.raises(ValueError, match="margin must be > 1"):
        ab_verdict(_runs({"fullbatch": [0.1, 0.2], "minibatch": [0.1, 0.2]}), margin=1.0)


def test_paired_test_pairs_by_seed():
    t = paired_test({0: 1.0, 1: 2.0, 5: 3.0}, {1: 4.0, 5: 6.0, 7: 1.0}, 0.05)
    assert t["seeds"] == [1, 5] and t["reference"] == [2.0, 3.0] and t["other"] == [4.0, 6.0]
    assert t["geometric_mean_ratio"] == pytest.approx(0.5)


def test_verdict_job_averages_windows_and_writes_outcome_and_margin(tmp_path):
    import json

    from zetalab.evaluation.jobs import verdict_job

    metrics, evaluations = [], []
    for variant, scale in (("fullbatch", 1.0), ("minibatch", 1.0), ("fullbatch-norg", 2.0)):
        for seed in range(4):
            m = tmp_path / f"{variant}{seed}m.json"
            e = tmp_path / f"{variant}{seed}e.json"
            m.write_text(json.dumps({"variant": variant, "seed": seed, "status": "completed"}))
            base = 0.01 * (seed + 1)
            windows = [
                {
                    "kind": kind,
                    "errors": {"extrapolation": {"mse_height": scale * base * f}, "holdout": {}},
                }
                for kind, f in (("rolling", 0.5), ("rolling", 1.5), ("shift", 100.0))
            ]
            e.write_text(json.dumps({"errors": windows[0]["errors"], "windows": windows}))
            metrics.append(str(m))
            evaluations.append(str(e))
    ab = {"team1": "fullbatch", "team2": "minibatch", "ablation": "fullbatch-norg",
          "alpha": 0.05, "metric": "mse_height", "margin": 1.1}  # fmt: skip
    v = verdict_job(metrics, evaluations, ab, tmp_path / "v.json", tmp_path / "v.md")
    written = json.loads((tmp_path / "v.json").read_text())
    assert written["outcome"] == v["outcome"] == "A" and written["margin"] == 1.1
    test = written["comparisons"]["team1_vs_team2"]["extrapolation"]
    assert test["reference"] == pytest.approx([0.01, 0.02, 0.03, 0.04])  # window means
    assert written["comparisons"]["team1_vs_team2"]["windows"] == [2]
    assert written["rg_penalty"]["outcome"] == "B"  # without rg_penalty: twice the error
