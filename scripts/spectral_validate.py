"""Entry point of rule spectral_validate: leave-one-out interpolation against linear."""

from zetalab.logsetup import log_to
from zetalab.spectral.stages import config_from, run_validate, use_threads

log_to(snakemake.log[0])
use_threads(snakemake.threads)
run_validate(
    config_from(snakemake.config["spectral"]),
    snakemake.input.spectra,
    dict(zip(snakemake.params.held_out, snakemake.input.models, strict=True)),
    dict(zip(snakemake.params.history_names, snakemake.input.histories, strict=True)),
    snakemake.output.metrics,
    snakemake.output.table,
    snakemake.output.plot,
    snakemake.output.loss_plot,
)
