"""The A/B verdict of seed 000 ("Path of A/B testing"), as a pure function of run results.

Question: is Team 1 (full-batch, with rg_penalty) better than Team 2 (mini-batch, without it)
on the extrapolation error at small N, or do both designs work equally well? Outcomes:
- `A`: equivalent within the margin (two one-sided tests): both designs work, so mini-batch
  (cheaper, scales) is the choice and rg_penalty is not needed;
- `B`: full-batch significantly better;
- `worse`: full-batch significantly worse;
- `inconclusive`: neither shown; the verdict says how many seed pairs the margin would need.
  Also the outcome, with its reason, when a compared run completed without converging, and
  when fewer than 2 seed pairs exist.

Why equivalence and not "no significant difference": with few seeds a one-sided test almost
never rejects, so "not significant" would call every under-powered study a tie. TOST turns
the burden around: equivalence must be shown, at the same alpha.

Convergence first: a run that stopped at train.max_epochs with its score still improving
says which design trains faster within the budget, not which design is better. When any run
of a comparison completed without converging (zetalab.evaluation.convergence; a metrics.json
that does not record it counts as not converged), that comparison is `inconclusive` with a
reason starting "not converged:" that names the runs. Every number below is still reported.

Test: errors are positive and spread over orders of magnitude between seeds, so runs are
compared by the log of the error, paired by seed; each seed's error is its mean over the
evaluation windows. With d = log e₁ − log e₂ (e₁ Team 1): superiority is the one-sided paired
t-test of mean d < 0, `worse` of mean d > 0, equivalence is TOST on |mean d| < log(margin)
(margin: a ratio of geometric-mean errors). A p-value equal to alpha is not significant.
When A and B (or A and worse) both hold the difference is real but smaller than the margin:
the outcome is `A`, and the reason says so. The exact one-sided Wilcoxon signed-rank test is
reported beside, with the smallest p-value it can reach (0.5ⁿ).

Divergence counts, through the test, and never decides alone. A diverged (or failed, or
non-finite) run is its team's worst outcome: in its seed pair, d = +∞ when Team 1's run
failed and −∞ when Team 2's did (0, a tie, when both did). The t-test cannot take an infinite
d, so when any run of a comparison failed the decision is the exact one-sided signed-rank
test over every pair, each failed pair holding the largest |d| rank signed against the team
that failed (midranks for ties; the exact permutation law given those ranks); and
equivalence cannot be claimed, since a run that diverged did not work. One divergence is
then one rank among n: with 1 of 6 Team 2 runs diverged and Team 1 twice as bad in the other
5 pairs, p = 17/64 that full-batch is worse and 58/64 that it is better (`inconclusive`);
a divergence against equal errors in the other pairs leaves one non-tied pair (p = ½). With
3 seeds no rank test reaches p < 0.125, so a divergence there is always `inconclusive`. Each
team's share of failed runs is reported, with Fisher's exact test of the two shares beside it
(reported only). Holdout errors are reported beside every number and decide nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from zetalab.evaluation.convergence import FAILURES, Training, unconverged

OUTCOMES = ("A", "B", "worse", "inconclusive")
# The short label the report and the plots show for each outcome.
LABELS = {
    "A": "A: equivalent (mini-batch is the choice)",
    "B": "B: full-batch better",
    "worse": "full-batch worse",
    "inconclusive": "inconclusive",
}
DEFAULT_MARGIN = 1.10
# Below this many pairs the report says the test has little power.
FEW_PAIRS = 5
# Power the "seeds needed" figure aims at.
TARGET_POWER = 0.8
MAX_SEEDS_SEARCHED = 10_000
# The first words of the reason when a compared run did not converge.
NOT_CONVERGED = "not converged"


@dataclass(frozen=True)
class RunResult:
    """One run's errors as the verdict sees them (each the mean over its evaluation windows),
    and how its training ended (default: convergence not recorded, so not converged)."""

    variant: str
    seed: int
    status: str
    extrapolation: float
    holdout: float
    n_windows: int = 1
    training: Training = field(default_factory=Training)

    @property
    def failed(self) -> bool:
        return self.status in FAILURES or not _positive_finite(self.extrapolation)

    @property
    def converged(self) -> bool:
        return self.training.converged

    @property
    def unconverged(self) -> bool:
        """Completed but not converged (a failed run is counted as a failure instead)."""
        return not self.failed and unconverged(self.status, self.training)

    @classmethod
    def over_windows(
        cls,
        variant: str,
        seed: int,
        status: str,
        extrapolation: Sequence[float],
        holdout: Sequence[float],
        training: Training | None = None,
    ) -> RunResult:
        """A seed's errors averaged over its windows (a non-finite window makes it NaN)."""
        return cls(
            variant,
            seed,
            status,
            _mean(extrapolation),
            _mean(holdout),
            len(extrapolation),
            training or Training(),
        )


def _mean(values: Sequence[float]) -> float:
    vals = [math.nan if v is None else float(v) for v in values]
    if not vals or not all(math.isfinite(v) for v in vals):
        return math.nan
    return float(np.mean(vals))


def _positive_finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x) and x > 0


def _by_seed(runs: Iterable[RunResult], variant: str) -> dict[int, RunResult]:
    return {r.seed: r for r in runs if r.variant == variant}


# --------------------------------------------------------------------------- statistics


def tost_power(n: int, sd: float, margin: float, alpha: float, log_ratio: float = 0.0) -> float:
    """Power of TOST with n pairs, per-pair sd of the log ratio, at a true log ratio.

    The usual two-noncentral-t approximation (1 − P(fail low) − P(fail high)), accurate where
    power matters (≥ 0.5); 0 when the margin cannot be shown at all.
    """
    if n < 2 or not math.isfinite(sd) or margin <= 1:
        return 0.0
    bound = math.log(margin)
    if sd <= 0:
        return 1.0 if abs(log_ratio) < bound else 0.0
    df = n - 1
    se = sd / math.sqrt(n)
    crit = stats.t.ppf(1 - alpha, df)
    low = stats.nct.sf(crit, df, (log_ratio + bound) / se)
    high = stats.nct.sf(crit, df, (bound - log_ratio) / se)
    return float(max(0.0, low + high - 1.0))


def seeds_needed(
    sd: float,
    margin: float,
    alpha: float,
    log_ratio: float = 0.0,
    power: float = TARGET_POWER,
) -> int | None:
    """Smallest number of seed pairs whose TOST reaches `power`; None if none up to 10⁴ does
    (the true ratio lies at or beyond the margin, or the spread is unknown)."""
    if not math.isfinite(sd) or abs(log_ratio) >= math.log(margin):
        return None
    lo, hi = 2, 2
    while tost_power(hi, sd, margin, alpha, log_ratio) < power:
        if hi >= MAX_SEEDS_SEARCHED:
            return None
        lo, hi = hi, min(2 * hi, MAX_SEEDS_SEARCHED)
    while lo < hi:  # power grows with n: the first n that reaches it
        mid = (lo + hi) // 2
        if tost_power(mid, sd, margin, alpha, log_ratio) >= power:
            hi = mid
        else:
            lo = mid + 1
    return hi


def signed_rank_test(diff: Sequence[float]) -> dict[str, Any]:
    """Exact one-sided Wilcoxon signed-rank test of paired differences d; ties and ±∞ allowed.

    Zero differences drop out (Wilcoxon's convention); |d| is ranked with midranks, so an
    infinite |d| (a failed run against a completed one) ranks above every finite one. The
    p-values are exact under the permutation null (each sign + or − with probability ½, given
    the ranks): `p_better` that d is mostly negative (the reference's error lower), `p_worse`
    that it is mostly positive. Midranks are multiples of ½, so the law of W⁺ is counted on
    doubled ranks, in integers.
    """
    d = np.array([x for x in diff if not math.isnan(x) and x != 0], dtype=np.float64)
    n = len(d)
    out: dict[str, Any] = {
        "n": n,
        "w_plus": math.nan,
        "p_better": math.nan,
        "p_worse": math.nan,
        "min_p": 0.5**n if n else math.nan,
    }
    if not n:
        return out
    # Rounded so that equal ratios are ties whatever the rounding of their logs.
    doubled = np.rint(2 * stats.rankdata(np.round(np.abs(d), 12))).astype(np.int64)
    law = np.zeros(int(doubled.sum()) + 1)
    law[0] = 1.0
    for r in doubled:  # add one ± sign at a time: P(W) = ½ P(W) + ½ P(W − r)
        shifted = np.zeros_like(law)
        shifted[r:] = law[:-r]
        law = 0.5 * (law + shifted)
    w = int(doubled[d > 0].sum())
    out |= {
        "w_plus": w / 2,
        "p_better": float(min(1.0, law[: w + 1].sum())),
        "p_worse": float(min(1.0, law[w:].sum())),
    }
    return out


def _log_ratio(a: float, b: float) -> float:
    """log a − log b, with +∞ for a failed run (∞ − ∞: both failed, a tie)."""
    if math.isinf(a) and math.isinf(b):
        return 0.0
    return math.log(a) - math.log(b)


def _rankable(x: float | None) -> bool:
    """An error that enters the rank test: positive and finite, or +∞ (a failed run)."""
    return x is not None and (x == math.inf or _positive_finite(x))


def paired_test(
    reference: Mapping[int, float],
    other: Mapping[int, float],
    alpha: float,
    margin: float = DEFAULT_MARGIN,
) -> dict[str, Any]:
    """Paired tests on log errors: reference better, reference worse, equivalent (TOST).

    An error of +∞ marks a failed run: the t-test and TOST use the pairs where both runs have
    a positive finite error; the signed-rank test (`signed_rank`) uses every pair, each
    failed run its pair's worst outcome.
    """
    common = sorted(set(reference) & set(other))
    seeds = [s for s in common if _positive_finite(reference[s]) and _positive_finite(other[s])]
    ranked = [s for s in common if _rankable(reference[s]) and _rankable(other[s])]
    ref = np.array([reference[s] for s in seeds], dtype=np.float64)
    oth = np.array([other[s] for s in seeds], dtype=np.float64)
    n = len(seeds)
    diff = np.log(ref) - np.log(oth)
    bound = math.log(margin)
    nan = math.nan
    failed_pairs: dict[str, list[int]] = {"reference": [], "other": [], "both": []}
    for s in ranked:
        lost_ref, lost_oth = math.isinf(reference[s]), math.isinf(other[s])
        if lost_ref or lost_oth:
            side = "both" if lost_ref and lost_oth else "reference" if lost_ref else "other"
            failed_pairs[side].append(s)
    out: dict[str, Any] = {
        "seeds": seeds,
        "n_pairs": n,
        "reference": ref.tolist(),
        "other": oth.tolist(),
        "mean_reference": float(np.mean(ref)) if n else nan,
        "mean_other": float(np.mean(oth)) if n else nan,
        # exp(mean log ratio): < 1 when the reference's error is lower on (geometric) average.
        "geometric_mean_ratio": float(np.exp(np.mean(diff))) if n else nan,
        "sd_log_ratio": float(np.std(diff, ddof=1)) if n >= 2 else nan,
        "reference_better_in": int(np.sum(diff < 0)),
        "t_statistic": nan,
        "t_pvalue": nan,  # one-sided: reference better
        "t_pvalue_worse": nan,  # one-sided: reference worse
        "t_pvalue_two_sided": nan,
        "tost_pvalue": nan,  # equivalence within the margin
        "ratio_ci": [nan, nan],  # the (1 − 2α) interval of the ratio TOST is read from
        "wilcoxon_pvalue": signed_rank_test(diff)["p_better"],  # the completed pairs
        "wilcoxon_min_pvalue": 0.5**n if n else nan,
        # Every pair, each failed run its pair's worst outcome (decides when a run failed).
        "signed_rank": {
            "seeds": ranked,
            "failed_pairs": failed_pairs,
            **signed_rank_test([_log_ratio(reference[s], other[s]) for s in ranked]),
        },
        "alpha": alpha,
        "margin": margin,
    }
    spread = np.ptp(diff) if n else 0.0
    if n >= 2 and spread > 1e-12 * max(1.0, float(np.max(np.abs(diff)))):
        mean, se, df = float(np.mean(diff)), float(stats.sem(diff)), n - 1
        t = mean / se
        half = stats.t.ppf(1 - alpha, df) * se
        out |= {
            "t_statistic": t,
            "t_pvalue": float(stats.t.cdf(t, df)),
            "t_pvalue_worse": float(stats.t.sf(t, df)),
            "t_pvalue_two_sided": float(2 * stats.t.sf(abs(t), df)),
            # H0: mean ≤ −bound (rejected by large t) and H0: mean ≥ bound (by small t).
            "tost_pvalue": float(
                max(stats.t.sf((mean + bound) / se, df), stats.t.cdf((mean - bound) / se, df))
            ),
            "ratio_ci": [math.exp(mean - half), math.exp(mean + half)],
        }
    elif n >= 2:
        # Identical differences: no spread, the t statistic is undefined; the sign (and the
        # size, against the margin) is all there is.
        d = float(diff[0])
        out |= {
            "t_pvalue": 0.0 if d < 0 else 1.0,
            "t_pvalue_worse": 0.0 if d > 0 else 1.0,
            "t_pvalue_two_sided": 0.0 if d != 0 else 1.0,
            "tost_pvalue": 0.0 if abs(d) < bound else 1.0,
            "ratio_ci": [math.exp(d), math.exp(d)],
        }
    out["significant"] = bool(n >= 2 and out["t_pvalue"] < alpha)
    out["significantly_worse"] = bool(n >= 2 and out["t_pvalue_worse"] < alpha)
    out["equivalent"] = bool(n >= 2 and out["tost_pvalue"] < alpha)
    out["wilcoxon_can_reach_alpha"] = bool(n >= 1 and 0.5**n < alpha)
    out["wilcoxon_agrees"] = (
        bool((out["wilcoxon_pvalue"] < alpha) == out["significant"])
        if out["wilcoxon_can_reach_alpha"] and math.isfinite(out["wilcoxon_pvalue"])
        else None
    )
    out["low_power"] = n < FEW_PAIRS
    sd = out["sd_log_ratio"]
    out["seeds_needed"] = seeds_needed(sd, margin, alpha) if n >= 2 else None
    out["seeds_needed_at_observed_ratio"] = (
        seeds_needed(sd, margin, alpha, float(np.mean(diff))) if n >= 2 else None
    )
    return out


def failure_test(
    failed_ref: int, runs_ref: int, failed_oth: int, runs_oth: int, alpha: float
) -> dict[str, Any]:
    """Each side's share of failed runs and Fisher's exact test of the two shares (reported
    beside the verdict; the failures decide through the signed-rank test, see the module
    docstring). `fails_more` names the side with the larger share when Fisher's p < alpha."""
    share_ref = failed_ref / runs_ref if runs_ref else math.nan
    share_oth = failed_oth / runs_oth if runs_oth else math.nan
    p = math.nan
    more: str | None = None
    if runs_ref and runs_oth:
        table = [[failed_ref, runs_ref - failed_ref], [failed_oth, runs_oth - failed_oth]]
        p = float(stats.fisher_exact(table).pvalue)
        if p < alpha:
            more = "reference" if share_ref > share_oth else "other"
    return {
        "failed_share": {"reference": share_ref, "other": share_oth},
        "fisher_pvalue": p,
        "fails_more": more,
    }


# --------------------------------------------------------------------------- decisions


def training_record(runs: Iterable[RunResult]) -> dict[str, Any]:
    """One team's convergence record: how many of its runs converged, and each run's epochs."""
    runs = sorted(runs, key=lambda r: r.seed)
    return {
        "runs": len(runs),
        "converged": sum(r.converged for r in runs),
        "unconverged": [r.seed for r in runs if r.unconverged],
        "per_run": [
            {
                "seed": r.seed,
                "status": r.status,
                "converged": r.converged,
                "recorded": r.training.recorded,
                "stop_reason": r.training.stop_reason,
                "best_epoch": r.training.best_epoch,
                "kept_epoch": r.training.kept_epoch,
                "epochs_run": r.training.epochs_run,
                "not_converged": r.training.why_not() if not r.converged else None,
            }
            for r in runs
        ],
    }


def _errors(runs: Mapping[int, RunResult], split: str) -> dict[int, float]:
    """Each seed's error on a split; +∞ for a failed run (its team's worst outcome)."""
    return {s: math.inf if r.failed else getattr(r, split) for s, r in runs.items()}


def compare(
    runs: list[RunResult],
    reference: str,
    other: str,
    alpha: float,
    margin: float = DEFAULT_MARGIN,
    metric: str = "mse_height",
) -> dict[str, Any]:
    """Convergence, failures, paired tests on extrapolation (decides) and holdout
    (reported), outcome."""
    ref, oth = _by_seed(runs, reference), _by_seed(runs, other)
    failed = {
        reference: sorted(s for s, r in ref.items() if r.failed),
        other: sorted(s for s, r in oth.items() if r.failed),
    }
    failures = failure_test(len(failed[reference]), len(ref), len(failed[other]), len(oth), alpha)
    comp = {
        "reference": reference,
        "other": other,
        "runs": {reference: len(ref), other: len(oth)},
        "training": {
            reference: training_record(ref.values()),
            other: training_record(oth.values()),
        },
        "failed": failed,
        "failed_share": {
            reference: failures["failed_share"]["reference"],
            other: failures["failed_share"]["other"],
        },
        "failures": failures,
        "windows": sorted({r.n_windows for r in [*ref.values(), *oth.values()]}),
        "extrapolation": paired_test(
            _errors(ref, "extrapolation"), _errors(oth, "extrapolation"), alpha, margin
        ),
        "holdout": paired_test(_errors(ref, "holdout"), _errors(oth, "holdout"), alpha, margin),
    }
    comp["outcome"], comp["reason"] = _decide(comp, alpha, margin, metric)
    return comp


def _unconverged_reason(training: Mapping[str, Mapping[str, Any]]) -> str | None:
    """ "not converged: …" naming the runs that completed without converging, or None."""
    named = [
        f"{variant} seed {run['seed']} ({run['not_converged']})"
        for variant, record in training.items()
        for run in record["per_run"]
        if run["seed"] in record["unconverged"]
    ]
    if not named:
        return None
    return (
        f"{NOT_CONVERGED}: {', '.join(named)}; a comparison between runs that stopped before "
        "converging measures training speed, not the design"
    )


def _decide(comp: Mapping[str, Any], alpha: float, margin: float, metric: str) -> tuple[str, str]:
    """The outcome of one comparison (reference in the role of full-batch) and why."""
    ref, oth = comp["reference"], comp["other"]
    shares = (
        f"{ref} {len(comp['failed'][ref])}/{comp['runs'][ref]} runs diverged, "
        f"{oth} {len(comp['failed'][oth])}/{comp['runs'][oth]}"
    )
    not_converged = _unconverged_reason(comp["training"])
    if not_converged is not None:
        return "inconclusive", not_converged
    t = comp["extrapolation"]
    if comp["failed"][ref] or comp["failed"][oth]:
        return _decide_with_failures(t["signed_rank"], ref, oth, shares, alpha, metric)
    n = t["n_pairs"]
    if n < 2:
        return "inconclusive", (
            f"only {n} usable seed pair(s) ({shares}): at least 2 are needed for any test"
        )
    ratio = f"geometric-mean ratio {_fmt(t['geometric_mean_ratio'])}"
    ci = f"{1 - 2 * alpha:.0%} interval {_fmt(t['ratio_ci'][0])}–{_fmt(t['ratio_ci'][1])}"
    within = f"within the margin ×{margin:g} (TOST p = {_fmt(t['tost_pvalue'])} < {alpha}"
    if t["equivalent"]:
        extra = ""
        if t["significant"]:
            extra = f"; {ref} is also significantly better, by less than the margin"
        elif t["significantly_worse"]:
            extra = f"; {ref} is also significantly worse, by less than the margin"
        return "A", (
            f"{ref} and {oth} are equivalent on extrapolation {metric}: {ratio}, {ci}, "
            f"{within}, {n} pairs){extra}"
        )
    if t["significant"]:
        return "B", (
            f"{ref} has lower extrapolation {metric} than {oth}: {ratio}, one-sided paired "
            f"t-test p = {_fmt(t['t_pvalue'])} < {alpha}, {n} pairs"
        )
    if t["significantly_worse"]:
        return "worse", (
            f"{ref} has higher extrapolation {metric} than {oth}: {ratio}, one-sided paired "
            f"t-test p = {_fmt(t['t_pvalue_worse'])} < {alpha}, {n} pairs"
        )
    need = t["seeds_needed"]
    need_text = (
        f"about {need} seed pairs would give TOST {TARGET_POWER:.0%} power at this spread "
        f"(sd of the log ratio {_fmt(t['sd_log_ratio'])}) if the true ratio were 1"
        if need is not None
        else "the spread of the log ratio is unknown or too large to size a study"
    )
    return "inconclusive", (
        f"neither a difference nor equivalence within ×{margin:g} is shown on extrapolation "
        f"{metric}: {ratio}, {ci}, superiority p = {_fmt(t['t_pvalue'])}, "
        f"worse p = {_fmt(t['t_pvalue_worse'])}, TOST p = {_fmt(t['tost_pvalue'])}, {n} pairs; "
        f"{need_text}"
    )


def _decide_with_failures(
    rank: Mapping[str, Any], ref: str, oth: str, shares: str, alpha: float, metric: str
) -> tuple[str, str]:
    """A comparison where a run failed: the exact signed-rank test over every pair, each
    failed run its pair's worst outcome, decides; equivalence cannot be claimed."""
    n = rank["n"]
    how = (
        f"exact one-sided signed-rank test over {n} non-tied seed pair(s), each diverged run "
        f"ranked as its pair's worst outcome ({shares})"
    )
    for outcome, side, word in (("B", "p_better", "lower"), ("worse", "p_worse", "higher")):
        if rank[side] < alpha:
            return outcome, (
                f"{ref} has {word} extrapolation {metric} than {oth}: {how}, "
                f"p = {_fmt(rank[side])} < {alpha}"
            )
    return "inconclusive", (
        f"no difference is shown on extrapolation {metric}: {how}, p = {_fmt(rank['p_better'])} "
        f"({ref} better) and {_fmt(rank['p_worse'])} ({ref} worse), smallest attainable "
        f"{_fmt(rank['min_p'])}; equivalence cannot be claimed while a run diverges"
    )


def ab_verdict(
    runs: list[RunResult],
    team1: str = "fullbatch",
    team2: str = "minibatch",
    ablation: str = "fullbatch-norg",
    alpha: float = 0.05,
    metric: str = "mse_height",
    margin: float = DEFAULT_MARGIN,
) -> dict[str, Any]:
    """The outcome (A, B, worse, inconclusive) with the numbers behind it (module docstring)."""
    if not margin > 1:
        raise ValueError(f"the equivalence margin must be > 1 (a ratio), got {margin}")
    primary = compare(runs, team1, team2, alpha, margin, metric)
    rg = compare(runs, team1, ablation, alpha, margin, metric)
    test = primary["extrapolation"]
    failures = primary["failed"][team1] or primary["failed"][team2]
    notes = []
    if test["low_power"] and primary["outcome"] != "inconclusive" and not failures:
        notes.append(
            f"{test['n_pairs']} seed pair(s): Wilcoxon's smallest attainable one-sided p is "
            f"{_fmt(test['wilcoxon_min_pvalue'])}; the t-test decides"
        )
    if test["wilcoxon_agrees"] is False and not failures:
        notes.append("the Wilcoxon signed-rank test disagrees with the t-test at this alpha")
    if failures:
        notes.append(
            f"Fisher's exact test of the shares of diverged runs: p = "
            f"{_fmt(primary['failures']['fisher_pvalue'])} (reported only; the diverged runs "
            "decide through the signed-rank test as their pairs' worst outcomes)"
        )
    notes.append(
        f"ablation {team1} vs {ablation} (isolates rg_penalty): outcome {rg['outcome']} — "
        f"{rg['reason']}"
    )
    notes.append("holdout errors are reported beside and were not used for the verdict")
    return {
        "outcome": primary["outcome"],
        "margin": margin,
        "reason": primary["reason"],
        "scenario": LABELS[primary["outcome"]],
        "metric": metric,
        "split": "extrapolation",
        "alpha": alpha,
        "team1": team1,
        "team2": team2,
        "ablation": ablation,
        "failed_share": primary["failed_share"] | {ablation: rg["failed_share"][ablation]},
        "training": primary["training"] | {ablation: rg["training"][ablation]},
        "seeds_needed": test["seeds_needed"],
        "rg_penalty": {"outcome": rg["outcome"], "reason": rg["reason"]},
        "rg_penalty_significant": bool(rg["outcome"] == "B"),
        "comparisons": {"team1_vs_team2": primary, "rg_ablation": rg},
        "notes": notes,
    }


def _fmt(x: float | None) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3g}"


def _share(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.0%}"


def _converged_share(record: Mapping[str, Any]) -> str:
    return f"{record['converged']} of {record['runs']}"


def _epoch(value: int | None) -> str:
    return "—" if value is None else str(value)


def verdict_markdown(verdict: Mapping[str, Any]) -> str:
    """A short human summary of the verdict for the report and the README."""
    lines = [
        f"# A/B verdict: {verdict['outcome']} ({verdict['scenario']})",
        "",
        f"{verdict['reason']}.",
        "",
        f"Equivalence margin ×{verdict['margin']:g} on the ratio of geometric-mean "
        f"extrapolation {verdict['metric']}, alpha {verdict['alpha']}.",
        "",
        "| comparison | outcome | converged (ref / other) | diverged (ref / other) | split "
        "| pairs | mean error (ref) | mean error (other) | ratio | better p | worse p | TOST p "
        "| signed-rank p, diverged ranked worst (better / worse) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, comp in verdict["comparisons"].items():
        ref, oth = comp["reference"], comp["other"]
        fails = (
            f"{_share(comp['failed_share'][ref])} of {comp['runs'][ref]} / "
            f"{_share(comp['failed_share'][oth])} of {comp['runs'][oth]}"
        )
        converged = (
            f"{_converged_share(comp['training'][ref])} / {_converged_share(comp['training'][oth])}"
        )
        for split in ("extrapolation", "holdout"):
            t = comp[split]
            rank = t["signed_rank"]
            used = "" if split == "extrapolation" else " (reported only)"
            lines.append(
                f"| {ref} vs {oth} ({key}) | {comp['outcome'] if not used else ''} | "
                f"{converged} | {fails} | {split}{used} | {t['n_pairs']} | "
                f"{_fmt(t['mean_reference'])} | {_fmt(t['mean_other'])} | "
                f"{_fmt(t['geometric_mean_ratio'])} | {_fmt(t['t_pvalue'])} | "
                f"{_fmt(t['t_pvalue_worse'])} | {_fmt(t['tost_pvalue'])} | "
                f"{_fmt(rank['p_better'])} / {_fmt(rank['p_worse'])} |"
            )
    lines += [
        "",
        "## Training record",
        "",
        "A run converged when it stopped because its extrapolation score had not improved for "
        "train.patience epochs; a run that hit train.max_epochs (or whose metrics.json does "
        "not record convergence) did not.",
        "",
        "| variant | runs converged | seed | status | converged | best epoch | kept epoch "
        "| epochs run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant, record in verdict["training"].items():
        for i, run in enumerate(record["per_run"]):
            label = "yes" if run["converged"] else f"no ({run['not_converged']})"
            lines.append(
                f"| {variant if i == 0 else ''} | {_converged_share(record) if i == 0 else ''} "
                f"| {run['seed']} | {run['status']} | {label} | {_epoch(run['best_epoch'])} "
                f"| {_epoch(run['kept_epoch'])} | {_epoch(run['epochs_run'])} |"
            )
    lines += ["", *[f"- {n}" for n in verdict["notes"]], ""]
    return "\n".join(lines)
