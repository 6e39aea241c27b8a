# Rules of the evaluate stage (SPEC §6–§7): baselines, the scoring of every run and baseline,
# the leaderboard, the A/B verdict and the report's figures. Paths live in
# zetalab.learning.paths (zpaths), input logic in zetalab.evaluation.workflow, the work in
# zetalab.evaluation.jobs.
import functools

from zetalab.evaluation.baselines import BASELINES
from zetalab.evaluation.workflow import (
    baseline_estimate,
    baseline_params,
    baseline_zeros,
    evaluation_inputs,
)
from zetalab.evaluation.protocol import verdict_files

# What the baseline rule fits: each of baselines.names, the mlp in both forms for every seed.
BASELINE_NAMES: list[str] = zpaths.baseline_instances(config["baselines"]["names"], TRAIN_SEEDS)
# The plots show one fit of each baseline (a seeded one at the first seed).
PLOT_BASELINES: list[str] = [
    name for name in BASELINE_NAMES if zpaths.baseline_identity(name)[1] in (None, TRAIN_SEEDS[0])
]
# ab_run_files(name): that file of every run of the A/B study (cfg "ab", variants × seeds).
ab_run_files = functools.partial(zpaths.run_files, "ab", TRAIN_VARIANTS, TRAIN_SEEDS)
# (variant, seed) of each A/B run, in the order of ab_run_files: the plots' legends.
AB_RUNS = [(variant, seed) for variant in TRAIN_VARIANTS for seed in TRAIN_SEEDS]
baseline_files = zpaths.baseline_files


rule explicit_formula:
    """prime_sum's explicit-formula setting, chosen once on the extrapolation window, and its
    δ̂ at every zero of the study: the prime_sum baseline and every learner's feature column."""
    input:
        window_zeros=baseline_zeros(config, zeros_aggregate_path),
    output:
        table=zpaths.EXPLICIT_FORMULA,
        selection=zpaths.EXPLICIT_FORMULA_SELECTION,
    log:
        "logs/explicit_formula.log",
    benchmark:
        "logs/benchmarks/explicit_formula.tsv"
    conda:
        "../envs/learning.yaml"
    params:
        dataset=config["dataset"],
        prime_sum=config["baselines"]["prime_sum"],
        evaluation=config["evaluation"],
    script:
        "../scripts/explicit_formula.py"


rule baseline:
    """One baseline fitted on the train zeros only, predicting every node 1..N+2H."""
    input:
        zeros=zeros_aggregate_path(),
        # the study's zeros, then one aggregate per height-shift window (issue 13's windows)
        window_zeros=baseline_zeros(config, zeros_aggregate_path),
        # the explicit-formula selection (prime_sum's setting, the learners' estimate column)
        estimate=lambda w: baseline_estimate(w.name),
    output:
        predictions=zpaths.BASELINE_PREDICTIONS,
        info=zpaths.BASELINE_INFO,
        windows=zpaths.BASELINE_WINDOWS,
    log:
        "logs/baseline/{name}.log",
    benchmark:
        "logs/benchmarks/baseline/{name}.tsv"
    wildcard_constraints:
        name="|".join(BASELINES) + r"|mlp(-residual)?/seed\d+",
    conda:
        "../envs/learning.yaml"
    params:
        # What this baseline reads (zetalab.evaluation.workflow.baseline_params): a changed
        # value reruns it alone. linear and mlp see the GNN's own node features (model, graph).
        dataset=config["dataset"],
        baselines=lambda w: baseline_params(config, w.name)["baselines"],
        model=lambda w: baseline_params(config, w.name)["model"],
        graph=lambda w: baseline_params(config, w.name)["graph"],
        evaluation=config["evaluation"],
    script:
        "../scripts/baseline.py"


rule evaluate:
    """Errors per split, skill against smooth, KS to GUE and v(L) of one predictions file."""
    input:
        unpack(lambda w: evaluation_inputs(w.target, config, RUN_REGISTRY, zeros_aggregate_path)),
    output:
        zpaths.EVALUATION,
    log:
        "logs/evaluate/{target}.log",
    wildcard_constraints:
        target=zpaths.WILDCARDS["target"],
    conda:
        "../envs/learning.yaml"
    params:
        dataset=config["dataset"],
        evaluation=config["evaluation"],
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
            zpaths.leaderboard_path("csv"),
            caption="../report/leaderboard.rst",
            category="Study Z",
            subcategory="Leaderboard",
        ),
        md=zpaths.leaderboard_path("md"),
        html=report(
            zpaths.leaderboard_path("html"),
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
        json=zpaths.ab_verdict_path("json"),
        md=zpaths.ab_verdict_path("md"),
        html=report(
            zpaths.ab_verdict_path("html"),
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


rule windows_report:
    """Every rolling-origin window of every A/B run and baseline; the mean over seeds and
    windows with a bootstrap 95 % interval (zetalab.evaluation.windowed)."""
    input:
        run_metrics=ab_run_files("metrics.json"),
        run_evaluations=ab_run_files("evaluation.json"),
        baseline_evaluations=baseline_files(BASELINE_NAMES, "evaluation.json"),
    output:
        csv=zpaths.WINDOWS_REPORT.format(ext="csv"),
        md=zpaths.WINDOWS_REPORT.format(ext="md"),
        html=report(
            zpaths.WINDOWS_REPORT.format(ext="html"),
            caption="../report/windows.rst",
            category="Study Z",
            subcategory="Windows",
        ),
    log:
        "logs/windows_report.log",
    conda:
        "../envs/learning.yaml"
    params:
        baselines=BASELINE_NAMES,
        evaluation=config["evaluation"],
    script:
        "../scripts/windows_report.py"


rule height_shift:
    """Runs (not retrained) and baselines at the training height and at each of
    evaluation.shift_starts, errors in mean spacings (config/height_shift.yaml)."""
    input:
        run_metrics=ab_run_files("metrics.json"),
        run_evaluations=ab_run_files("evaluation.json"),
        baseline_evaluations=baseline_files(BASELINE_NAMES, "evaluation.json"),
    output:
        csv=zpaths.HEIGHT_SHIFT.format(ext="csv"),
        md=report(
            zpaths.HEIGHT_SHIFT.format(ext="md"),
            caption="../report/height_shift.rst",
            category="Study Z",
            subcategory="Windows",
        ),
    log:
        "logs/height_shift.log",
    conda:
        "../envs/learning.yaml"
    params:
        baselines=BASELINE_NAMES,
        evaluation=config["evaluation"],
    script:
        "../scripts/height_shift.py"


rule plot_ab_verdict:
    input:
        verdict=zpaths.ab_verdict_path("json"),
        baselines=baseline_files(PLOT_BASELINES, "evaluation.json"),
    output:
        report(
            zpaths.plot_path("ab_verdict"),
            caption="../report/ab_verdict_plot.rst",
            category="Study Z",
            subcategory="A/B verdict",
        ),
    log:
        "logs/plots/ab_verdict.log",
    conda:
        "../envs/learning.yaml"
    params:
        baselines=PLOT_BASELINES,
    script:
        "../scripts/plot_ab_verdict.py"


rule plot_loss_curves:
    input:
        histories=ab_run_files("history.csv"),
        baselines=baseline_files(PLOT_BASELINES, "evaluation.json"),
    output:
        report(
            zpaths.plot_path("loss_curves"),
            caption="../report/loss_curves.rst",
            category="Study Z",
            subcategory="Training",
        ),
    log:
        "logs/plots/loss_curves.log",
    conda:
        "../envs/learning.yaml"
    params:
        runs=AB_RUNS,
        baselines=PLOT_BASELINES,
    script:
        "../scripts/plot_loss_curves.py"


rule plot_predictions:
    input:
        zeros=zeros_aggregate_path(),
        runs=ab_run_files("predictions.npz"),
        baselines=baseline_files(PLOT_BASELINES, "predictions.npz"),
    output:
        horizon=report(
            zpaths.plot_path("horizon"),
            caption="../report/horizon.rst",
            category="Study Z",
            subcategory="Predictions",
        ),
        spacings=report(
            zpaths.plot_path("spacings"),
            caption="../report/spacings.rst",
            category="Study Z",
            subcategory="Predictions",
        ),
    log:
        "logs/plots/predictions.log",
    conda:
        "../envs/learning.yaml"
    params:
        runs=AB_RUNS,
        dataset=config["dataset"],
        baselines=PLOT_BASELINES,
    script:
        "../scripts/plot_predictions.py"


rule plot_variance:
    input:
        runs=ab_run_files("evaluation.json"),
        baselines=baseline_files(PLOT_BASELINES, "evaluation.json"),
    output:
        report(
            zpaths.plot_path("variance"),
            caption="../report/variance.rst",
            category="Study Z",
            subcategory="Predictions",
        ),
    log:
        "logs/plots/variance.log",
    conda:
        "../envs/learning.yaml"
    params:
        runs=AB_RUNS,
        baselines=PLOT_BASELINES,
    script:
        "../scripts/plot_variance.py"


DEFAULT_TARGETS.setdefault("study_z", []).extend(
    [
        zpaths.leaderboard_path("csv"),
        zpaths.leaderboard_path("md"),
        zpaths.ab_verdict_path("json"),
        zpaths.plot_path("ab_verdict"),
        zpaths.plot_path("loss_curves"),
        zpaths.plot_path("horizon"),
        zpaths.plot_path("spacings"),
        zpaths.plot_path("variance"),
        zpaths.WINDOWS_REPORT.format(ext="md"),
    ]
    # the height-shift report when the config places windows at other heights
    + ([zpaths.HEIGHT_SHIFT.format(ext="md")] if config["evaluation"]["shift_starts"] else [])
)
