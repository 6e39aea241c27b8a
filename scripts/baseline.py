"""baseline: fit one baseline on the train zeros and predict every node (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import baseline_job

baseline_job(
    name=snakemake.wildcards.name,
    zeros_path=snakemake.input.zeros,
    dataset=snakemake.params.dataset,
    params=snakemake.params.baselines,
    predictions_path=snakemake.output.predictions,
    info_path=snakemake.output.info,
    model=getattr(snakemake.params, "model", None),
    graph=getattr(snakemake.params, "graph", None),
    evaluation=snakemake.params.evaluation,
    window_zeros=list(snakemake.input.window_zeros),
    windows_path=snakemake.output.windows,
    estimate_path=snakemake.input.estimate[0] if snakemake.input.estimate else None,
)
