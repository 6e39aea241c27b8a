"""Everything a run needs before its first step, checked up front.

Bad input (a horizon beyond the computed zeros, a missing or corrupt zeros file, no graph or
partition file matching the resolved config) fails here, before any training time is spent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.learning.dataset import Splits, ZeroData, load_zero_data, make_splits
from zetalab.learning.explicit import EstimateTable
from zetalab.learning.features import (
    DYNAMIC_COLUMNS,
    FeatureSpec,
    check_run_settings,
    spec_static_features,
)
from zetalab.learning.graph import (
    PrimeGraph,
    build_graph,
    load_graph,
    primes_tag,
    read_graph_meta,
    validate_primes,
)
from zetalab.learning.losses import number_variance, rg_lags
from zetalab.learning.partition import (
    Partition,
    check_num_parts,
    load_partition,
    partition_graph,
    read_partition_meta,
)


@dataclass
class Problem:
    """Data, splits, graph (and partition for minibatch) and the fixed per-node features."""

    data: ZeroData
    splits: Splits
    graph: PrimeGraph
    partition: Partition | None
    static: np.ndarray  # (M, F − 2) float32: position, [estimate,] prime waves
    observable: np.ndarray  # (M,) bool: train nodes outside validation
    lags: list[int]
    log_v_obs: np.ndarray  # log v(L) of the observed zeros, the RG reference
    features: FeatureSpec | None = None  # which static columns, where the estimate sits

    @property
    def N(self) -> int:
        return self.splits.N

    @property
    def total(self) -> int:
        return self.splits.total

    @property
    def num_features(self) -> int:
        """Columns of the model input: the dynamic ones and the static ones."""
        return DYNAMIC_COLUMNS + self.static.shape[1]


def load_zeros_checked(path: str | Path, N: int, horizon: int, start: int = 1) -> ZeroData:
    """load_zero_data with clear errors for a missing file and an unreadable one."""
    path = Path(path)
    if not path.exists():
        raise ZetalabError(
            f"zeros file {path} does not exist",
            "build it first (snakemake's zeros_aggregate rule) or fix the path",
        )
    try:
        data = load_zero_data(path, N, horizon, start)
    except ZetalabError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise ZetalabError(
            f"zeros file {path} is corrupt or unreadable ({exc})",
            "delete it and rerun the zeros_aggregate rule",
        ) from exc
    if not np.all(np.isfinite(data.gammas)) or np.any(np.diff(data.gammas) <= 0):
        raise ZetalabError(
            f"zeros file {path} is not a strictly increasing finite sequence",
            "delete it and rerun the zeros_aggregate rule",
        )
    return data


def find_graph_file(candidates: Iterable[str | Path], total: int, primes: list[int]) -> Path:
    """The graph.npz among the run's inputs that was built for these nodes and primes."""
    want = (total, tuple(sorted(primes)))
    seen = []
    for cand in candidates:
        if Path(cand).name != "graph.npz":
            continue
        meta = read_graph_meta(cand)
        seen.append(f"{cand} (nodes {meta[0]}, primes {list(meta[1])})")
        if (meta[0], tuple(sorted(meta[1]))) == want:
            return Path(cand)
    raise ZetalabError(
        f"no graph among the run's inputs has {total} nodes and primes {list(want[1])} "
        f"(tag {primes_tag(primes)}); inputs: {'; '.join(seen) or 'none'}",
        "add results/graphs/n{total}_p{tag}/graph.npz for this run to the train rule's inputs "
        "(RUN_CONFIG_INPUTS for registered sweep configs)",
    )


def find_partition_file(
    candidates: Iterable[str | Path], total: int, primes: list[int], method: str, num_parts: int
) -> Path:
    """The partition file among the run's inputs matching graph and partition settings."""
    want = (method, num_parts, total, tuple(sorted(primes)))
    seen = []
    for cand in candidates:
        if not Path(cand).name.startswith("partition_"):
            continue
        meta = read_partition_meta(cand)
        seen.append(f"{cand} ({meta[0]}{meta[1]}, nodes {meta[2]}, primes {list(meta[3])})")
        if (meta[0], meta[1], meta[2], tuple(sorted(meta[3]))) == want:
            return Path(cand)
    raise ZetalabError(
        f"no partition among the run's inputs is {method}{num_parts} of the {total}-node graph "
        f"with primes {list(want[3])}; inputs: {'; '.join(seen) or 'none'}",
        "add the matching partition_{method}{num_parts}.npz to the train rule's inputs",
    )


def build_problem(
    config: dict,
    zeros: ZeroData | str | Path,
    graph_files: Iterable[str | Path] | None = None,
    estimate: EstimateTable | None = None,
) -> Problem:
    """Assemble a run's problem; graph_files=None builds graph/partition in memory (tests).
    `estimate` is the explicit-formula selection's table (model.estimate "prime_sum")."""
    ds = config["dataset"]
    N, H = int(ds["N"]), int(ds["horizon"])
    total = N + 2 * H
    primes = validate_primes(config["graph"]["primes"])
    kind = config["run"]["kind"]
    part_cfg = config["graph"]["partition"]
    if kind == "minibatch":
        check_num_parts(part_cfg["num_parts"], total)
    start = int(ds.get("start", 1))
    if isinstance(zeros, ZeroData):
        # zeros may cover more than the study (rolling windows): take start..start+total−1
        data = zeros.window(start - zeros.first_index, total)
    else:
        data = load_zeros_checked(zeros, N, H, start)
    splits = make_splits(N, H, ds["validation_fraction"], ds["split_seed"])

    files = list(graph_files) if graph_files is not None else None
    if files is None:
        graph = build_graph(total, primes)
    else:
        graph = load_graph(find_graph_file(files, total, primes))
    partition = None
    if kind == "minibatch":
        if files is None:
            partition = partition_graph(graph, part_cfg["method"], part_cfg["num_parts"])
        else:
            partition = load_partition(
                find_partition_file(files, total, primes, part_cfg["method"], part_cfg["num_parts"])
            )
            if len(partition.parts) != total:
                raise ZetalabError(
                    "partition does not cover the graph's nodes", "rerun graph_partition"
                )

    observable = np.zeros(total, dtype=bool)
    observable[:N] = True
    observable[splits.validation - 1] = False
    spec = check_run_settings(config, estimate)
    static = spec_static_features(data.smooth_heights, spec)
    lags = rg_lags(config["loss"]["rg_max_lag"], N)
    v_obs = number_variance(data.delta[:N], lags, valid=observable[:N])
    return Problem(
        data=data,
        splits=splits,
        graph=graph,
        partition=partition,
        static=static,
        observable=observable,
        lags=lags,
        log_v_obs=np.log(np.maximum(v_obs, 1e-12)),
        features=spec,
    )
