"""zeros_aggregate(_from): stream the aligned chunks into zeros_{total}.npy (zeros 1..total) or
zeros_from{first}_{total}.npy (zeros first..first+total−1) + manifest (thin entry)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

import logging

from zetalab.zeros.store import aggregate

log = logging.getLogger("zeros_aggregate")
total = int(snakemake.wildcards.total)
first = int(snakemake.wildcards.get("first", 1))
try:
    manifest = aggregate(
        snakemake.input.chunks,
        snakemake.output.npy,
        total,
        extra={"backend": snakemake.wildcards.backend, "chunk_size": snakemake.params.chunk_size},
        first=first,
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
