"""plot_ab_verdict: per-seed errors of the compared variants, paired by seed."""

import logging

from zetalab.evaluate_files import plot_verdict_job

logging.basicConfig(
    filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s", force=True
)
plot_verdict_job(
    verdict_path=snakemake.input.verdict,
    baseline_evaluations=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    path=snakemake.output[0],
)
