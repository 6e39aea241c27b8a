"""plot_loss_curves: per-epoch losses and extrapolation error of the A/B runs."""

import logging

from zetalab.evaluate_files import plot_loss_job

logging.basicConfig(
    filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s", force=True
)
plot_loss_job(
    histories=snakemake.input.histories,
    baseline_evaluations=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    path=snakemake.output[0],
)
