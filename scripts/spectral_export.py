"""Entry point of rule spectral_export: TorchScript and ONNX of the unrolled model."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.spectral.stages import config_from, export_job, use_threads

use_threads(snakemake.threads)
export_job(
    config_from(snakemake.config["spectral"], snakemake.wildcards.regime),
    snakemake.input.spectra,
    snakemake.input.model,
    snakemake.output.torchscript,
    snakemake.output.get("onnx"),
    snakemake.output.manifest,
)
