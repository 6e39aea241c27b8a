"""height_shift: runs and baselines at their training height and at the shifted heights
(thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.windowed import height_shift_job

height_shift_job(
    run_metrics=snakemake.input.run_metrics,
    run_evaluations=snakemake.input.run_evaluations,
    baseline_names=snakemake.params.baselines,
    baseline_evaluations=snakemake.input.baseline_evaluations,
    evaluation=snakemake.params.evaluation,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.md,
)
