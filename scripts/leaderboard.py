"""leaderboard: one row per run and per baseline, CSV + markdown + HTML (thin entry point)."""

import logging

from zetalab.evaluate_files import leaderboard_job

logging.basicConfig(
    filename=snakemake.log[0], level=logging.INFO, format="%(asctime)s %(message)s", force=True
)
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
