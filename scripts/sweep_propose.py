"""Entry point of rule sweep_propose: one Bayesian round's proposal (zetalab.sweeps.plan)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.sweeps.plan import SweepPlan

plan = SweepPlan.load(snakemake.params.dir, snakemake.config, snakemake.params.run_dir)
plan.propose_job(snakemake.wildcards.sweep, int(snakemake.wildcards.round), snakemake.output[0])
