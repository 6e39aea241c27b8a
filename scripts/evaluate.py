"""evaluate: score one run's or baseline's predictions.npz (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import evaluate_job

evaluate_job(
    predictions_path=snakemake.input.predictions,
    zeros_path=snakemake.input.zeros,
    dataset=snakemake.params.dataset,
    output_path=snakemake.output[0],
    metrics_path=snakemake.input.get("metrics"),
    evaluation=snakemake.params.evaluation,
    windows_path=snakemake.input.windows,
    window_zeros=list(snakemake.input.window_zeros),
)
