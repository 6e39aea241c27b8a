"""explicit_formula: prime_sum's setting chosen once, and its δ̂ at every zero of the study
(thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

from zetalab.evaluation.explicit_selection import explicit_formula_job

explicit_formula_job(
    dataset=snakemake.params.dataset,
    prime_sum=snakemake.params.prime_sum,
    evaluation=snakemake.params.evaluation,
    window_zeros=list(snakemake.input.window_zeros),
    table_path=snakemake.output.table,
    selection_path=snakemake.output.selection,
)
