"""Atomic writes, splits, the predictions file and scoring."""

import numpy as np
import pytest

from zetalab.errors import ZetalabError
from zetalab.evaluation.predictions import load_predictions, save_predictions
from zetalab.evaluation.scoring import prediction_errors
from zetalab.io import atomic_path, read_json, sha256_file, write_json_atomic
from zetalab.learning.dataset import make_splits, zero_data


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_json_round_trip_and_checksum(tmp_path):
    path = tmp_path / "a.json"
    write_json_atomic(path, {"b": np.float64(1.5), "a": np.arange(3)})
    assert read_json(path) == {"a": [0, 1, 2], "b": 1.5}
    assert len(sha256_file(path)) == 64
    path.write_text("{not json")
    with pytest.raises(ZetalabError, match="is damaged"):
        read_json(path)


def test_splits_partition_the_indices():
    s = make_splits(1000, 50, 0.1, seed=3)
    assert len(s.train) == 1000 and s.train[0] == 1 and s.train[-1] == 1000
    assert set(s.validation) <= set(s.train) and len(s.validation) == 100
    assert s.extrapolation.tolist() == list(range(1001, 1051))
    assert s.holdout.tolist() == list(range(1051, 1101))
    again = make_splits(1000, 50, 0.1, seed=3)
    assert np.array_equal(s.validation, again.validation)


def test_smooth_prediction_scores_like_direct_computation(odlyzko):
    data = zero_data(odlyzko[:2000])
    idx = np.arange(1001, 2001)
    errors = prediction_errors(np.zeros(1000), data.gammas[idx - 1], idx, data.spacing[idx - 1])
    direct = (data.smooth_heights[idx - 1] - data.gammas[idx - 1]) / data.spacing[idx - 1]
    assert errors["rmse_spacing"] == pytest.approx(np.sqrt(np.mean(direct**2)), rel=1e-6)
    perfect = prediction_errors(
        data.delta[idx - 1], data.gammas[idx - 1], idx, data.spacing[idx - 1]
    )
    assert perfect["mse_height"] < 1e-18


def test_predictions_round_trip_and_reject_gaps(tmp_path):
    path = tmp_path / "p.npz"
    save_predictions(path, np.arange(1, 11), np.linspace(0, 1, 10), "smooth", "baseline")
    loaded = load_predictions(path, 10)
    assert loaded["name"] == "smooth" and loaded["kind"] == "baseline"
    with pytest.raises(ZetalabError, match=r"does not cover nodes 1\.\.11"):
        load_predictions(path, 11)
    path.write_bytes(b"garbage")
    with pytest.raises(ZetalabError, match="is damaged"):
        load_predictions(path, 10)
