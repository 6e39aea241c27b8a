"""Entry point of rule sweep_summary: the winner of every phase in one table."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.sweeps.plan import summary_job

summary_job(list(snakemake.input), snakemake.output.csv, snakemake.output.md)
