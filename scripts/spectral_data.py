"""Entry point of rule spectral_data: the seeded spectra (generated on the device)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.spectral.stages import config_from, data_job, use_threads

use_threads(snakemake.threads)
data_job(
    config_from(snakemake.config["spectral"], snakemake.wildcards.regime),
    snakemake.output.spectra,
    snakemake.output.plot,
    snakemake.output.manifest,
)
