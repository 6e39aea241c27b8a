# Rules of Study S, the geodesic-coupled spectral neural ODE (SPEC §9, seed 003).
# Per data regime (wildcard {regime}, results/spectral/{regime}/): spectral_data ->
# spectral_train (subset "all", one "without_cK" per held-out inner concentration and, for the
# extrapolation scores, per end; each to convergence on an inner split) -> spectral_validate (the
# NODE against linear, cubic spline, PCHIP, Akima, a Gaussian process and the low-rank SVD, the
# strongest chosen by inner leave-one-out); spectral_benchmark and spectral_export for
# spectral.data.regime; spectral_regimes compares the regimes of spectral.regimes.
# Each rule's params hold the settings its outputs depend on, so changing one reruns exactly the
# jobs it affects (device, threads, checkpoint_every and profiling rerun nothing).
# See docs/spectral.md.
from zetalab.spectral.plan import (
    check_settings,
    planned_extrapolation,
    planned_held_out,
    planned_regimes,
    stage_settings,
)

try:
    check_settings(config["spectral"])
    SPECTRAL_HELD_OUT = planned_held_out(config["spectral"])
    SPECTRAL_ENDS = planned_extrapolation(config["spectral"])
    SPECTRAL_REGIMES = planned_regimes(config["spectral"])
except ZetalabError as error:
    raise WorkflowError(str(error)) from None

SPECTRAL_LEFT_OUT = sorted(SPECTRAL_HELD_OUT + SPECTRAL_ENDS)
SPECTRAL_SUBSETS = ["all"] + [f"without_c{k}" for k in SPECTRAL_LEFT_OUT]
SPECTRAL_REGIME = config["spectral"]["data"]["regime"]
SPECTRAL_ROOT = "results/spectral"
SPECTRAL_DIR = f"{SPECTRAL_ROOT}/{{regime}}"
SPECTRAL_MODEL = f"{SPECTRAL_DIR}/models/{{subset}}/model.pt"
SPECTRAL_HISTORY = f"{SPECTRAL_DIR}/models/{{subset}}/history.json"


wildcard_constraints:
    regime="beer_lambert|monomer_dimer|band_shift|saturation",


rule spectral_data:
    """Seeded synthetic spectra of one regime (or the configured data file), checked, plotted."""
    output:
        spectra=f"{SPECTRAL_DIR}/data/spectra.npz",
        manifest=f"{SPECTRAL_DIR}/data/manifest.json",
        plot=report(
            f"{SPECTRAL_DIR}/data/spectra.png",
            caption="../report/spectral_data.rst",
            category="Study S",
            subcategory="{regime}",
        ),
    log:
        "logs/spectral/{regime}/data.log",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        settings=lambda wc: stage_settings(config["spectral"], "data", wc.regime),
    script:
        "../scripts/spectral_data.py"


rule spectral_train:
    """One model on every ordered transition of a subset; resumes from its checkpoint."""
    input:
        spectra=rules.spectral_data.output.spectra,
    output:
        model=SPECTRAL_MODEL,
        history=SPECTRAL_HISTORY,
    log:
        "logs/spectral/{regime}/train_{subset}.log",
    benchmark:
        "logs/benchmarks/spectral_train_{regime}_{subset}.tsv"
    wildcard_constraints:
        subset=r"all|without_c\d+",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        settings=lambda wc: stage_settings(config["spectral"], "train", wc.regime),
        checkpoint=lambda wc: f"{SPECTRAL_ROOT}/{wc.regime}/models/{wc.subset}/checkpoint.pt",
        profile_trace=lambda wc: (
            f"logs/spectral/{wc.regime}/profile_{wc.subset}.json"
            if config["spectral"]["train"]["profile"]
            else None
        ),
    script:
        "../scripts/spectral_train.py"


rule spectral_validate:
    """Leave-one-out: the NODE against every baseline, interpolation and extrapolation."""
    input:
        spectra=rules.spectral_data.output.spectra,
        models=expand(SPECTRAL_MODEL, subset=SPECTRAL_SUBSETS[1:], allow_missing=True),
        histories=expand(SPECTRAL_HISTORY, subset=SPECTRAL_SUBSETS[1:], allow_missing=True),
    output:
        metrics=f"{SPECTRAL_DIR}/validation/metrics.json",
        table=report(
            f"{SPECTRAL_DIR}/validation/table.md",
            caption="../report/spectral_validation.rst",
            category="Study S",
            subcategory="{regime}",
        ),
        plot=report(
            f"{SPECTRAL_DIR}/validation/held_out_spectra.png",
            caption="../report/spectral_held_out.rst",
            category="Study S",
            subcategory="{regime}",
        ),
        methods_plot=report(
            f"{SPECTRAL_DIR}/validation/methods.png",
            caption="../report/spectral_methods.rst",
            category="Study S",
            subcategory="{regime}",
        ),
        loss_plot=report(
            f"{SPECTRAL_DIR}/validation/loss_curves.png",
            caption="../report/spectral_loss.rst",
            category="Study S",
            subcategory="{regime}",
        ),
    log:
        "logs/spectral/{regime}/validate.log",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        settings=lambda wc: stage_settings(config["spectral"], "validate", wc.regime),
        left_out=SPECTRAL_LEFT_OUT,
        history_names=SPECTRAL_SUBSETS[1:],
    script:
        "../scripts/spectral_validate.py"


rule spectral_regimes:
    """The validation means of every regime of spectral.regimes side by side."""
    input:
        metrics=expand(
            f"{SPECTRAL_ROOT}/{{regime}}/validation/metrics.json", regime=SPECTRAL_REGIMES
        ),
    output:
        table=report(
            f"{SPECTRAL_ROOT}/regimes.md",
            caption="../report/spectral_regimes.rst",
            category="Study S",
        ),
        plot=report(
            f"{SPECTRAL_ROOT}/regimes.png",
            caption="../report/spectral_regimes.rst",
            category="Study S",
        ),
    log:
        "logs/spectral/regimes.log",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        regimes=SPECTRAL_REGIMES,
    script:
        "../scripts/spectral_regimes.py"


rule spectral_benchmark:
    """Throughput of training and inference on this machine's device."""
    input:
        spectra=rules.spectral_data.output.spectra,
        model=SPECTRAL_MODEL.replace("{subset}", "all"),
    output:
        figures=f"{SPECTRAL_DIR}/benchmark/benchmark.json",
        table=report(
            f"{SPECTRAL_DIR}/benchmark/table.md",
            caption="../report/spectral_benchmark.rst",
            category="Study S",
            subcategory="{regime}",
        ),
    log:
        "logs/spectral/{regime}/benchmark.log",
    benchmark:
        "logs/benchmarks/spectral_benchmark_{regime}.tsv"
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        settings=lambda wc: stage_settings(config["spectral"], "benchmark", wc.regime),
    script:
        "../scripts/spectral_benchmark.py"


rule spectral_export:
    """TorchScript and ONNX of the unrolled model, checked against the eager model."""
    input:
        spectra=rules.spectral_data.output.spectra,
        model=SPECTRAL_MODEL.replace("{subset}", "all"),
    output:
        **(
            {"onnx": f"{SPECTRAL_DIR}/export/model.onnx"}
            if config["spectral"]["export"]["onnx"]
            else {}
        ),
        torchscript=f"{SPECTRAL_DIR}/export/model_torchscript.pt",
        manifest=f"{SPECTRAL_DIR}/export/export.json",
    log:
        "logs/spectral/{regime}/export.log",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        settings=lambda wc: stage_settings(config["spectral"], "export", wc.regime),
    script:
        "../scripts/spectral_export.py"


# Plain patterns, not rules.X.output: with a default storage provider (the gcp-batch profile)
# those are storage-flagged files, which expand() refuses. One output per job is target enough.
DEFAULT_TARGETS.setdefault("study_s", []).extend(
    [
        *expand(f"{SPECTRAL_DIR}/validation/metrics.json", regime=SPECTRAL_REGIMES),
        *expand(f"{SPECTRAL_DIR}/benchmark/benchmark.json", regime=SPECTRAL_REGIME),
        *expand(f"{SPECTRAL_DIR}/export/export.json", regime=SPECTRAL_REGIME),
        *([f"{SPECTRAL_ROOT}/regimes.md"] if config["spectral"]["regimes"] else []),
    ]
)
