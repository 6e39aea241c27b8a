"""Entry point of rule sweep_collect: runs.csv, trials.csv, best.json, top.json of a sweep."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from pathlib import Path

from zetalab.sweeps.plan import SweepPlan

plan = SweepPlan.load(snakemake.params.dir, snakemake.config, snakemake.params.run_dir)
plan.collect_job(snakemake.wildcards.sweep, Path(snakemake.output.best).parent)
