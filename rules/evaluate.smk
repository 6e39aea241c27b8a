# Rules of the evaluate stage (SPEC §6–§7): baselines, the scoring of every run and baseline,
# the leaderboard, the A/B verdict and the report's figures. Path logic lives in
# zetalab.evaluation.paths, the work in zetalab.evaluation.jobs.
import functools

from zetalab.evaluation.baselines import BASELINES
from zetalab.evaluation.paths import TARGET_PATTERN, baseline_files, evaluation_inputs
from zetalab.evaluation.protocol import verdict_files

BASELINE_NAMES: list[str] = list(config["baselines"]["names"])
# ab_run_files(name): that file of every run of the A/B study (cfg "ab", variants × seeds).
ab_run_files = functools.partial(train_outputs, "ab", TRAIN_VARIANTS, TRAIN_SEEDS)


rule baseline:
    """One baseline fitted on the train zeros only, predicting every node 1..N+2H."""
    input:
        zeros=zeros_aggregate_path(),
    output:
        predictions="results/baselines/{name}/predictions.npz",
        info="results/baselines/{name}/fit_info.json",
    log:
        "logs/baseline/{name}.log",
    benchmark:
        "logs/benchmarks/baseline/{name}.tsv"
    wildcard_constraints:
        name="|".join(BASELINES),
    conda:
        "../envs/learning.yaml"
    params:
        dataset=config["dataset"],
        baselines=config["baselines"],
    script:
        "../scripts/baseline.py"


rule evaluate:
    """Errors per split, skill against smooth, KS to GUE and v(L) of one predictions file."""
    input:
        unpack(lambda w: evaluation_inputs(w.target, config, RUN_REGISTRY, zeros_aggregate_path)),
    output:
        "results/{target}/evaluation.json",
    log:
        "logs/evaluate/{target}.log",
    wildcard_constraints:
        target=TARGET_PATTERN,
    conda:
        "../envs/learning.yaml"
    params:
        dataset=config["dataset"],
    script:
        "../scripts/evaluate.py"


rule leaderboard:
    """One row per A/B run and per baseline, sorted by extrapolation error."""
    input:
        run_metrics=ab_run_files("metrics.json"),
        run_evaluations=ab_run_files("evaluation.json"),
        baseline_infos=baseline_files(BASELINE_NAMES, "fit_info.json"),
        baseline_evaluations=baseline_files(BASELINE_NAMES, "evaluation.json"),
    output:
        csv=report(
            "results/leaderboard.csv",
            caption="../report/leaderboard.rst",
            category="Study Z",
            subcategory="Leaderboard",
        ),
        md="results/leaderboard.md",
        html=report(
            "results/leaderboard.html",
            caption="../report/leaderboard.rst",
            category="Study Z",
            subcategory="Leaderboard",
        ),
    log:
        "logs/leaderboard.log",
    conda:
        "../envs/learning.yaml"
    params:
        baselines=BASELINE_NAMES,
    script:
        "../scripts/leaderboard.py"


rule ab_verdict:
    """A (equivalent), B (full-batch better), worse or inconclusive: paired tests across seeds."""
    input:
        # A config with fewer than 2 seeds stops here, before any job (verdict_files).
        run_metrics=lambda w: verdict_files(TRAIN_SEEDS, ab_run_files("metrics.json")),
        run_evaluations=ab_run_files("evaluation.json"),
    output:
        json="results/ab_verdict.json",
        md="results/ab_verdict.md",
        html=report(
            "results/ab_verdict.html",
            caption="../report/ab_verdict.rst",
            category="Study Z",
            subcategory="A/B verdict",
        ),
    log:
        "logs/ab_verdict.log",
    conda:
        "../envs/learning.yaml"
    params:
        ab=config["ab"],
    script:
        "../scripts/ab_verdict.py"


rule plot_ab_verdict:
    input:
        verdict="results/ab_verdict.json",
        baselines=baseline_files(BASELINE_NAMES, "evaluation.json"),
    output:
        report(
            "results/plots/ab_verdict.png",
            caption="../report/ab_verdict_plot.rst",
            category="Study Z",
            subcategory="A/B verdict",
        ),
    log:
        "logs/plots/ab_verdict.log",
    conda:
        "../envs/learning.yaml"
    params:
        baselines=BASELINE_NAMES,
    script:
        "../scripts/plot_ab_verdict.py"


rule plot_loss_curves:
    input:
        histories=ab_run_files("history.csv"),
        baselines=baseline_files(BASELINE_NAMES, "evaluation.json"),
    output:
        report(
            "results/plots/loss_curves.png",
            caption="../report/loss_curves.rst",
            category="Study Z",
            subcategory="Training",
        ),
    log:
        "logs/plots/loss_curves.log",
    conda:
        "../envs/learning.yaml"
    params:
        baselines=BASELINE_NAMES,
    script:
        "../scripts/plot_loss_curves.py"


rule plot_predictions:
    input:
        zeros=zeros_aggregate_path(),
        runs=ab_run_files("predictions.npz"),
        baselines=baseline_files(BASELINE_NAMES, "predictions.npz"),
    output:
        horizon=report(
            "results/plots/horizon.png",
            caption="../report/horizon.rst",
            category="Study Z",
            subcategory="Predictions",
        ),
        spacings=report(
            "results/plots/spacings.png",
            caption="../report/spacings.rst",
            category="Study Z",
            subcategory="Predictions",
        ),
    log:
        "logs/plots/predictions.log",
    conda:
        "../envs/learning.yaml"
    params:
        dataset=config["dataset"],
        baselines=BASELINE_NAMES,
    script:
        "../scripts/plot_predictions.py"


rule plot_variance:
    input:
        runs=ab_run_files("evaluation.json"),
        baselines=baseline_files(BASELINE_NAMES, "evaluation.json"),
    output:
        report(
            "results/plots/variance.png",
            caption="../report/variance.rst",
            category="Study Z",
            subcategory="Predictions",
        ),
    log:
        "logs/plots/variance.log",
    conda:
        "../envs/learning.yaml"
    params:
        baselines=BASELINE_NAMES,
    script:
        "../scripts/plot_variance.py"


DEFAULT_TARGETS.setdefault("study_z", []).extend(
    [
        "results/leaderboard.csv",
        "results/leaderboard.md",
        "results/ab_verdict.json",
        "results/plots/ab_verdict.png",
        "results/plots/loss_curves.png",
        "results/plots/horizon.png",
        "results/plots/spacings.png",
        "results/plots/variance.png",
    ]
)
