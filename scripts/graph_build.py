"""graph_build: the prime-offset graph over nodes 1..total (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

import logging

from zetalab.io import write_json_atomic
from zetalab.learning.graph import build_graph, graph_stats, save_graph

log = logging.getLogger("graph_build")

graph = build_graph(snakemake.params.total, snakemake.params.primes)
stats = graph_stats(graph)
log.info("graph: %s", stats)
if not stats["edge_formula_ok"]:
    raise RuntimeError(f"edge count {stats['edges']} != formula {stats['edges_expected']}")
save_graph(snakemake.output.graph, graph)
write_json_atomic(snakemake.output.stats, stats)
