"""Entry point of rule sweep_report: a sweep's top-10 leaderboard and progress plot."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from pathlib import Path

from zetalab.sweeps.plan import SweepPlan

plan = SweepPlan.load(snakemake.params.dir, snakemake.config, snakemake.params.run_dir)
plan.report_job(snakemake.wildcards.sweep, Path(snakemake.output.progress).parent)
