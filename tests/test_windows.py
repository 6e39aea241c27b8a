"""Rolling-origin windows: origins, masks, scoring per window, the bootstrap interval."""

import math

import numpy as np
import pytest

from zetalab.errors import ZetalabError
from zetalab.evaluation.windows import (
    BOOTSTRAP_LEVEL,
    MIN_INTERVAL_VALUES,
    bootstrap_interval,
    interval_text,
    load_windows,
    predict_windows,
    save_windows,
    score_window,
    slice_windows,
    span,
    summarise,
    window_indices,
    window_observed,
    window_origins,
    window_rows,
    windows_markdown,
)
from zetalab.learning.dataset import zero_data


def test_origins_follow_the_training_range_every_2h():
    assert window_origins(1000, 100, 4) == [1000, 1200, 1400, 1600]
    assert window_origins(1000, 100, 3, stride=500) == [1000, 1500, 2000]
    assert span(1000, 100) == 1200 and span(1000, 100, 4) == 1800
    idx = window_indices(1200, 100)
    assert idx["extrapolation"][[0, -1]].tolist() == [1201, 1300]
    assert idx["holdout"][[0, -1]].tolist() == [1301, 1400]
    with pytest.raises(ZetalabError, match=r"evaluation\.windows"):
        window_origins(1000, 100, 0)


def test_window_observes_every_zero_before_its_origin_and_none_after():
    observable = np.zeros(1800, dtype=bool)
    observable[:1000] = True
    observable[[3, 7]] = False  # validation nodes stay hidden, as in training
    mask = window_observed(observable, 1000, 1400)
    assert mask[:1400].sum() == 1398 and not mask[3] and not mask[1400:].any()
    assert window_observed(observable, 1000, 1000).tolist() == observable.tolist()


def test_score_window_uses_true_heights_and_only_its_own_block(odlyzko):
    data = zero_data(odlyzko[:1600])
    exact = score_window(data.delta[1200:1400], data.gammas, data.spacing, 1200, 100)
    assert exact["errors"]["extrapolation"]["mse_height"] == pytest.approx(0, abs=1e-18)
    w = score_window(np.zeros(200), data.gammas, data.spacing, 1200, 100)
    assert w["errors"]["holdout"]["skill"] == 0.0 and w["origin"] == 1200
    smooth_rmse = np.sqrt(np.mean((data.delta[1200:1300]) ** 2))  # δ̂ = 0: error ≈ δ spacings
    assert w["errors"]["extrapolation"]["rmse_spacing"] == pytest.approx(smooth_rmse, rel=0.05)
    # A wrong holdout changes nothing in the window's extrapolation score.
    bad = np.zeros(200)
    bad[100:] = 7.0
    again = score_window(bad, data.gammas, data.spacing, 1200, 100)
    assert again["errors"]["extrapolation"] == w["errors"]["extrapolation"]
    assert again["errors"]["holdout"] != w["errors"]["holdout"]


def test_fixed_model_predicts_each_window_from_its_own_observed_zeros(tmp_path):
    observable = np.zeros(1800, dtype=bool)
    observable[:1000] = True
    seen = []

    def predict(observed):  # "model": echoes the number of observed inputs everywhere
        seen.append(int(observed.sum()))
        return np.full(1800, float(observed.sum()))

    origins = window_origins(1000, 100, 4)
    windows = predict_windows(predict, observable, 1000, origins, 100)
    assert seen == [1000, 1200, 1400, 1600] and windows.shape == (4, 200)
    assert windows[:, 0].tolist() == [1000.0, 1200.0, 1400.0, 1600.0]
    save_windows(tmp_path / "w.npz", origins, windows)
    assert np.array_equal(load_windows(tmp_path / "w.npz", origins, 100), windows)
    with pytest.raises(ZetalabError, match="expected"):
        load_windows(tmp_path / "w.npz", origins[:2], 100)
    line = np.arange(1800.0)
    assert slice_windows(line, [1000, 1200], 100)[1, 0] == 1200.0


def test_bootstrap_interval_resamples_seeds_and_windows():
    rng = np.random.default_rng(0)
    values = {s: list(1.0 + 0.1 * s + 0.01 * rng.normal(size=4)) for s in range(5)}
    ci = bootstrap_interval(values)
    assert ci["lo"] < ci["mean"] < ci["hi"]
    assert ci["mean"] == pytest.approx(np.mean([v for vs in values.values() for v in vs]))
    # The seed-to-seed spread (0.1 per seed) dominates: the interval is far wider than the
    # within-seed noise alone would give.
    assert ci["hi"] - ci["lo"] > 0.1
    one_seed = bootstrap_interval({0: [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert 1.0 <= one_seed["lo"] < 3.0 < one_seed["hi"] <= 5.0
    same = {"mean": 1.0, "lo": 1.0, "hi": 1.0, "seeds": 1, "values": 5}
    assert bootstrap_interval({0: [1.0] * 5}) == same
    assert math.isnan(bootstrap_interval({0: [1.0] * 5, 1: [math.nan]})["mean"])


def test_no_interval_from_fewer_than_five_values():
    """Issue 19: the "95 % interval" of one baseline over 2 windows was the two values."""
    assert MIN_INTERVAL_VALUES == 5
    two = bootstrap_interval({0: [1.0, 2.0]})
    assert two["mean"] == 1.5 and math.isnan(two["lo"]) and math.isnan(two["hi"])
    assert two["values"] == 2
    four = bootstrap_interval({0: [1.0, 2.0], 1: [3.0, 4.0]})
    assert math.isnan(four["lo"]) and four["values"] == 4 and four["seeds"] == 2
    five = bootstrap_interval({0: [1.0, 2.0], 1: [3.0, 4.0, 5.0]})
    assert five["lo"] < five["mean"] < five["hi"]
    assert interval_text(1.5, math.nan, math.nan, 2) == "1.5 [n/a: 2 values]"
    assert interval_text(1.5, 1.0, 2.0, 6) == "1.5 [1, 2]"
    assert interval_text(math.nan, math.nan, math.nan, 2) == "n/a [n/a, n/a]"  # diverged


def test_the_interval_is_a_95_percent_interval():
    """One seed of 100 windows, half 0 and half 1: each bootstrap mean is Binomial(100, ½)/100,
    whose 2.5 % and 97.5 % quantiles are 0.40 and 0.60 (0.42 and 0.58 at 90 %)."""
    assert BOOTSTRAP_LEVEL == 0.95
    ci = bootstrap_interval({0: [0.0, 1.0] * 50})
    assert ci["lo"] == pytest.approx(0.40, abs=0.006) and ci["hi"] == pytest.approx(0.60, abs=0.006)


def test_report_lists_every_window_and_the_mean_with_interval():
    def ev(values):
        return {
            "windows": [
                {"origin": 100 + 20 * k, "errors": {"extrapolation": {"mse_height": v},
                                                    "holdout": {"mse_height": 2 * v}}}
                for k, v in enumerate(values)
            ]
        }  # fmt: skip

    rows = window_rows("smooth", "baseline", None, ev([0.3, 0.4]), "mse_height")
    for seed in range(3):
        rows += window_rows("gnn", "model", seed, ev([0.1 + seed, 0.2]), "mse_height")
    summary = summarise(rows, "mse_height")
    assert [s["name"] for s in summary] == ["smooth", "gnn"]
    gnn = summary[1]
    assert gnn["seeds"] == 3 and gnn["windows"] == 2
    assert gnn["extrapolation_mse_height_mean"] == pytest.approx(
        np.mean([0.1, 1.1, 2.1, 0.2] + [0.2] * 2)
    )
    md = windows_markdown(rows, summary, "mse_height")
    assert md.count("| gnn |") == 7 and "95 % CI" in md
    # The baseline's 2 windows give no interval; the model's 3 seeds × 2 windows do.
    assert "| smooth | baseline | 1 | 2 | 0.35 [n/a: 2 values] | 0.7 [n/a: 2 values] |" in md
    assert gnn["extrapolation_mse_height_values"] == 6
    assert gnn["extrapolation_mse_height_lo"] < gnn["extrapolation_mse_height_mean"]
