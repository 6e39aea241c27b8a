"""gpu_smoke_device: write what torch sees on this machine; fail if it was given a GPU in vain."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

import json
import logging

from zetalab.cloud.gpu import smoke_report, smoke_summary
from zetalab.io import write_json_atomic

report = smoke_report(snakemake.wildcards.machine, threads=snakemake.threads)
print(smoke_summary(report), flush=True)  # the job's own output: the Batch/SLURM log
logging.getLogger("gpu_smoke").info("%s\n%s", smoke_summary(report), json.dumps(report, indent=2))
if report["problem"]:
    raise SystemExit(f"gpu_smoke {snakemake.wildcards.machine}: {report['problem']}")
write_json_atomic(snakemake.output[0], report)
