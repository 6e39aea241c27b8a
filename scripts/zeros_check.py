"""zeros_check: compare the aggregate with flint and Odlyzko's table; fail on any violation."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

import json
import logging

from zetalab.errors import ZetalabError
from zetalab.io import write_json_atomic
from zetalab.zeros.check import check_aggregate

log = logging.getLogger("zeros_check")
# On a cloud worker the table arrives as a storage input (rules/cloud.smk); else the config's path.
odlyzko = snakemake.input.get("odlyzko") or snakemake.params.odlyzko
report = check_aggregate(snakemake.input.npy, sample=snakemake.params.sample, odlyzko=odlyzko)
log.info("%s", json.dumps(report, indent=2))
if not report["passed"]:
    log.error("FAILED: %s", report["violations"])
    raise ZetalabError(
        f"zeros_check failed: {report['summary']}; first violations: {report['violations'][:5]}",
        f"see {snakemake.log[0]}; delete the offending chunks and rerun",
    )
write_json_atomic(snakemake.output[0], report)
