"""Entry point of rule sweep_summary: the winner of every phase in one table."""

from zetalab.logsetup import log_to
from zetalab.sweeps.plan import write_summary

log_to(snakemake.log[0])
write_summary(list(snakemake.input), snakemake.output.csv, snakemake.output.md)
