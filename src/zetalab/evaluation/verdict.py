"""The A/B verdict of seed 000 ("Path of A/B testing"), as a pure function of run results.

Question: does Team 1 (full-batch, with rg_penalty) significantly outperform Team 2
(mini-batch, without it) on the extrapolation error at small N?
- Scenario A: no significant difference → rg_penalty is not shown to be needed; Team 2 may
  drop it. With few seeds this means "no evidence of a difference", not "evidence of none".
- Scenario B: full-batch significantly better (or Team 2 fails completely: every Team 2 run
  diverged where Team 1's ran) → the RMT priors alone are not enough at small N.
The ablation full-batch vs full-batch with w_rg = 0 isolates rg_penalty itself.

Test: errors are positive and spread over orders of magnitude between seeds, so runs are
compared by the log of the error, paired by seed. The one-sided paired t-test (alternative:
Team 1's error is lower) decides at level alpha; the Wilcoxon signed-rank test (exact, one-
sided) is reported beside it, with the smallest p-value it can reach for the number of
pairs (0.5ⁿ): below five pairs it cannot reach 0.05 at all. Diverged runs are failures, kept
out of the paired tests and counted. Holdout errors are reported beside, never used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

SCENARIO_A = "Scenario A"
SCENARIO_B = "Scenario B"
# Below this many pairs the report says the test has little power.
FEW_PAIRS = 5


@dataclass(frozen=True)
class RunResult:
    """One run's errors as the verdict sees them."""

    variant: str
    seed: int
    status: str
    extrapolation: float
    holdout: float

    @property
    def failed(self) -> bool:
        return self.status == "diverged" or not math.isfinite(self.extrapolation)


def _by_seed(runs: Iterable[RunResult], variant: str) -> dict[int, RunResult]:
    return {r.seed: r for r in runs if r.variant == variant}


def paired_test(
    reference: Mapping[int, float], other: Mapping[int, float], alpha: float
) -> dict[str, Any]:
    """One-sided paired tests of 'reference has lower error than other' on log errors."""
    seeds = sorted(
        s
        for s in set(reference) & set(other)
        if _positive_finite(reference[s]) and _positive_finite(other[s])
    )
    ref = np.array([reference[s] for s in seeds], dtype=np.float64)
    oth = np.array([other[s] for s in seeds], dtype=np.float64)
    n = len(seeds)
    diff = np.log(ref) - np.log(oth)
    out: dict[str, Any] = {
        "seeds": seeds,
        "n_pairs": n,
        "reference": ref.tolist(),
        "other": oth.tolist(),
        "mean_reference": float(np.mean(ref)) if n else math.nan,
        "mean_other": float(np.mean(oth)) if n else math.nan,
        # exp(mean log ratio): < 1 when the reference's error is lower on (geometric) average.
        "geometric_mean_ratio": float(np.exp(np.mean(diff))) if n else math.nan,
        "reference_better_in": int(np.sum(diff < 0)),
        "t_statistic": math.nan,
        "t_pvalue": math.nan,
        "t_pvalue_two_sided": math.nan,
        "wilcoxon_pvalue": math.nan,
        "wilcoxon_min_pvalue": 0.5**n if n else math.nan,
        "alpha": alpha,
    }
    if n >= 2 and np.ptp(diff) > 1e-12 * max(1.0, float(np.max(np.abs(diff)))):
        t = stats.ttest_1samp(diff, 0.0, alternative="less")
        two = stats.ttest_1samp(diff, 0.0, alternative="two-sided")
        out |= {
            "t_statistic": float(t.statistic),
            "t_pvalue": float(t.pvalue),
            "t_pvalue_two_sided": float(two.pvalue),
        }
    elif n >= 2:
        # Identical differences: the t statistic is undefined; the sign alone is all there is.
        out["t_pvalue"] = 0.0 if diff[0] < 0 else 1.0
        out["t_pvalue_two_sided"] = 0.0 if diff[0] != 0 else 1.0
    if n >= 1 and np.any(diff != 0):
        w = stats.wilcoxon(diff, alternative="less", method="exact", zero_method="wilcox")
        out["wilcoxon_pvalue"] = float(w.pvalue)
    out["significant"] = bool(n >= 2 and out["t_pvalue"] < alpha)
    out["wilcoxon_can_reach_alpha"] = bool(n >= 1 and 0.5**n < alpha)
    out["wilcoxon_agrees"] = (
        bool((out["wilcoxon_pvalue"] < alpha) == out["significant"])
        if out["wilcoxon_can_reach_alpha"] and math.isfinite(out["wilcoxon_pvalue"])
        else None
    )
    out["low_power"] = n < FEW_PAIRS
    return out


def _positive_finite(x: float) -> bool:
    return x is not None and math.isfinite(x) and x > 0


def compare(runs: list[RunResult], reference: str, other: str, alpha: float) -> dict[str, Any]:
    """Paired comparison of two variants on extrapolation (decides) and holdout (reported)."""
    ref, oth = _by_seed(runs, reference), _by_seed(runs, other)
    ok_ref = {s: r for s, r in ref.items() if not r.failed}
    ok_oth = {s: r for s, r in oth.items() if not r.failed}
    return {
        "reference": reference,
        "other": other,
        "runs": {reference: len(ref), other: len(oth)},
        "failed": {
            reference: sorted(s for s, r in ref.items() if r.failed),
            other: sorted(s for s, r in oth.items() if r.failed),
        },
        "extrapolation": paired_test(
            {s: r.extrapolation for s, r in ok_ref.items()},
            {s: r.extrapolation for s, r in ok_oth.items()},
            alpha,
        ),
        "holdout": paired_test(
            {s: r.holdout for s, r in ok_ref.items()},
            {s: r.holdout for s, r in ok_oth.items()},
            alpha,
        ),
    }


def ab_verdict(
    runs: list[RunResult],
    team1: str = "fullbatch",
    team2: str = "minibatch",
    ablation: str = "fullbatch-norg",
    alpha: float = 0.05,
    metric: str = "mse_height",
) -> dict[str, Any]:
    """Scenario A or B with the numbers behind it (see the module docstring)."""
    primary = compare(runs, team1, team2, alpha)
    rg = compare(runs, team1, ablation, alpha)
    t1_ok = [s for s, r in _by_seed(runs, team1).items() if not r.failed]
    t2 = _by_seed(runs, team2)
    team2_collapsed = bool(t1_ok) and bool(t2) and all(t2[s].failed for s in t1_ok if s in t2)
    test = primary["extrapolation"]
    if team2_collapsed:
        scenario = SCENARIO_B
        reason = (
            f"every {team2} run diverged on the seeds where {team1} ran "
            f"({', '.join(map(str, t1_ok))}): Team 2 fails completely"
        )
    elif test["n_pairs"] < 2:
        scenario = SCENARIO_A
        reason = (
            f"only {test['n_pairs']} usable seed pair(s): no test is possible, so there is "
            f"no evidence that {team1} is better"
        )
    elif test["significant"]:
        scenario = SCENARIO_B
        reason = (
            f"{team1} has lower extrapolation {metric} than {team2} "
            f"(geometric mean ratio {test['geometric_mean_ratio']:.3g}, one-sided paired t-test "
            f"p = {test['t_pvalue']:.3g} < {alpha})"
        )
    else:
        scenario = SCENARIO_A
        reason = (
            f"no significant advantage of {team1} over {team2} on extrapolation {metric} "
            f"(geometric mean ratio {test['geometric_mean_ratio']:.3g}, one-sided paired t-test "
            f"p = {_fmt(test['t_pvalue'])} ≥ {alpha})"
        )
    notes = []
    if test["low_power"]:
        notes.append(
            f"{test['n_pairs']} seed pair(s): the test has little power; Scenario A here means "
            "'no evidence of a difference', not 'evidence of no difference'. "
            f"Wilcoxon's smallest attainable one-sided p is {_fmt(test['wilcoxon_min_pvalue'])}."
        )
    if test["wilcoxon_agrees"] is False:
        notes.append("the Wilcoxon signed-rank test disagrees with the t-test at this alpha")
    rg_test = rg["extrapolation"]
    rg_helps = bool(rg_test["significant"])
    notes.append(
        f"ablation {team1} vs {ablation} (isolates rg_penalty): "
        + ("rg_penalty significantly lowers" if rg_helps else "no significant effect on")
        + f" the extrapolation {metric} (ratio {_fmt(rg_test['geometric_mean_ratio'])}, "
        f"p = {_fmt(rg_test['t_pvalue'])}, {rg_test['n_pairs']} pairs)"
    )
    notes.append("holdout errors are reported beside and were not used for the verdict")
    return {
        "scenario": scenario,
        "reason": reason,
        "metric": metric,
        "split": "extrapolation",
        "alpha": alpha,
        "team1": team1,
        "team2": team2,
        "ablation": ablation,
        "team2_failed_completely": team2_collapsed,
        "rg_penalty_significant": rg_helps,
        "comparisons": {"team1_vs_team2": primary, "rg_ablation": rg},
        "notes": notes,
    }


def _fmt(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3g}"


def verdict_markdown(verdict: Mapping[str, Any]) -> str:
    """A short human summary of the verdict for the report and the README."""
    lines = [
        f"# A/B verdict: {verdict['scenario']}",
        "",
        f"{verdict['reason']}.",
        "",
        "| comparison | split | pairs | mean error (ref) | mean error (other) | ratio "
        "| t-test p | Wilcoxon p | significant |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, comp in verdict["comparisons"].items():
        for split in ("extrapolation", "holdout"):
            t = comp[split]
            label = f"{comp['reference']} vs {comp['other']}"
            used = "" if split == "extrapolation" else " (reported only)"
            lines.append(
                f"| {label} ({key}) | {split}{used} | {t['n_pairs']} | "
                f"{_fmt(t['mean_reference'])} | {_fmt(t['mean_other'])} | "
                f"{_fmt(t['geometric_mean_ratio'])} | {_fmt(t['t_pvalue'])} | "
                f"{_fmt(t['wilcoxon_pvalue'])} | {'yes' if t['significant'] else 'no'} |"
            )
    lines += ["", *[f"- {n}" for n in verdict["notes"]], ""]
    return "\n".join(lines)
