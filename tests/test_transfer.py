"""A trained model scored on windows it was not trained on: rolling origins after its range and
windows at other heights, with no zero after a window's origin reaching its prediction."""

import json

import numpy as np
import pytest
import torch

from zetalab.config import load_config
from zetalab.evaluation.predictions import load_predictions
from zetalab.evaluation.protocol import evaluation_windows, zero_ranges
from zetalab.evaluation.windows import load_windows
from zetalab.learning.dataset import zero_data
from zetalab.learning.problem import build_problem
from zetalab.learning.records import RunPaths
from zetalab.learning.run import train_run
from zetalab.learning.runconfig import resolve_run_config

N, H = 600, 20
SHIFT = 20_000
TINY = {
    "dataset": {"N": N, "horizon": H},
    "graph": {"primes": [2, 3, 5], "partition": {"method": "metis", "num_parts": 6}},
    "model": {"hidden": 16, "layers": 2, "estimate": {"num_primes": 100, "taper": 0.5}},
    "train": {
        "max_epochs": 2,
        "patience": None,
        "checkpoint_every": 2,
        "clusters_per_step": 2,
        "device": "cpu",
    },
    "loss": {"rg_max_lag": 16, "mmd_max_samples": 256, "mmd_reference_size": 128},
}
EVALUATION = {"windows": 3, "shift_starts": [SHIFT]}


def config(variant="fullbatch", **dataset):
    overrides = json.loads(json.dumps(TINY))
    overrides["dataset"].update(dataset)
    base = load_config(overrides={"evaluation": EVALUATION})
    return resolve_run_config(base, overrides, variant)


def paths(d):
    return RunPaths(d / "m.json", d / "h.csv", d / "p.npz", d / "windows.npz")


def run(tmp_path, gammas, variant="fullbatch"):
    torch.set_num_threads(1)
    cfg = config(variant)
    data = zero_data(gammas)
    train_run(cfg, data, 0, "t", paths(tmp_path), window_zeros=[data])
    origins = [w.origin(N) for w in evaluation_windows(cfg)]
    return origins, load_windows(tmp_path / "windows.npz", origins, H)


@pytest.mark.parametrize("variant", ["fullbatch", "minibatch"])
def test_every_window_is_predicted_by_the_fixed_model(odlyzko, tmp_path, variant):
    origins, windows = run(tmp_path, odlyzko[: SHIFT + N + 2 * H], variant)
    assert origins == [N, N + 2 * H, N + 4 * H, SHIFT + N - 1]
    pred = load_predictions(tmp_path / "p.npz", N + 2 * H)["delta_pred"]
    assert np.array_equal(windows[0], pred[N:])  # window 0 is the study's own prediction
    assert np.all(np.isfinite(windows)) and not np.allclose(windows[1], windows[2])


def test_no_zero_after_a_window_origin_reaches_its_prediction(odlyzko, tmp_path):
    gammas = odlyzko[: SHIFT + N + 2 * H].copy()
    _, clean = run(tmp_path / "a", gammas)
    # Move every zero of window 1's extrapolation and holdout (after its origin N + 2H),
    # and of the shifted window's, by a tenth of a spacing: its own prediction must not move.
    moved = gammas.copy()
    for origin in (N + 2 * H, SHIFT + N - 1):
        block = slice(origin, origin + 2 * H)
        moved[block] += 0.1 * (gammas[block.start + 1] - gammas[block.start])
    _, again = run(tmp_path / "b", moved)
    assert np.array_equal(again[0], clean[0]) and np.array_equal(again[1], clean[1])
    assert np.array_equal(again[3], clean[3])
    # Window 2 observes window 1's zeros as inputs, so it does see the change.
    assert not np.array_equal(again[2], clean[2])


def test_a_study_at_another_start_unfolds_at_its_true_heights(odlyzko):
    cfg = config(start=5_001)
    data = zero_data(odlyzko[:10_000])
    problem = build_problem(cfg, data, None)
    assert problem.data.first_index == 5_001
    assert problem.data.gammas[0] == odlyzko[5_000]
    # δ at the true index is small (≈ −S(t)); at the node number it would be ≈ 5,000.
    assert np.max(np.abs(problem.data.delta)) < 2.0
    assert zero_ranges(cfg) == [(5_001, N + 6 * H), (SHIFT, N + 2 * H)]
