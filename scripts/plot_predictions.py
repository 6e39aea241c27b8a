"""plot_predictions: predicted vs true zeros over the horizon; spacing histograms vs GUE."""

import logging

from zetalab.evaluate_files import plot_predictions_job

logging.basicConfig(
    filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s", force=True
)
plot_predictions_job(
    zeros_path=snakemake.input.zeros,
    dataset=snakemake.params.dataset,
    run_predictions=snakemake.input.runs,
    baseline_predictions=dict(
        zip(snakemake.params.baselines, snakemake.input.baselines, strict=True)
    ),
    horizon_path=snakemake.output.horizon,
    spacing_path=snakemake.output.spacings,
)
