"""plot_loss_curves: per-epoch losses and extrapolation error of the A/B runs."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import plot_loss_job

plot_loss_job(
    histories=dict(zip(map(tuple, snakemake.params.runs), snakemake.input.histories, strict=True)),
    baseline_evaluations=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    path=snakemake.output[0],
)
