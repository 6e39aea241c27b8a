"""Entry point of rule spectral_benchmark: samples/s, ODE solves/s, steps/s, epoch time."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.spectral.stages import benchmark_job, config_from, use_threads

use_threads(snakemake.threads)
benchmark_job(
    config_from(snakemake.config["spectral"], snakemake.wildcards.regime),
    snakemake.input.spectra,
    snakemake.input.model,
    snakemake.output.figures,
    snakemake.output.table,
)
