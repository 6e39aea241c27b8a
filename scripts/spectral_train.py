"""Entry point of rule spectral_train: one model per subset (all, or without_cK)."""

from zetalab.spectral.stages import config_from, logging_to, run_train

with logging_to(snakemake.log[0], snakemake.threads):
    run_train(
        config_from(snakemake.config["spectral"]),
        snakemake.wildcards.subset,
        snakemake.input.spectra,
        snakemake.output.model,
        snakemake.output.history,
        snakemake.params.checkpoint,
        snakemake.params.profile_trace,
    )
