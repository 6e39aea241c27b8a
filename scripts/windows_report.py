"""windows_report: every rolling-origin window of every run and baseline, and the mean with its
bootstrap interval (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.windowed import windows_report_job

windows_report_job(
    run_metrics=snakemake.input.run_metrics,
    run_evaluations=snakemake.input.run_evaluations,
    baseline_names=snakemake.params.baselines,
    baseline_evaluations=snakemake.input.baseline_evaluations,
    evaluation=snakemake.params.evaluation,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.md,
    html_path=snakemake.output.html,
)
