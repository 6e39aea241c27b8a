"""evaluate: score one run's or baseline's predictions.npz (thin entry point)."""

import logging

from zetalab.evaluate_files import evaluate_job

logging.basicConfig(
    filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s", force=True
)
evaluate_job(
    predictions_path=snakemake.input.predictions,
    zeros_path=snakemake.input.zeros,
    dataset=snakemake.params.dataset,
    output_path=snakemake.output[0],
    metrics_path=snakemake.input.get("metrics"),
)
