"""Behaviours of the core logic that a plausible one-line bug would break, each pinned by a test.

Written against public functions and the files a run writes, so they hold across rewrites of
the training loop, the zero engine and the store: the extrapolation score of history.csv is
scored on the extrapolation window; validation zeros are never training targets and never
fitting targets of a baseline; MAE and skill mean what they say; the aggregate refuses chunks
that fall short; each end of the Arb index check works on its own; rs fails clearly when its
refinement cannot find the zeros Arb counts. (p = alpha is pinned in test_verdict.py.)
"""

from __future__ import annotations

import csv
import dataclasses
import inspect
import json
import math

import numpy as np
import pytest
import torch

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.evaluation.baselines import observed_view, run_baseline
from zetalab.evaluation.metrics import evaluate_predictions
from zetalab.evaluation.predictions import load_predictions
from zetalab.evaluation.scoring import prediction_errors
from zetalab.learning.dataset import make_splits, zero_data
from zetalab.learning.loop import RunPaths
from zetalab.learning.run import train_run
from zetalab.learning.runconfig import resolve_run_config
from zetalab.unfold import mean_spacing, smooth_count
from zetalab.zeros import store
from zetalab.zeros.counting import index_check

N, H = 400, 20
TINY = {
    "dataset": {"N": N, "horizon": H},
    "graph": {"primes": [2, 3, 5], "partition": {"method": "contiguous", "num_parts": 4}},
    "model": {"hidden": 8, "layers": 2, "estimate": {"num_primes": 100, "taper": 0.5}},
    "train": {
        "max_epochs": 3,
        "patience": None,
        "checkpoint_every": 100,
        "clusters_per_step": 2,
        "device": "cpu",
        "lr": 0.003,
    },
    "loss": {"rg_max_lag": 8, "mmd_max_samples": 128, "mmd_reference_size": 64},
}


@pytest.fixture(scope="module")
def zeros(odlyzko):
    return zero_data(odlyzko[: N + 2 * H])


def _config(variant: str) -> dict:
    return resolve_run_config(load_config(), json.loads(json.dumps(TINY)), variant)


def _train(config: dict, data, directory) -> list[dict[str, str]]:
    torch.set_num_threads(1)
    directory.mkdir(parents=True, exist_ok=True)
    paths = RunPaths(
        directory / "metrics.json", directory / "history.csv", directory / "predictions.npz"
    )
    train_run(config, data, 0, "test", paths)
    with open(directory / "history.csv") as fh:
        return list(csv.DictReader(fh))


def _splits(config: dict):
    d = config["dataset"]
    return make_splits(d["N"], d["horizon"], d["validation_fraction"], d["split_seed"])


# 1 ----------------------------------------------------------------------------------------
def test_history_extrapolation_score_is_the_extrapolation_window(zeros, tmp_path):
    """The last epoch's extrap_* in history.csv equal scoring predictions.npz on N+1..N+H
    (and differ from the holdout's)."""
    config = _config("fullbatch")
    rows = _train(config, zeros, tmp_path)
    pred = load_predictions(tmp_path / "predictions.npz", N + 2 * H)["delta_pred"]
    scored = evaluate_predictions(pred, zeros, _splits(config))["errors"]
    last = rows[-1]
    for key in ("rmse_spacing", "mse_height", "mae_height"):
        assert float(last[f"extrap_{key}"]) == pytest.approx(
            scored["extrapolation"][key], rel=1e-9, abs=1e-12
        ), key
    assert float(last["extrap_rmse_spacing"]) != pytest.approx(
        scored["holdout"]["rmse_spacing"], rel=1e-6
    )


# 2 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["fullbatch", "minibatch"])
def test_validation_zeros_are_never_training_targets(zeros, tmp_path, variant):
    """Shifting every validation δ leaves the training loss history unchanged; only the
    validation loss moves."""
    config = _config(variant)
    validation = _splits(config).validation - 1
    delta = zeros.delta.copy()
    delta[validation] += 0.5
    shifted = dataclasses.replace(zeros, delta=delta)
    plain = _train(config, zeros, tmp_path / "plain")
    moved = _train(config, shifted, tmp_path / "moved")
    train_columns = [c for c in plain[0] if c.startswith("loss_")]
    assert train_columns
    for a, b in zip(plain, moved, strict=True):
        for column in train_columns:
            assert a[column] == b[column], (column, a["epoch"])
    assert plain[-1]["validation_loss"] != moved[-1]["validation_loss"]


def _fits_on_targets_only(name: str) -> bool:
    """Baselines whose fit uses δ only as targets (AR also reads δ as lagged inputs)."""
    return name != "ar"


@pytest.mark.parametrize("name", ["smooth", "prime_sum", "prime_sum_fit", "ar"])
def test_baselines_never_fit_on_validation_zeros(zeros, name):
    """A baseline's fit sees validation δ as a target nowhere: shifting them leaves its
    predictions unchanged (AR: its fitting mask excludes them)."""
    params = json.loads(json.dumps(load_config()["baselines"]))
    params["prime_sum"].update(num_primes=30, fit_num_primes=30)  # small: the test is fast
    splits = make_splits(N, H, 0.1, 0)
    observed = observed_view(zeros, splits)
    assert not observed.fit_mask[splits.validation - 1].any()
    assert observed.fit_mask.sum() == N - len(splits.validation)
    if not _fits_on_targets_only(name):
        return
    delta = zeros.delta.copy()
    delta[splits.validation - 1] += 0.5
    moved = observed_view(dataclasses.replace(zeros, delta=delta), splits)
    a = run_baseline(name, observed, params).delta_pred
    b = run_baseline(name, moved, params).delta_pred
    np.testing.assert_array_equal(a, b)


def test_ar_fit_ignores_the_targets_outside_its_mask():
    """An AR fit on a mask: changing a masked-out target far from every fitted row's lags
    changes nothing; changing a fitted target does."""
    from zetalab.evaluation.baselines import fit_ar

    rng = np.random.default_rng(0)
    delta = rng.normal(0, 0.3, 400)
    mask = np.ones(400, dtype=bool)
    mask[390:] = False  # the last targets are never fitted and never a lag of a fitted one
    base = fit_ar(delta, mask, 3, 1e-6)
    far = delta.copy()
    far[395] += 5.0
    same = fit_ar(far, mask, 3, 1e-6)
    np.testing.assert_array_equal(base.coef, same.coef)
    assert base.intercept == same.intercept
    near = delta.copy()
    near[200] += 5.0
    assert not np.allclose(fit_ar(near, mask, 3, 1e-6).coef, base.coef)


# 3 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("christoffel", "rtol"), [("autograd", 1e-7), ("fd", 1e-5)])
def test_gradient_through_the_last_shooting_step_is_the_exact_derivative(christoffel, rtol):
    """g = exp(2ac) has v0 = (exp(a(c_b − c_a)) − 1)/a; d v0/da through Study S's
    differentiable shooting (Newton without a graph, one last step with it) equals the
    closed form's derivative, row by row."""
    from zetalab.spectral.metric import ExponentialMetric
    from zetalab.spectral.shooting import shoot

    f64 = torch.float64
    c_a = torch.tensor([0.1, 0.5, 1.1, 0.3], dtype=f64)
    c_b = torch.tensor([1.1, 0.2, 0.1, 0.9], dtype=f64)
    idx = torch.zeros(4, dtype=torch.long)
    d = c_b - c_a
    for row in range(4):
        metric = ExponentialMetric(0.7)
        a = torch.tensor(0.7, dtype=f64, requires_grad=True)
        metric.a = a
        result = shoot(
            metric,
            c_a,
            c_b,
            idx,
            newton_steps=4,
            steps=64,
            christoffel=christoffel,
            differentiable=True,
        )
        (grad,) = torch.autograd.grad(result.v0[row], a)
        ad = float(a.detach()) * float(d[row])
        exact = (ad * math.exp(ad) - math.exp(ad) + 1.0) / float(a.detach()) ** 2
        assert float(grad) == pytest.approx(exact, rel=rtol), row
        assert float(result.v0[row]) == pytest.approx(math.expm1(ad) / 0.7, rel=1e-6)


# 4 ----------------------------------------------------------------------------------------
def test_mae_is_the_mean_of_absolute_height_errors(odlyzko):
    gammas = odlyzko[1000:1006]
    n = np.arange(1001, 1007)
    error = np.array([0.1, -0.3, 0.2, -0.05, 0.0, 0.25])
    delta_pred = smooth_count(gammas + error) - (n - 0.5)
    got = prediction_errors(delta_pred, gammas, n, mean_spacing(gammas))
    assert got["mae_height"] == pytest.approx(np.mean(np.abs(error)), abs=1e-9)
    assert got["mse_height"] == pytest.approx(np.mean(error**2), abs=1e-9)
    in_spacings = error / mean_spacing(gammas)
    assert got["rmse_spacing"] == pytest.approx(np.sqrt(np.mean(in_spacings**2)), abs=1e-9)


def test_skill_in_spacings_is_0_for_smooth_and_1_for_a_perfect_predictor(zeros):
    splits = make_splits(N, H, 0.1, 0)
    smooth = evaluate_predictions(np.zeros(N + 2 * H), zeros, splits)["errors"]
    perfect = evaluate_predictions(zeros.delta[: N + 2 * H], zeros, splits)["errors"]
    half = evaluate_predictions(0.5 * zeros.delta[: N + 2 * H], zeros, splits)["errors"]
    for split in ("train", "validation", "extrapolation", "holdout"):
        assert smooth[split]["skill_spacing"] == 0.0 and smooth[split]["skill"] == 0.0
        assert perfect[split]["skill_spacing"] == pytest.approx(1.0, abs=1e-9)
        assert perfect[split]["mae_height"] == pytest.approx(0.0, abs=1e-9)
        assert 0.0 < half[split]["skill_spacing"] < 1.0


# 5 ----------------------------------------------------------------------------------------
def test_aggregate_refuses_chunks_covering_fewer_zeros_than_it_must_hold(tmp_path, odlyzko):
    files = []
    for r in store.chunk_ranges(2000, 1000):
        path = store.chunk_path(tmp_path, "file", r.start, r.end)
        store.write_chunk(path, odlyzko[r.start - 1 : r.end], r.start, {})
        files.append(path)
    out = tmp_path / "zeros_2001.npy"
    with pytest.raises(ZetalabError, match=r"cover zeros 1\.\.2000 only; 1\.\.2001 requested"):
        store.aggregate(files, out, 2001)
    assert not out.exists() and not store.manifest_path(out).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("zeros")) == []


def test_aggregate_refuses_a_gap_of_a_single_zero(tmp_path, odlyzko):
    """Chunks 1..1000 and 1002..2001: zero 1001 is in none, so its slot would stay 0.0."""
    files = []
    for start, end in ((1, 1000), (1002, 2001)):
        path = store.chunk_path(tmp_path, "file", start, end)
        store.write_chunk(path, odlyzko[start - 1 : end], start, {})
        files.append(path)
    out = tmp_path / "zeros_2001.npy"
    with pytest.raises(ZetalabError, match=r"gap in the chunks: zeros 1001\.\.1001"):
        store.aggregate(files, out, 2001)
    assert not out.exists()


# 6 ----------------------------------------------------------------------------------------
def test_index_check_upper_end_alone_refuses_a_zero_removed_inside(odlyzko):
    values = np.delete(odlyzko[99:200], 50)  # γ_100..γ_200 without γ_150: claims 100..199
    with pytest.raises(ZetalabError, match=r"N\([\d.]+\) = 99 \(expected 99\), N\([\d.]+\) = 200 "):
        index_check(values, 100, "block")


def test_index_check_lower_end_alone_refuses_a_block_that_starts_late(odlyzko):
    # γ_101..γ_200 plus a doubled zero inside, claimed as 100..200: only N(T_a) is wrong
    values = np.insert(odlyzko[100:200], 50, odlyzko[150] - 1e-3)
    with pytest.raises(ZetalabError, match=r"= 100 \(expected 99\), N\([\d.]+\) = 200 \(exp"):
        index_check(values, 100, "block")


# 7 ----------------------------------------------------------------------------------------
def test_rs_refinement_that_cannot_find_the_zeros_fails_with_its_own_message(monkeypatch):
    """Without refinement, the Gram samples miss Lehmer's pair near γ_6709: rs must stop with
    its own message (never return too few zeros)."""
    from zetalab.zeros import rs

    monkeypatch.setattr(rs, "MAX_REFINE_ROUNDS", 0)
    kwargs = {"count": "arb"} if "count" in inspect.signature(rs.compute_rs).parameters else {}
    with pytest.raises(
        ZetalabError, match=r"rs: found \d+ sign changes where the count \(Arb\) is \d+"
    ):
        rs.compute_rs(6700, 6720, **kwargs)
