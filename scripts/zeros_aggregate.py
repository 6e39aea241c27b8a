"""zeros_aggregate: stream the aligned chunks into zeros_{total}.npy + manifest (thin entry)."""

import logging

from zetalab.logsetup import log_to
from zetalab.zeros.store import aggregate

log_to(snakemake.log[0])
log = logging.getLogger("zeros_aggregate")
total = int(snakemake.wildcards.total)
try:
    manifest = aggregate(
        snakemake.input.chunks,
        snakemake.output.npy,
        total,
        extra={"backend": snakemake.wildcards.backend, "chunk_size": snakemake.params.chunk_size},
    )
except Exception:
    log.error("aggregating %d zeros failed; nothing was written", total)
    raise
log.info(
    "%s: %d zeros from %d chunks, sha256 %s, error bound %s",
    snakemake.output.npy,
    total,
    len(manifest["chunks"]),
    manifest["sha256"],
    manifest["error_bound"],
)
