"""graph_partition: METIS (pymetis) or contiguous clusters for Cluster-GCN (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

import logging
import time

from zetalab.io import write_json_atomic
from zetalab.learning.graph import load_graph
from zetalab.learning.partition import partition_graph, partition_stats, save_partition

log = logging.getLogger("graph_partition")

graph = load_graph(snakemake.input.graph)
start = time.perf_counter()
partition = partition_graph(graph, snakemake.wildcards.method, int(snakemake.wildcards.num_parts))
stats = partition_stats(graph, partition)
stats["seconds"] = time.perf_counter() - start
log.info("partition: %s", stats)
save_partition(snakemake.output.partition, partition, graph.primes)
write_json_atomic(snakemake.output.stats, stats)
