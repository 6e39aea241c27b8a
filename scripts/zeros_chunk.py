"""zeros_chunk: compute one aligned chunk of zeros with the configured backend (thin entry)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

import logging
import os

os.environ["ZETALAB_THREADS"] = str(snakemake.threads)  # rs: evaluation threads

from zetalab.zeros.engine import compute_chunk

log = logging.getLogger("zeros_chunk")
start, end = int(snakemake.wildcards.start), int(snakemake.wildcards.end)
done = 0


def progress(k: int) -> None:
    global done
    done += k
    log.info("zeros %d..%d: %d/%d done", start, end, done, end - start + 1)


try:
    record = compute_chunk(
        snakemake.wildcards.backend,
        start,
        end,
        snakemake.output.npy,
        table=snakemake.params.table,
        progress=progress,
    )
except Exception:
    log.error("zeros %d..%d failed; nothing was written", start, end)
    raise
log.info(
    "wrote %s: %.2f s, error bound %s, count check %s",
    snakemake.output.npy,
    record["seconds"],
    record["error_bound"],
    record["count_check"],
)
