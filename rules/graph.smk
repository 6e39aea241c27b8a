# Rules of the graph stage: the prime-offset graph over zeros 1..N+2H and its partitions
# (SPEC §4). Paths carry the node count and the prime set, so sweeps over primes get their
# own graphs: results/graphs/n{total}_p{2-3-5-7-11-13}/graph.npz. Path logic lives in
# zetalab.learning.workflow.
from zetalab.learning import workflow as learning_paths

graph_path = learning_paths.graph_path
partition_path = learning_paths.partition_path

# Refuse a bad graph section before any job starts: a non-prime or duplicate in graph.primes,
# more partitions than nodes.
try:
    learning_paths.check_graph_section(config)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None
GRAPH_PRIMES = sorted(config["graph"]["primes"])


rule graph_build:
    output:
        graph="results/graphs/n{total}_p{ptag}/graph.npz",
        stats="results/graphs/n{total}_p{ptag}/graph.json",
    log:
        "logs/graph_build/n{total}_p{ptag}.log",
    benchmark:
        "logs/benchmarks/graph_build/n{total}_p{ptag}.tsv"
    wildcard_constraints:
        total=r"\d+",
        ptag=r"\d+(-\d+)*",
    conda:
        "../envs/learning.yaml"
    resources:
        mem_mb=lambda wildcards: 1000 + int(wildcards.total) // 500,
        runtime=10,
    script:
        "../scripts/graph_build.py"


rule graph_partition:
    input:
        graph="results/graphs/n{total}_p{ptag}/graph.npz",
    output:
        partition="results/graphs/n{total}_p{ptag}/partition_{method}{num_parts}.npz",
        stats="results/graphs/n{total}_p{ptag}/partition_{method}{num_parts}.json",
    log:
        "logs/graph_partition/n{total}_p{ptag}_{method}{num_parts}.log",
    benchmark:
        "logs/benchmarks/graph_partition/n{total}_p{ptag}_{method}{num_parts}.tsv"
    wildcard_constraints:
        total=r"\d+",
        ptag=r"\d+(-\d+)*",
        method="metis|contiguous",
        num_parts=r"\d+",
    conda:
        "../envs/learning.yaml"
    resources:
        mem_mb=lambda wildcards: 1000 + int(wildcards.total) // 250,
        runtime=20,
    script:
        "../scripts/graph_partition.py"


DEFAULT_TARGETS.setdefault("study_z", []).extend(
    [
        learning_paths.stats_path(graph_path(ZEROS_TOTAL, GRAPH_PRIMES)),
        learning_paths.stats_path(
            partition_path(
                ZEROS_TOTAL,
                GRAPH_PRIMES,
                config["graph"]["partition"]["method"],
                config["graph"]["partition"]["num_parts"],
            )
        ),
    ]
)
