"""Entry point of rule spectral_train: one model per subset (all, or without_cK)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.spectral.stages import config_from, train_job, use_threads

use_threads(snakemake.threads)
train_job(
    config_from(snakemake.config["spectral"], snakemake.wildcards.regime),
    snakemake.wildcards.subset,
    snakemake.input.spectra,
    snakemake.output.model,
    snakemake.output.history,
    snakemake.params.checkpoint,
    snakemake.params.profile_trace,
)
