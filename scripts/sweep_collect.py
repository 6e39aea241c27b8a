"""Entry point of rule sweep_collect: runs.csv, trials.csv, best.json, top.json of a sweep."""

from pathlib import Path

from zetalab.logsetup import log_to
from zetalab.sweeps.plan import SweepPlan

log_to(snakemake.log[0])
plan = SweepPlan.load(snakemake.params.dir, snakemake.config, snakemake.params.run_dir)
plan.collect_job(snakemake.wildcards.sweep, Path(snakemake.output.best).parent)
