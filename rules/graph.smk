# Rules of the graph stage: the prime-offset graph over zeros 1..N+2H and its partitions
# (SPEC §4). Paths carry the node count and the prime set, so sweeps over primes get their
# own graphs: results/graphs/n{total}_p{2-3-5-7-11-13}/graph.npz. Paths live in
# zetalab.learning.paths (zpaths), input logic in zetalab.learning.workflow.
from zetalab.learning import workflow as learning_workflow
from zetalab.learning.graph import primes_of_tag

# Refuse a bad graph section before any job starts: a non-prime or duplicate in graph.primes,
# more partitions than nodes.
try:
    learning_workflow.check_graph_section(config)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None
GRAPH_PRIMES = sorted(config["graph"]["primes"])


rule graph_build:
    output:
        graph=zpaths.GRAPH,
        stats=zpaths.GRAPH_STATS,
    log:
        "logs/graph_build/n{total}_p{ptag}.log",
    benchmark:
        "logs/benchmarks/graph_build/n{total}_p{ptag}.tsv"
    wildcard_constraints:
        total=zpaths.WILDCARDS["total"],
        ptag=zpaths.WILDCARDS["ptag"],
    conda:
        "../envs/learning.yaml"
    resources:
        mem_mb=lambda wildcards: 1000 + int(wildcards.total) // 500,
        runtime=10,
    params:
        total=lambda wildcards: int(wildcards.total),
        primes=lambda wildcards: primes_of_tag(wildcards.ptag),
    script:
        "../scripts/graph_build.py"


rule graph_partition:
    input:
        graph=zpaths.GRAPH,
    output:
        partition=zpaths.PARTITION,
        stats=zpaths.PARTITION_STATS,
    log:
        "logs/graph_partition/n{total}_p{ptag}_{method}{num_parts}.log",
    benchmark:
        "logs/benchmarks/graph_partition/n{total}_p{ptag}_{method}{num_parts}.tsv"
    wildcard_constraints:
        total=zpaths.WILDCARDS["total"],
        ptag=zpaths.WILDCARDS["ptag"],
        method=zpaths.WILDCARDS["method"],
        num_parts=zpaths.WILDCARDS["num_parts"],
    conda:
        "../envs/learning.yaml"
    resources:
        mem_mb=lambda wildcards: 1000 + int(wildcards.total) // 250,
        runtime=20,
    script:
        "../scripts/graph_partition.py"


DEFAULT_TARGETS.setdefault("study_z", []).extend(
    [
        zpaths.stats_path(zpaths.graph_path(ZEROS_TOTAL, GRAPH_PRIMES)),
        zpaths.stats_path(
            zpaths.partition_path(
                ZEROS_TOTAL,
                GRAPH_PRIMES,
                config["graph"]["partition"]["method"],
                config["graph"]["partition"]["num_parts"],
            )
        ),
    ]
)
