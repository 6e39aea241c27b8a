"""plot_ab_verdict: per-seed errors of the compared variants, paired by seed."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import plot_verdict_job

plot_verdict_job(
    verdict_path=snakemake.input.verdict,
    baseline_evaluations=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    path=snakemake.output[0],
)
