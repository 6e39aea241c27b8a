"""baseline: fit one baseline on the train zeros and predict every node (thin entry point)."""

import logging

from zetalab.evaluate_files import baseline_job

logging.basicConfig(
    filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s", force=True
)
baseline_job(
    name=snakemake.wildcards.name,
    zeros_path=snakemake.input.zeros,
    dataset=snakemake.params.dataset,
    params=snakemake.params.baselines,
    predictions_path=snakemake.output.predictions,
    info_path=snakemake.output.info,
)
