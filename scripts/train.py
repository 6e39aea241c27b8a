"""train: one (cfg, variant, seed) run; resumes its checkpoint if the job was killed."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from pathlib import Path

from zetalab.learning.records import RunPaths
from zetalab.learning.run import train_job

out = snakemake.output
train_job(
    base_config=dict(snakemake.config),
    run_config_path=snakemake.input.run_config,
    variant=snakemake.wildcards.variant,
    seed=int(snakemake.wildcards.seed),
    cfg=snakemake.wildcards.cfg,
    zeros_path=snakemake.input.zeros,
    graph_files=[*snakemake.input.graphs, *snakemake.input.extra],
    paths=RunPaths(Path(out.metrics), Path(out.history), Path(out.predictions), Path(out.windows)),
    threads=snakemake.threads,
    record_failure=snakemake.params.record_failure,
    window_zeros=list(snakemake.input.window_zeros),
    estimate_path=snakemake.input.estimate[0] if snakemake.input.estimate else None,
)
