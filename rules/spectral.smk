# Rules of Study S, the geodesic-coupled spectral neural ODE (SPEC §9, seed 003).
# spectral_data -> spectral_train (subset "all" and one "without_cK" per held-out inner
# concentration) -> spectral_validate / spectral_benchmark / spectral_export. See docs/spectral.md.
from zetalab.spectral.plan import planned_held_out

try:
    SPECTRAL_HELD_OUT = planned_held_out(config["spectral"])
except ZetalabError as error:
    raise WorkflowError(str(error)) from None

SPECTRAL_DIR = "results/spectral"
SPECTRAL_SUBSETS = ["all"] + [f"without_c{k}" for k in SPECTRAL_HELD_OUT]


SPECTRAL_MODEL = f"{SPECTRAL_DIR}/models/{{subset}}/model.pt"
SPECTRAL_HISTORY = f"{SPECTRAL_DIR}/models/{{subset}}/history.json"


rule spectral_data:
    """Seeded synthetic spectra (or the configured data file), checked and plotted."""
    output:
        spectra=f"{SPECTRAL_DIR}/data/spectra.npz",
        manifest=f"{SPECTRAL_DIR}/data/manifest.json",
        plot=report(
            f"{SPECTRAL_DIR}/data/spectra.png",
            caption="../report/spectral_data.rst",
            category="Study S",
        ),
    log:
        "logs/spectral/data.log",
    conda:
        "../envs/spectral.yaml"
    threads: 1
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
        "logs/spectral/train_{subset}.log",
    benchmark:
        "logs/benchmarks/spectral_train_{subset}.tsv"
    wildcard_constraints:
        subset=r"all|without_c\d+",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        checkpoint=lambda wc: f"{SPECTRAL_DIR}/models/{wc.subset}/checkpoint.pt",
        profile_trace=lambda wc: (
            f"logs/spectral/profile_{wc.subset}.json"
            if config["spectral"]["train"]["profile"]
            else None
        ),
    script:
        "../scripts/spectral_train.py"


rule spectral_validate:
    """Leave-one-out interpolation of the inner spectra against linear interpolation."""
    input:
        spectra=rules.spectral_data.output.spectra,
        models=expand(SPECTRAL_MODEL, subset=SPECTRAL_SUBSETS[1:]),
        histories=expand(SPECTRAL_HISTORY, subset=SPECTRAL_SUBSETS),
    output:
        metrics=f"{SPECTRAL_DIR}/validation/metrics.json",
        table=report(
            f"{SPECTRAL_DIR}/validation/table.md",
            caption="../report/spectral_validation.rst",
            category="Study S",
        ),
        plot=report(
            f"{SPECTRAL_DIR}/validation/held_out_spectra.png",
            caption="../report/spectral_held_out.rst",
            category="Study S",
        ),
        loss_plot=report(
            f"{SPECTRAL_DIR}/validation/loss_curves.png",
            caption="../report/spectral_loss.rst",
            category="Study S",
        ),
    log:
        "logs/spectral/validate.log",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    params:
        held_out=SPECTRAL_HELD_OUT,
        history_names=SPECTRAL_SUBSETS,
    script:
        "../scripts/spectral_validate.py"


rule spectral_benchmark:
    """Throughput of training and inference on this machine's device."""
    input:
        spectra=rules.spectral_data.output.spectra,
        model=SPECTRAL_MODEL.format(subset="all"),
    output:
        figures=f"{SPECTRAL_DIR}/benchmark/benchmark.json",
        table=report(
            f"{SPECTRAL_DIR}/benchmark/table.md",
            caption="../report/spectral_benchmark.rst",
            category="Study S",
        ),
    log:
        "logs/spectral/benchmark.log",
    benchmark:
        "logs/benchmarks/spectral_benchmark.tsv"
    conda:
        "../envs/spectral.yaml"
    threads: 1
    script:
        "../scripts/spectral_benchmark.py"


rule spectral_export:
    """TorchScript and ONNX of the unrolled model, checked against the eager model."""
    input:
        spectra=rules.spectral_data.output.spectra,
        model=SPECTRAL_MODEL.format(subset="all"),
    output:
        **(
            {"onnx": f"{SPECTRAL_DIR}/export/model.onnx"}
            if config["spectral"]["export"]["onnx"]
            else {}
        ),
        torchscript=f"{SPECTRAL_DIR}/export/model_torchscript.pt",
        manifest=f"{SPECTRAL_DIR}/export/export.json",
    log:
        "logs/spectral/export.log",
    conda:
        "../envs/spectral.yaml"
    threads: 1
    script:
        "../scripts/spectral_export.py"


DEFAULT_TARGETS.setdefault("study_s", []).extend(
    [
        *rules.spectral_validate.output,
        *rules.spectral_benchmark.output,
        *rules.spectral_export.output,
    ]
)
