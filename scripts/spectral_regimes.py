"""Entry point of rule spectral_regimes: the regimes' validation means side by side."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.spectral.stages import regimes_job

regimes_job(
    dict(zip(snakemake.params.regimes, snakemake.input.metrics, strict=True)),
    snakemake.output.table,
    snakemake.output.plot,
)
