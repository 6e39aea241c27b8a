"""leaderboard: one row per run and per baseline, CSV + markdown + HTML (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import leaderboard_job

leaderboard_job(
    run_metrics=snakemake.input.run_metrics,
    run_evaluations=snakemake.input.run_evaluations,
    baseline_names=snakemake.params.baselines,
    baseline_infos=snakemake.input.baseline_infos,
    baseline_evaluations=snakemake.input.baseline_evaluations,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.md,
    html_path=snakemake.output.html,
)
