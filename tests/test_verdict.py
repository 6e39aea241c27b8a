"""The A/B verdict logic on synthetic results: a pure function, no files."""

import math

import numpy as np
import pytest
from scipy import stats

from zetalab.evaluation.convergence import Training
from zetalab.evaluation.verdict import (
    RunResult,
    ab_verdict,
    failure_test,
    paired_test,
    seeds_needed,
    signed_rank_test,
    tost_power,
    verdict_markdown,
)

CONVERGED = Training(converged=True, recorded=True, stop_reason="patience")
AT_CAP = Training(converged=False, recorded=True, stop_reason="max_epochs", epochs_run=80)


def _runs(
    errors: dict[str, list[float]],
    status: dict[str, list[str]] | None = None,
    training: dict[str, list[Training]] | None = None,
):
    """Runs of converged trainings unless `training` says otherwise."""
    status, training = status or {}, training or {}
    out = []
    for variant, values in errors.items():
        for seed, e in enumerate(values):
            st = status.get(variant, ["completed"] * len(values))[seed]
            tr = training.get(variant, [CONVERGED] * len(values))[seed]
            out.append(RunResult(variant, seed, st, e, 1.1 * e, training=tr))
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


def test_partial_divergence_4_of_5_is_b_through_the_rank_test():
    # Defect (b) of issue 13: 4 of 5 mini-batch runs diverge -> used to be "Scenario A".
    # Each divergence is its pair's worst outcome; with seed 0 also favouring full-batch,
    # all 5 pairs do: exact signed-rank p = 1/32 < 0.05.
    full = list(_spread(5, 4))
    mini = [full[0] * 1.01, math.nan, math.nan, math.nan, math.nan]
    status = {"minibatch": ["completed", "diverged", "diverged", "diverged", "diverged"]}
    v = ab_verdict(_runs({"fullbatch": full, "minibatch": mini}, status))
    assert v["outcome"] == "B"
    assert v["failed_share"] == {"fullbatch": 0.0, "minibatch": 0.8, "fullbatch-norg": math.nan}
    assert "signed-rank" in v["reason"] and "minibatch 4/5" in v["reason"]
    comp = v["comparisons"]["team1_vs_team2"]
    assert comp["failed"]["minibatch"] == [1, 2, 3, 4]
    assert comp["extrapolation"]["seeds"] == [0]  # the t-test pairs completed runs only
    rank = comp["extrapolation"]["signed_rank"]
    assert rank["seeds"] == [0, 1, 2, 3, 4] and rank["failed_pairs"]["other"] == [1, 2, 3, 4]
    assert rank["p_better"] == pytest.approx(1 / 32)
    # Full-batch failing more is `worse`, by the same rule.
    flipped = _runs({"fullbatch": mini, "minibatch": full}, {"fullbatch": status["minibatch"]})
    assert ab_verdict(flipped)["outcome"] == "worse"
    # The same divergences with seed 0 favouring mini-batch: p = 2/32, no decision.
    mixed = ab_verdict(_runs({"fullbatch": full, "minibatch": [full[0] / 2, *mini[1:]]}, status))
    assert mixed["outcome"] == "inconclusive"


def test_one_divergence_does_not_outweigh_five_pairs_against_its_team():
    """Issue 19: mini-batch 1 of 6 diverged while full-batch is 2× worse in the other 5 pairs
    used to give `B` (any divergence against none decided)."""
    mini = list(_spread(6, 8))
    full = [2 * e for e in mini]
    mini[3] = math.nan
    status = {"minibatch": ["completed"] * 3 + ["diverged"] + ["completed"] * 2}
    v = ab_verdict(_runs({"fullbatch": full, "minibatch": mini}, status))
    assert v["outcome"] != "B"
    rank = v["comparisons"]["team1_vs_team2"]["extrapolation"]["signed_rank"]
    # Ranks 1–5 tied (midrank 3) against full-batch, rank 6 (the divergence) for it:
    # P(W⁺ ≥ 15) = 17/64 of the 2⁶ sign patterns.
    assert rank["p_worse"] == pytest.approx(17 / 64) and rank["p_better"] == pytest.approx(58 / 64)
    assert v["outcome"] == "inconclusive" and "equivalence cannot be claimed" in v["reason"]
    # The divergence is not dropped either: the five completed pairs alone would say `worse`.
    assert v["comparisons"]["team1_vs_team2"]["extrapolation"]["significantly_worse"]


def test_one_of_three_diverged_against_equal_errors_is_inconclusive():
    """Issue 19: 1 of 3 against 0 of 3 with equal errors used to give `worse`."""
    errors = list(_spread(3, 9))
    status = {"fullbatch": ["diverged", "completed", "completed"]}
    full = [math.nan, *errors[1:]]
    v = ab_verdict(_runs({"fullbatch": full, "minibatch": errors}, status))
    assert v["outcome"] == "inconclusive"
    rank = v["comparisons"]["team1_vs_team2"]["extrapolation"]["signed_rank"]
    assert rank["n"] == 1 and rank["p_worse"] == 0.5  # ties drop out: one pair remains
    assert rank["failed_pairs"] == {"reference": [0], "other": [], "both": []}
    # No equivalence either, though the completed pairs are identical.
    assert v["comparisons"]["team1_vs_team2"]["extrapolation"]["equivalent"]
    assert v["outcome"] != "A"
    assert any("Fisher" in note and "reported only" in note for note in v["notes"])


def test_signed_rank_is_exact_with_ties_and_infinite_differences():
    d = [0.3, -0.1, 0.5, 0.2, -0.7, 0.9, 0.05]
    ours = signed_rank_test(d)
    assert ours["p_better"] == pytest.approx(
        stats.wilcoxon(d, alternative="less", method="exact").pvalue, rel=1e-12
    )
    assert ours["p_worse"] == pytest.approx(
        stats.wilcoxon(d, alternative="greater", method="exact").pvalue, rel=1e-12
    )
    # An infinite difference takes the top rank; ties share midranks; zeros drop out.
    # |d| = 1, 1, ∞ → ranks 1.5, 1.5, 3; W⁺ = 1.5 + 3 = 4.5 of 6; patterns with W⁺ ≥ 4.5:
    # {+,+,+}, {+,−,+}, {−,+,+} → 3/8; W⁺ ≤ 4.5: all but {+,+,+} → 7/8.
    tied = signed_rank_test([1.0, -1.0, math.inf, 0.0])
    assert tied["n"] == 3 and tied["w_plus"] == 4.5
    assert tied["p_worse"] == pytest.approx(3 / 8) and tied["p_better"] == pytest.approx(7 / 8)
    assert math.isnan(signed_rank_test([0.0, 0.0])["p_better"])


def test_both_runs_of_a_pair_diverged_is_a_tie():
    errors = list(_spread(4, 10))
    status = ["diverged", "completed", "completed", "completed"]
    full, mini = [math.nan, *errors[1:]], [math.nan, *[e * 1.5 for e in errors[1:]]]
    v = ab_verdict(
        _runs({"fullbatch": full, "minibatch": mini}, {"fullbatch": status, "minibatch": status})
    )
    rank = v["comparisons"]["team1_vs_team2"]["extrapolation"]["signed_rank"]
    assert rank["failed_pairs"]["both"] == [0] and rank["n"] == 3
    assert rank["p_better"] == pytest.approx(1 / 8) and v["outcome"] == "inconclusive"


def test_fisher_test_of_failure_shares_is_reported():
    assert failure_test(1, 10, 9, 10, 0.05)["fails_more"] == "other"
    even = failure_test(1, 5, 2, 5, 0.05)  # p = 1: neither fails more
    assert even["fails_more"] is None and even["fisher_pvalue"] == pytest.approx(1.0)
    assert failure_test(0, 5, 0, 5, 0.05)["fails_more"] is None
    assert failure_test(0, 3, 1, 3, 0.05)["fails_more"] is None  # one failure: no decision


def test_a_run_at_the_epoch_cap_makes_its_comparisons_inconclusive():
    """Issue 19, item 1: runs that hit train.max_epochs compare training speed."""
    rng = np.random.default_rng(1)
    full = list(0.01 * (1 + 0.1 * rng.random(4)))
    mini = list(0.10 * (1 + 0.1 * rng.random(4)))
    errors = {"fullbatch": full, "minibatch": mini, "fullbatch-norg": mini}
    assert ab_verdict(_runs(errors))["outcome"] == "B"  # all converged: decided
    capped = {"minibatch": [CONVERGED, AT_CAP, CONVERGED, AT_CAP]}
    v = ab_verdict(_runs(errors, training=capped))
    assert v["outcome"] == "inconclusive"
    assert v["reason"].startswith("not converged: minibatch seed 1 (hit max_epochs), ")
    assert "minibatch seed 3 (hit max_epochs)" in v["reason"]
    assert "measures training speed, not the design" in v["reason"]
    assert v["rg_penalty"]["outcome"] == "B"  # the ablation's runs all converged
    comp = v["comparisons"]["team1_vs_team2"]
    assert comp["training"]["minibatch"]["converged"] == 2
    assert comp["training"]["minibatch"]["unconverged"] == [1, 3]
    assert comp["extrapolation"]["significant"]  # the numbers are still reported
    # The ablation follows the same rule; a record without convergence keys is not converged.
    unknown = {"fullbatch-norg": [Training()] * 4}
    rg = ab_verdict(_runs(errors, training=unknown))["rg_penalty"]
    assert rg["outcome"] == "inconclusive"
    assert rg["reason"].startswith(
        "not converged: fullbatch-norg seed 0 (convergence not recorded)"
    )
    # A diverged run is not "unconverged": the divergence rule handles it.
    status = {"minibatch": ["diverged", "completed", "completed", "completed"]}
    diverged = {"minibatch": [Training(recorded=True, stop_reason="diverged"), *[CONVERGED] * 3]}
    assert not ab_verdict(_runs(errors, status, diverged))["reason"].startswith("not converged")


def test_markdown_shows_each_teams_convergence_record():
    errors = {"fullbatch": [0.01, 0.02, 0.03], "minibatch": [0.02, 0.03, 0.05]}
    record = Training(True, True, "patience", best_epoch=31, kept_epoch=31, epochs_run=51)
    runs = _runs(errors, training={"minibatch": [record, AT_CAP, record]})
    md = verdict_markdown(ab_verdict(runs))
    assert "| 3 of 3 / 2 of 3 |" in md  # converged (ref / other)
    assert "| minibatch | 2 of 3 | 0 | completed | yes | 31 | 31 | 51 |" in md
    assert "| 1 | completed | no (hit max_epochs) | — | — | 80 |" in md


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
        RunResult("fullbatch", s, "completed", e, h, training=CONVERGED)
        for s, (e, h) in enumerate([(0.05, 0.001), (0.05, 0.001), (0.06, 0.001)])
    ] + [
        RunResult("minibatch", s, "completed", e, h, training=CONVERGED)
        for s, (e, h) in enumerate([(0.05, 0.1), (0.06, 0.2), (0.05, 0.3)])
    ]
    v = ab_verdict(runs)
    comp = v["comparisons"]["team1_vs_team2"]
    assert comp["holdout"]["significant"] and not comp["extrapolation"]["significant"]
    assert v["outcome"] != "B"


def test_seed_error_is_the_mean_over_windows():
    r = RunResult.over_windows("fullbatch", 0, "completed", [0.1, 0.3], [0.2, 0.4])
    assert r.extrapolation == pytest.approx(0.2) and r.holdout == pytest.approx(0.3)
    assert r.n_windows == 2 and not r.failed and not r.converged and r.unconverged
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
    from pathlib import Path

    from zetalab.evaluation.jobs import verdict_job

    metrics, evaluations = [], []
    for variant, scale in (("fullbatch", 1.0), ("minibatch", 1.0), ("fullbatch-norg", 2.0)):
        for seed in range(4):
            m = tmp_path / f"{variant}{seed}m.json"
            e = tmp_path / f"{variant}{seed}e.json"
            record = {"variant": variant, "seed": seed, "status": "completed"}
            record |= {"converged": True, "stop_reason": "patience", "best_epoch": 20,
                       "kept_epoch": 20, "epochs_run": 30}  # fmt: skip
            m.write_text(json.dumps(record))
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
    assert written["training"]["minibatch"]["per_run"][0]["kept_epoch"] == 20
    # metrics.json files from before the convergence keys: not converged, so no decision.
    for path in metrics:
        record = json.loads(Path(path).read_text())
        for key in ("converged", "stop_reason", "best_epoch", "kept_epoch", "epochs_run"):
            del record[key]
        Path(path).write_text(json.dumps(record))
    old = verdict_job(metrics, evaluations, ab, tmp_path / "v.json", tmp_path / "v.md")
    assert old["outcome"] == "inconclusive" and old["rg_penalty"]["outcome"] == "inconclusive"
    assert old["reason"].startswith("not converged: fullbatch seed 0 (convergence not recorded)")
    assert "| 0 of 4 / 0 of 4 |" in (tmp_path / "v.md").read_text()
