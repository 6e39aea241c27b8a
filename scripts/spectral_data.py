"""Entry point of rule spectral_data: the seeded spectra (generated on the device)."""

from zetalab.spectral.stages import config_from, logging_to, run_data

with logging_to(snakemake.log[0], snakemake.threads):
    run_data(
        config_from(snakemake.config["spectral"]),
        snakemake.output.spectra,
        snakemake.output.plot,
        snakemake.output.manifest,
    )
