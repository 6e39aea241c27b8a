"""Every file pattern of Study Z, in one place: the rules declare these patterns and the code
fills them, so a path is only ever built (never parsed back into its parts).

Patterns use Snakemake's wildcard syntax; the functions fill them. Graph paths carry the node
count and the prime set, so sweeps over primes get their own graphs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from zetalab.learning.graph import primes_tag
from zetalab.learning.partition import METHODS

# -- graph stage ---------------------------------------------------------------------------
GRAPH_DIR = "results/graphs/n{total}_p{ptag}"
GRAPH = f"{GRAPH_DIR}/graph.npz"
GRAPH_STATS = f"{GRAPH_DIR}/graph.json"
PARTITION = f"{GRAPH_DIR}/partition_{{method}}{{num_parts}}.npz"
PARTITION_STATS = f"{GRAPH_DIR}/partition_{{method}}{{num_parts}}.json"

# -- train stage ---------------------------------------------------------------------------
RUN_CONFIG = "results/run_configs/{cfg}.json"
RUN_DIR = "results/runs/{cfg}/{variant}/seed{seed}"
RUN_METRICS = f"{RUN_DIR}/metrics.json"
RUN_HISTORY = f"{RUN_DIR}/history.csv"
RUN_PREDICTIONS = f"{RUN_DIR}/predictions.npz"
# (W, 2H) predictions of every evaluation window (zetalab.evaluation.windows format)
RUN_WINDOWS = f"{RUN_DIR}/windows.npz"

# -- evaluate stage ------------------------------------------------------------------------
# The explicit-formula setting the prime_sum baseline chose and its δ̂ at every zero of the
# study: read by prime_sum and by every learner's feature column (one selection).
EXPLICIT_FORMULA = "results/explicit_formula/estimate.npz"
EXPLICIT_FORMULA_SELECTION = "results/explicit_formula/selection.json"
# {name}: a baseline, or "<form>/seed<k>" for a learner trained per seed (SEEDED_BASELINES)
BASELINE_DIR = "results/baselines/{name}"
BASELINE_PREDICTIONS = f"{BASELINE_DIR}/predictions.npz"
BASELINE_INFO = f"{BASELINE_DIR}/fit_info.json"
BASELINE_WINDOWS = f"{BASELINE_DIR}/windows.npz"
# results/{target}/evaluation.json, target = runs/<cfg>/<variant>/seed<k> or baselines/<name>
EVALUATION = "results/{target}/evaluation.json"
RUN_TARGET = "runs/{cfg}/{variant}/seed{seed}"
BASELINE_TARGET = "baselines/{name}"
LEADERBOARD = "results/leaderboard.{ext}"
AB_VERDICT = "results/ab_verdict.{ext}"
# the rolling-origin report and the height-shift report (issue 13's protocol)
WINDOWS_REPORT = "results/windows.{ext}"
HEIGHT_SHIFT = "results/height_shift.{ext}"
PLOT = "results/plots/{name}.png"

# Wildcard constraints shared by the rules.
WILDCARDS = {
    "total": r"\d+",
    "ptag": r"\d+(-\d+)*",
    "method": "|".join(METHODS),
    "num_parts": r"\d+",
    "cfg": r"[^/]+",
    "variant": r"[^/]+",
    "seed": r"\d+",
    "target": r"runs/[^/]+/[^/]+/seed\d+|baselines/[^/]+(?:/seed\d+)?",
    "name": r"[^/]+(?:/seed\d+)?",
}
# Stochastic baselines train every seed of train.seeds, in each of their forms (plain, and
# residual on the estimate column), so each GNN variant meets the learner of its own form.
SEEDED_BASELINES = {"mlp": ("mlp", "mlp-residual")}


def graph_dir(total: int, primes: Iterable[int]) -> str:
    """Directory of the graph over nodes 1..total with edges n ↔ n+p for p in primes."""
    return GRAPH_DIR.format(total=total, ptag=primes_tag(list(primes)))


def graph_path(total: int, primes: Iterable[int]) -> str:
    return GRAPH.format(total=total, ptag=primes_tag(list(primes)))


def partition_path(total: int, primes: Iterable[int], method: str, num_parts: int) -> str:
    ptag = primes_tag(list(primes))
    return PARTITION.format(total=total, ptag=ptag, method=method, num_parts=num_parts)


def stats_path(npz_path: str) -> str:
    """The JSON record written beside a graph or partition file."""
    return npz_path[: -len(".npz")] + ".json"


def run_config_path(cfg: str) -> str:
    return RUN_CONFIG.format(cfg=cfg)


def run_dir(cfg: str, variant: str, seed: int | str) -> str:
    """Directory of one training run: metrics.json, history.csv, predictions.npz, checkpoint."""
    return RUN_DIR.format(cfg=cfg, variant=variant, seed=seed)


def run_files(cfg: str, variants: Sequence[str], seeds: Sequence[int], name: str) -> list[str]:
    """One file (e.g. metrics.json) of each run of cfg over variants × seeds, in that order."""
    return [f"{run_dir(cfg, v, s)}/{name}" for v in variants for s in seeds]


def run_labels(variants: Sequence[str], seeds: Sequence[int]) -> list[str]:
    """'variant seedK' of each run, in the order of run_files (plot legends)."""
    return [f"{v} seed{s}" for v in variants for s in seeds]


def run_target(cfg: str, variant: str, seed: int | str) -> str:
    """The evaluate rule's {target} of a run."""
    return RUN_TARGET.format(cfg=cfg, variant=variant, seed=seed)


def baseline_dir(name: str) -> str:
    return BASELINE_DIR.format(name=name)


def baseline_instances(names: Iterable[str], seeds: Sequence[int]) -> list[str]:
    """What the baseline rule fits for baselines.names: one fit per plain baseline, one per
    form and seed of a seeded one ("mlp/seed0", "mlp-residual/seed0", …)."""
    out: list[str] = []
    for name in names:
        forms = SEEDED_BASELINES.get(name)
        out += [name] if forms is None else [f"{f}/seed{s}" for f in forms for s in seeds]
    return out


def baseline_identity(instance: str) -> tuple[str, int | None]:
    """(name, seed) of a baseline instance: ("mlp-residual", 2) for "mlp-residual/seed2"."""
    name, _, seed = instance.partition("/seed")
    return name, int(seed) if seed else None


def baseline_files(names: Iterable[str], file: str) -> list[str]:
    return [f"{baseline_dir(n)}/{file}" for n in names]


def evaluation_path(target: str) -> str:
    return EVALUATION.format(target=target)


def leaderboard_path(ext: str) -> str:
    return LEADERBOARD.format(ext=ext)


def ab_verdict_path(ext: str) -> str:
    return AB_VERDICT.format(ext=ext)


def plot_path(name: str) -> str:
    return PLOT.format(name=name)
