"""The explicit_formula job: the setting every Study Z predictor's physics uses, chosen once.

SPEC §6 asks that every learner gets an explicit-formula input at least as strong as the
strongest explicit-formula baseline, chosen once by the same procedure. This job makes that one
choice: prime_sum's (num_primes, taper), selected on the study's extrapolation window with its
grids extended to their optimum (zetalab.evaluation.baselines.select_explicit_formula). It then
evaluates that setting at every zero the study reads (its span through the last rolling window,
and each height-shift window) and writes both to estimate.npz. The prime_sum baseline's
predictions and every learner's feature column (GNN variants, `linear`, `mlp`) are read from
this file, so they are the same numbers, and a training job reads it at run time: the workflow's
DAG never depends on what was chosen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zetalab.evaluation.baselines import observed_view, select_explicit_formula
from zetalab.evaluation.protocol import zero_ranges
from zetalab.evaluation.windowed import load_ranges
from zetalab.io import json_safe, write_json_atomic
from zetalab.learning.dataset import make_splits, total_nodes
from zetalab.learning.explicit import EstimateTable, estimate_at, save_estimate_table

log = logging.getLogger("zetalab.evaluate")


def study_indices(study: Mapping[str, Any]) -> np.ndarray:
    """Every absolute zero index the study reads (zetalab.evaluation.protocol.zero_ranges)."""
    ranges = [np.arange(first, first + count) for first, count in zero_ranges(study)]
    return np.unique(np.concatenate(ranges)).astype(np.int64)


def explicit_formula_job(
    dataset: Mapping[str, Any],
    prime_sum: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    window_zeros: Sequence[str | Path],
    table_path: str | Path,
    selection_path: str | Path,
) -> dict[str, Any]:
    """Select prime_sum's setting on the study's extrapolation window (never the holdout) and
    write its δ̂ at every zero the study reads."""
    t0 = time.perf_counter()
    study = {"dataset": dict(dataset), "evaluation": dict(evaluation)}
    N, H = int(dataset["N"]), int(dataset["horizon"])
    data = load_ranges(study, window_zeros)[0].window(0, total_nodes(N, H))
    splits = make_splits(N, H, float(dataset["validation_fraction"]), int(dataset["split_seed"]))
    chosen = select_explicit_formula(observed_view(data, splits), prime_sum)
    indices = study_indices(study)
    values, solver = estimate_at(
        indices,
        chosen["num_primes"],
        chosen["taper"],
        chosen["prime_powers"],
        chosen["height"],
        int(prime_sum.get("solver_iterations", 15)),
    )
    table = EstimateTable(
        chosen["num_primes"],
        chosen["taper"],
        chosen["prime_powers"],
        chosen["height"],
        indices,
        values,
    )
    record = {**chosen, **solver, "zeros": len(indices), "wall_time_s": time.perf_counter() - t0}
    save_estimate_table(table_path, table, record)
    write_json_atomic(selection_path, json_safe(record))
    log.info(
        "explicit formula: %d primes, taper %g (at grid edge: %s), %d zeros in %.1fs",
        chosen["num_primes"], chosen["taper"], chosen["at_grid_edge"], len(indices),
        record["wall_time_s"],
    )  # fmt: skip
    return record
