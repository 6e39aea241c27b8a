"""Entry point of rule spectral_benchmark: samples/s, ODE solves/s, steps/s, epoch time."""

from zetalab.spectral.stages import config_from, logging_to, run_benchmark

with logging_to(snakemake.log[0], snakemake.threads):
    run_benchmark(
        config_from(snakemake.config["spectral"]),
        snakemake.input.spectra,
        snakemake.input.model,
        snakemake.output.figures,
        snakemake.output.table,
    )
