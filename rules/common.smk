# Shared set-up: config validation (before any job), paths, and the default-target registry.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from snakemake.exceptions import WorkflowError

from zetalab.config import validate_config
from zetalab.errors import ZetalabError
from zetalab.evaluation.baselines import check_baseline_settings
from zetalab.evaluation.protocol import check_protocol, zero_ranges
from zetalab.learning import paths as zpaths
from zetalab.learning.dataset import dataset_total

try:
    validate_config(config)
    check_protocol(config)
    check_baseline_settings(config)
except ZetalabError as error:
    raise WorkflowError(str(error)) from None

ZEROS_TOTAL = dataset_total(config["dataset"])
BACKEND = config["zeros"]["backend"]

# Each rule file appends the files it contributes to the default target `all`.
DEFAULT_TARGETS: dict[str, list[str]] = {}


def default_targets() -> list[str]:
    """Everything `snakemake` builds with no target named, for the studies switched on."""
    wanted = []
    for study, enabled in config["targets"].items():
        if enabled:
            wanted += DEFAULT_TARGETS.get(study, [])
    return wanted


# The study's zeros: dataset.start and every node of its rolling windows (issue 13); the
# aggregate of a range that starts above 1 is zeros_from{first}_{total}.npy.
ZEROS_FIRST, ZEROS_SPAN = zero_ranges(config)[0]
ZEROS_FROM = "data/zeros/{backend}/zeros_from{first}_{total}.npy"


def zeros_aggregate_path(
    total: int = ZEROS_SPAN, backend: str = BACKEND, first: int = ZEROS_FIRST
) -> str:
    """The aggregate of zeros first..first+total−1 (.npy of offsets + .manifest.json)."""
    if first == 1:
        return f"data/zeros/{backend}/zeros_{total}.npy"
    return ZEROS_FROM.format(backend=backend, first=first, total=total)


# Training runs. A run is (cfg, variant, seed); `cfg` names a set of overrides of the main
# config (sections dataset, graph, model, train, loss). The A/B study is cfg "ab" (no
# overrides); sweeps register their trials here. Study Z's file patterns live in
# zetalab.learning.paths (zpaths); a run's results in zpaths.run_dir(cfg, variant, seed).
RUN_CONFIGS: dict[str, dict] = {"ab": {}}
# cfg -> a JSON run config written by another rule (e.g. a Bayesian sweep round's proposal)
# instead of a static entry of RUN_CONFIGS.
RUN_CONFIG_FILES: dict[str, str] = {}
# cfg -> further files its run config refers to (e.g. an earlier sweep phase's result file).
RUN_CONFIG_INPUTS: dict[str, list[str]] = {}
RUN_REGISTRY = (RUN_CONFIGS, RUN_CONFIG_FILES, RUN_CONFIG_INPUTS)
