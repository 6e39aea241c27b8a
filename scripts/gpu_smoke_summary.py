"""gpu_smoke: one row per GPU machine type from the smoke jobs' reports."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.cloud.gpu import write_smoke_table

write_smoke_table(snakemake.input, snakemake.output[0])
