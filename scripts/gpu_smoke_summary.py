"""gpu_smoke: one row per GPU machine type from the smoke jobs' reports."""

from zetalab.cloud.gpu import write_smoke_table
from zetalab.logsetup import log_to

log_to(snakemake.log[0])
write_smoke_table(snakemake.input, snakemake.output[0])
