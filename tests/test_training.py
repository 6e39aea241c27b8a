"""Training: the loss falls, a run stops by patience and keeps its best epoch, a killed run
resumes to the same result, NaN ends as `diverged`, and bad input is refused before the first
epoch."""

import csv
import json

import numpy as np
import pytest
import torch
from conftest import TINY_CONFIG

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.evaluation.predictions import load_predictions
from zetalab.learning.dataset import zero_data
from zetalab.learning.graph import build_graph, save_graph
from zetalab.learning.loop import HISTORY_COLUMNS, RunPaths, TrainingInterrupted
from zetalab.learning.partition import partition_graph, save_partition
from zetalab.learning.run import train_run
from zetalab.learning.runconfig import resolve_run_config

# Overrides of the tiny configuration (.test/config/config.yaml): 600 train zeros, a fixed
# budget of 12 epochs (patience null), an explicit-formula column of a fixed setting.
TINY = {
    "dataset": {"N": 600},
    "graph": {"partition": {"num_parts": 6}},
    "model": {"hidden": 16, "estimate": {"num_primes": 100, "taper": 0.5}},
    "train": {
        "max_epochs": 12,
        "patience": None,
        "checkpoint_every": 3,
        "clusters_per_step": 2,
        "device": "cpu",
        "lr": 0.003,
    },
    "loss": {"rg_max_lag": 16, "mmd_max_samples": 256, "mmd_reference_size": 128},
}
N, H = 600, load_config(TINY_CONFIG)["dataset"]["horizon"]


@pytest.fixture(scope="module")
def zeros(odlyzko):
    return zero_data(odlyzko[: N + 2 * H])


def tiny(variant, **train):
    overrides = json.loads(json.dumps(TINY))
    overrides["train"].update(train)
    return resolve_run_config(load_config(TINY_CONFIG), overrides, variant)


def paths(d):
    return RunPaths(d / "metrics.json", d / "history.csv", d / "predictions.npz")


def history(d):
    with open(d / "history.csv") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("variant", ["fullbatch", "minibatch"])
def test_short_run_lowers_the_loss_and_writes_outputs(variant, zeros, tmp_path):
    torch.set_num_threads(1)
    metrics = train_run(tiny(variant), zeros, 0, "test", paths(tmp_path))
    rows = history(tmp_path)
    assert list(rows[0]) == list(HISTORY_COLUMNS) and len(rows) == 12
    first, last = float(rows[0]["loss_total"]), float(rows[-1]["loss_total"])
    assert last < 0.7 * first
    assert float(rows[-1]["loss_mse"]) < float(rows[0]["loss_mse"])
    assert float(rows[-1]["validation_loss"]) < float(rows[0]["validation_loss"])
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 12
    # A fixed budget (patience null) ends at max_epochs: not converged, best epoch kept.
    assert metrics["stop_reason"] == "max_epochs" and metrics["converged"] is False
    scores = [float(r["extrap_rmse_spacing"]) for r in rows]
    assert metrics["kept_epoch"] == metrics["best_epoch"] == 1 + int(np.argmin(scores))
    assert metrics["final_extrapolation"]["rmse_spacing"] == pytest.approx(min(scores), rel=1e-9)
    assert metrics["device"] == "cpu" and rows[0]["device"] == "cpu"
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["config"]["run"]["variant"] == variant
    preds = load_predictions(tmp_path / "predictions.npz", N + 2 * H)
    assert preds["kind"] == "model" and np.all(np.isfinite(preds["delta_pred"]))
    if variant == "minibatch":
        assert all(r["loss_rg_penalty"] == "nan" for r in rows)
    else:
        assert float(rows[-1]["loss_rg_penalty"]) < float(rows[0]["loss_rg_penalty"])


@pytest.mark.parametrize("variant", ["fullbatch", "minibatch"])
def test_resume_after_kill_gives_the_uninterrupted_result(variant, zeros, tmp_path):
    torch.set_num_threads(1)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    train_run(tiny(variant, max_epochs=8), zeros, 1, "test", paths(whole))
    # Killed after epoch 5: the last checkpoint is epoch 3, so epochs 4-5 are redone.
    with pytest.raises(TrainingInterrupted):
        train_run(
            tiny(variant, max_epochs=8), zeros, 1, "test", paths(broken), interrupt_after_epoch=5
        )
    assert (broken / "checkpoint.pt").exists() and not (broken / "metrics.json").exists()
    metrics = train_run(tiny(variant, max_epochs=8), zeros, 1, "test", paths(broken))
    assert metrics["resumed_from_epoch"] == 3
    a = load_predictions(whole / "predictions.npz", N + 2 * H)["delta_pred"]
    b = load_predictions(broken / "predictions.npz", N + 2 * H)["delta_pred"]
    assert np.array_equal(a, b)
    losses = [[r["loss_total"], r["extrap_mse_height"]] for r in history(whole)]
    assert losses == [[r["loss_total"], r["extrap_mse_height"]] for r in history(broken)]


def test_a_run_stops_by_patience_and_keeps_its_best_epoch(zeros, tmp_path):
    """A learning rate too small to improve the score: the best epoch stays the first, the run
    stops `patience` epochs later (converged, as patience ≥ MIN_PATIENCE), the rate falls on
    the plateau, and the written predictions are the best epoch's, not the last one's."""
    torch.set_num_threads(1)
    config = tiny("fullbatch", max_epochs=40, patience=10, lr=1e-7, lr_patience=2, lr_min=0.0)
    metrics = train_run(config, zeros, 0, "test", paths(tmp_path))
    rows = history(tmp_path)
    assert metrics["stop_reason"] == "patience" and metrics["converged"] is True
    assert metrics["best_epoch"] == metrics["kept_epoch"] == 1
    assert metrics["epochs_run"] == len(rows) == 11
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] == 1e-7 and lrs[-1] < lrs[0] / 4  # ReduceLROnPlateau on the window's score
    # The kept epoch's own score, not the last epoch's.
    kept = metrics["final_extrapolation"]["mse_height"]
    assert kept == pytest.approx(float(rows[0]["extrap_mse_height"]), rel=1e-9)
    assert kept != pytest.approx(float(rows[-1]["extrap_mse_height"]), rel=1e-12)


def test_the_plateau_schedule_follows_the_monitored_score():
    """The rate holds while the score improves and halves after lr_patience epochs without."""
    from zetalab.learning.stopping import make_scheduler, step_scheduler

    train = {"schedule": "plateau", "lr_factor": 0.5, "lr_patience": 2, "min_delta": 1e-3,
             "lr_min": 0.0, "max_epochs": 50}  # fmt: skip
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make_scheduler(opt, train)
    for score in (1.0, 0.9, 0.8, 0.7, 0.6):
        step_scheduler(scheduler, score)
    assert opt.param_groups[0]["lr"] == 0.1
    for _ in range(3):
        step_scheduler(scheduler, 0.6)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_patience_below_the_minimum_stops_but_is_not_convergence(zeros, tmp_path):
    config = tiny("fullbatch", max_epochs=10, patience=2, lr=1e-9)
    metrics = train_run(config, zeros, 0, "test", paths(tmp_path))
    assert metrics["stop_reason"] == "patience" and metrics["epochs_run"] == 3
    assert metrics["converged"] is False


def test_resume_keeps_the_stopping_record_exact(zeros, tmp_path):
    """Killed between checkpoints, a run with patience resumes to the same stop, best epoch
    and predictions as an uninterrupted one (the best weights live in the checkpoint)."""
    torch.set_num_threads(1)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    config = tiny("minibatch", max_epochs=30, patience=4, lr=0.01)
    a = train_run(config, zeros, 2, "test", paths(whole))
    with pytest.raises(TrainingInterrupted):
        train_run(
            config, zeros, 2, "test", paths(broken), interrupt_after_epoch=a["epochs_run"] - 1
        )
    b = train_run(config, zeros, 2, "test", paths(broken))
    keys = ("best_epoch", "kept_epoch", "epochs_run", "converged", "stop_reason")
    assert b["resumed_from_epoch"] is not None
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    pa = load_predictions(whole / "predictions.npz", N + 2 * H)["delta_pred"]
    pb = load_predictions(broken / "predictions.npz", N + 2 * H)["delta_pred"]
    assert np.array_equal(pa, pb)


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ({"patience": 13}, "train.patience = 13 must lie between 1 and train.max_epochs = 12"),
        ({"patience": 0}, "patience"),
    ],
)
def test_impossible_patience_is_a_config_error(train, message):
    with pytest.raises(ZetalabError, match=message):
        tiny("fullbatch", **train)


def test_checkpoint_of_another_config_is_not_resumed(zeros, tmp_path):
    with pytest.raises(TrainingInterrupted):
        train_run(
            tiny("fullbatch", max_epochs=6), zeros, 0, "t", paths(tmp_path), interrupt_after_epoch=3
        )
    metrics = train_run(tiny("fullbatch", max_epochs=4), zeros, 0, "t", paths(tmp_path))
    assert metrics["resumed_from_epoch"] is None and metrics["epochs_run"] == 4


def test_nan_ends_the_run_as_diverged_from_the_last_good_checkpoint(zeros, tmp_path):
    metrics = train_run(tiny("fullbatch"), zeros, 0, "test", paths(tmp_path), nan_at_epoch=8)
    assert metrics["status"] == "diverged"
    assert metrics["diverged_at_epoch"] == 8 and metrics["epochs_run"] == 7
    assert metrics["restored_epoch"] == 6  # checkpoints every 3 epochs
    assert "NaN" in metrics["message"]
    assert len(history(tmp_path)) == 7
    # Predictions come from the restored checkpoint (epoch 6): its best epoch is kept.
    blob = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert blob["epoch"] == 6 and metrics["kept_epoch"] == blob["best"]["epoch"] <= 6
    assert metrics["stop_reason"] == "diverged" and metrics["converged"] is False
    preds = load_predictions(tmp_path / "predictions.npz", N + 2 * H)["delta_pred"]
    assert np.all(np.isfinite(preds))


def test_horizon_beyond_the_zeros_is_refused(odlyzko, tmp_path):
    short = zero_data(odlyzko[: N + H])
    with pytest.raises(ZetalabError, match="horizon reaches beyond the computed zeros"):
        train_run(tiny("fullbatch"), short, 0, "t", paths(tmp_path))
    assert not (tmp_path / "checkpoint.pt").exists()


def _write_aggregate(odlyzko, root):
    from zetalab.zeros.store import aggregate, write_chunk

    chunk = root / "chunk.npy"
    write_chunk(chunk, odlyzko[:1000], 1, {"backend": "file"})
    out = root / "zeros_1000.npy"
    aggregate([chunk], out, 1000)
    return out


def test_missing_or_corrupt_zeros_file_is_refused(odlyzko, tmp_path):
    pytest.importorskip("zetalab.zeros.store")
    with pytest.raises(ZetalabError, match="does not exist"):
        train_run(tiny("fullbatch"), tmp_path / "none.npy", 0, "t", paths(tmp_path / "a"))
    agg = _write_aggregate(odlyzko, tmp_path)
    data = bytearray(agg.read_bytes())
    data[-8:] = b"\x00" * 8
    agg.write_bytes(bytes(data))
    with pytest.raises(ZetalabError, match="sha256"):
        train_run(tiny("fullbatch"), agg, 0, "t", paths(tmp_path / "b"))
    assert not (tmp_path / "b").exists()


def test_graph_and_partition_files_are_matched_to_the_run(zeros, tmp_path):
    total = N + 2 * H
    graph = build_graph(total, [2, 3, 5])
    save_graph(tmp_path / "g" / "graph.npz", graph)
    other = build_graph(total, [2, 3])
    save_graph(tmp_path / "o" / "graph.npz", other)
    save_partition(
        tmp_path / "g" / "partition_metis6.npz", partition_graph(graph, "metis", 6), graph.primes
    )
    files = [
        tmp_path / "o" / "graph.npz",
        tmp_path / "g" / "graph.npz",
        tmp_path / "g" / "partition_metis6.npz",
    ]
    metrics = train_run(
        tiny("minibatch", max_epochs=2), zeros, 0, "t", paths(tmp_path / "r"), files
    )
    assert metrics["status"] == "completed" and metrics["edges"] == graph.num_edges
    with pytest.raises(ZetalabError, match=r"no graph among the run's inputs .*primes \[2, 3, 5\]"):
        train_run(tiny("fullbatch"), zeros, 0, "t", paths(tmp_path / "s"), files[:1])
    with pytest.raises(ZetalabError, match="no partition among the run's inputs is metis6"):
        train_run(tiny("minibatch"), zeros, 0, "t", paths(tmp_path / "s"), files[:2])


def test_a_crashed_sweep_trial_is_recorded_as_failed(tmp_path):
    """record_failure (sweep trials): the crash is recorded, not raised; A/B runs still raise."""
    from zetalab.io import write_json_atomic
    from zetalab.learning.run import train_job

    run_config = tmp_path / "cfg.json"
    write_json_atomic(run_config, {"overrides": TINY})
    missing = tmp_path / "no_zeros.npy"
    kwargs = dict(
        base_config=load_config(TINY_CONFIG),
        run_config_path=run_config,
        variant="minibatch",
        seed=0,
        cfg="sweep-x-t00",
        zeros_path=missing,
        graph_files=[],
    )
    with pytest.raises(ZetalabError, match="does not exist"):
        train_job(**kwargs, paths=paths(tmp_path / "ab"))
    assert not (tmp_path / "ab").exists()

    out = tmp_path / "trial"
    metrics = train_job(**kwargs, paths=paths(out), record_failure=True)
    assert metrics["status"] == "failed" and "does not exist" in metrics["message"]
    assert json.loads((out / "metrics.json").read_text())["status"] == "failed"
    assert history(out) == []
    assert np.isnan(load_predictions(out / "predictions.npz", N + 2 * H)["delta_pred"]).all()
