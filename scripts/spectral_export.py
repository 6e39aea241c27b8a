"""Entry point of rule spectral_export: TorchScript and ONNX of the unrolled model."""

from zetalab.spectral.stages import config_from, logging_to, run_export

with logging_to(snakemake.log[0], snakemake.threads):
    run_export(
        config_from(snakemake.config["spectral"]),
        snakemake.input.spectra,
        snakemake.input.model,
        snakemake.output.torchscript,
        snakemake.output.get("onnx"),
        snakemake.output.manifest,
    )
