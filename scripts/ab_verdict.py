"""ab_verdict: Scenario A or B from the paired test across seeds (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.jobs import verdict_job

verdict_job(
    run_metrics=snakemake.input.run_metrics,
    run_evaluations=snakemake.input.run_evaluations,
    ab=snakemake.params.ab,
    json_path=snakemake.output.json,
    md_path=snakemake.output.md,
    html_path=snakemake.output.html,
)
