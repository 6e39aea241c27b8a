"""plot_variance: v(L) curves of the true zeros and of every predictor."""

import logging

from zetalab.evaluate_files import plot_variance_job

logging.basicConfig(
    filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s", force=True
)
plot_variance_job(
    run_evaluations=snakemake.input.runs,
    baseline_evaluations=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    path=snakemake.output[0],
)
