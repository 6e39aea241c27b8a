"""Entry point of rule spectral_validate: leave-one-out, the NODE against every baseline."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.spectral.stages import config_from, use_threads, validate_job

use_threads(snakemake.threads)
validate_job(
    config_from(snakemake.config["spectral"], snakemake.wildcards.regime),
    snakemake.input.spectra,
    dict(zip(snakemake.params.left_out, snakemake.input.models, strict=True)),
    dict(zip(snakemake.params.history_names, snakemake.input.histories, strict=True)),
    snakemake.output.metrics,
    snakemake.output.table,
    snakemake.output.plot,
    snakemake.output.methods_plot,
    snakemake.output.loss_plot,
)
