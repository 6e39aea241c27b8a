"""plot_variance: v(L) curves of the true zeros and of every predictor."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import plot_variance_job

plot_variance_job(
    run_evaluations=dict(zip(map(tuple, snakemake.params.runs), snakemake.input.runs, strict=True)),
    baseline_evaluations=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    path=snakemake.output[0],
)
