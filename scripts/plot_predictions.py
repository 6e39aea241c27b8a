"""plot_predictions: predicted vs true zeros over the horizon; spacing histograms vs GUE."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import plot_predictions_job

plot_predictions_job(
    zeros_path=snakemake.input.zeros,
    dataset=snakemake.params.dataset,
    run_predictions=dict(zip(map(tuple, snakemake.params.runs), snakemake.input.runs, strict=True)),
    baseline_predictions=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    horizon_path=snakemake.output.horizon,
    spacing_path=snakemake.output.spacings,
)
