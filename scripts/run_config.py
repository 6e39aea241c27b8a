"""run_config: write a static run config (RUN_CONFIGS[cfg]) as JSON (thin entry point)."""

from zetalab.logsetup import log_to

log_to(snakemake.log[0])

import logging

from zetalab.io import write_json_atomic
from zetalab.learning.runconfig import run_overrides

overrides = run_overrides(dict(snakemake.params.overrides))
logging.getLogger("run_config").info("%s: %s", snakemake.wildcards.cfg, overrides)
write_json_atomic(snakemake.output[0], {"cfg": snakemake.wildcards.cfg, "overrides": overrides})
