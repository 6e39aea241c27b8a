"""The evaluation protocol's config checks: found while planning, before any job."""

import pytest

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.evaluation.protocol import verdict_files


@pytest.mark.parametrize("margin", [1.0, 0.9])
def test_margin_at_or_below_one_is_a_config_error(margin):
    with pytest.raises(ZetalabError, match=r"ab\.margin"):
        load_config(overrides={"ab": {"margin": margin}})
    assert load_config(overrides={"ab": {"margin": 1.05}})["ab"]["margin"] == 1.05


def test_default_config_runs_three_seeds_and_margin_1_10():
    config = load_config()
    assert config["train"]["seeds"] == [0, 1, 2] and config["ab"]["margin"] == 1.10
    assert config["evaluation"]["windows"] == 2  # a few windows, kept cheap for `make run`


def test_a_verdict_on_fewer_than_two_seeds_is_refused():
    with pytest.raises(ZetalabError, match="needs at least 2 seeds"):
        verdict_files([0], ["a"])
    with pytest.raises(ZetalabError, match="needs at least 2 seeds"):
        verdict_files([3, 3], ["a"])
    assert verdict_files([0, 1], ["a", "b"]) == ["a", "b"]


def _config(**sections):
    return load_config(overrides=sections)


def test_span_covers_the_rolling_windows_and_start_is_absolute():
    from zetalab.evaluation.protocol import study_span, study_start

    c = _config(dataset={"N": 1000, "horizon": 50, "start": 10**6}, evaluation={"windows": 3})
    assert study_span(c) == 1000 + 3 * 100 and study_start(c) == 10**6
    one = _config(dataset={"N": 1000, "horizon": 50}, evaluation={"windows": 1})
    assert study_span(one) == 1100


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"dataset": {"start": 0}}, r"dataset\.start"),
        ({"evaluation": {"windows": 0}}, r"evaluation\.windows"),
    ],
)
def test_bad_start_or_window_count_is_a_schema_error(sections, message):
    with pytest.raises(ZetalabError, match=message):
        _config(**sections)


def test_shift_windows_overlapping_the_training_span_are_refused():
    from zetalab.evaluation.protocol import check_protocol

    ok = _config(
        dataset={"N": 1000, "horizon": 50, "start": 10_000},
        evaluation={"windows": 2, "shift_starts": [100_000, 8_000]},
    )
    check_protocol(ok)  # 8,000..9,099 ends before 10,000; 100,000 is far above
    for start in (9_000, 10_500, 11_199):
        bad = _config(
            dataset={"N": 1000, "horizon": 50, "start": 10_000},
            evaluation={"windows": 2, "shift_starts": [start]},
        )
        with pytest.raises(ZetalabError, match=r"overlaps the training span 10000\.\.11199"):
            check_protocol(bad)


def test_overlapping_rolling_windows_are_refused():
    """A stride below 2H would score window k's holdout as window k+1's extrapolation."""
    from zetalab.evaluation.protocol import check_protocol

    check_protocol(_config(dataset={"N": 1000, "horizon": 50}, evaluation={"stride": 100}))
    bad = _config(dataset={"N": 1000, "horizon": 50}, evaluation={"windows": 2, "stride": 99})
    with pytest.raises(ZetalabError, match=r"evaluation\.stride = 99 is below 2·dataset"):
        check_protocol(bad)


def test_start_beyond_the_engine_is_refused():
    from zetalab.evaluation import protocol

    limit = protocol._engine_limit() or pytest.skip("the zero engine states no index limit yet")
    with pytest.raises(ZetalabError, match="beyond the zero engine's supported range"):
        protocol.check_protocol(_config(dataset={"N": 1000, "start": limit - 500}))
    with pytest.raises(ZetalabError, match="shift_starts"):
        protocol.check_protocol(_config(evaluation={"shift_starts": [limit - 10]}))


def test_no_window_holdout_reaches_a_baseline_choice(odlyzko):
    """A baseline's one fit (train zeros, choices on the study's extrapolation block) predicts
    every rolling window: moving any window's holdout zeros changes no prediction."""
    import numpy as np

    from zetalab.evaluation.baselines import run_baseline
    from zetalab.evaluation.protocol import evaluation_windows
    from zetalab.evaluation.windowed import baseline_windows, span_view
    from zetalab.learning.dataset import make_splits, zero_data

    N, H = 400, 20
    study = _config(dataset={"N": N, "horizon": H}, evaluation={"windows": 3})
    params = {"prime_sum": {"fit_num_primes": [20, 40], "fit_ridge": [1e-3, 1e-1]}}
    splits = make_splits(N, H, 0.1, 0)
    count = N + 6 * H

    def windows(gammas):
        data = zero_data(gammas)
        span = span_view(_view(data, splits), study, data)  # one fit, nodes 1..span
        span_pred = run_baseline("prime_sum_fit", span, params).delta_pred
        return baseline_windows(
            study, [data], splits, span_pred,
            lambda obs: run_baseline("prime_sum_fit", obs, params).delta_pred,
        )[1]  # fmt: skip

    clean = odlyzko[:count].copy()
    a = windows(clean)
    assert a.shape == (3, 2 * H)
    for k, w in enumerate(evaluation_windows(study)):
        # Move window k's holdout zeros: window k and every earlier window keep their
        # predictions (later windows observe those zeros as their past, as a model does).
        moved = clean.copy()
        hold = slice(w.origin(N) + H, w.origin(N) + 2 * H)  # 0-based positions of its holdout
        moved[hold] += 0.2 * np.diff(clean)[hold.start]
        assert np.array_equal(windows(moved)[: k + 1], a[: k + 1])
    # The test can fail: moving train zeros (what the one fit reads) changes every window.
    fit = clean.copy()
    fit[N - 60 : N - 20] += 0.2 * np.diff(clean)[N - 60]
    assert not np.array_equal(windows(fit)[2], a[2])


def _view(data, splits):
    from zetalab.evaluation.baselines import observed_view

    return observed_view(data.window(0, splits.total), splits)


def test_ar_forecasts_each_rolling_window_from_its_own_past(odlyzko):
    """`ar` keeps its one fit but conditions on the zeros before each window's origin: its
    prediction for window k equals the forecast from that past, differs from the forecast
    iterated from N, and no zero after the origin reaches it."""
    import numpy as np

    from zetalab.evaluation.baselines import ar_forecast, ar_history_forecast, run_baseline
    from zetalab.evaluation.protocol import evaluation_windows
    from zetalab.evaluation.windowed import baseline_windows, span_view
    from zetalab.learning.dataset import make_splits, zero_data

    N, H = 400, 20
    study = _config(dataset={"N": N, "horizon": H}, evaluation={"windows": 3})
    params = {"ar": {"order": 5}}
    splits = make_splits(N, H, 0.1, 0)
    count = N + 6 * H

    def windows(gammas):
        data = zero_data(gammas)
        result = run_baseline("ar", span_view(_view(data, splits), study, data), params)
        pred = baseline_windows(
            study, [data], splits, result.delta_pred,
            lambda obs: run_baseline("ar", obs, params).delta_pred,
            ar_history_forecast(result.info, 2 * H),
        )[1]  # fmt: skip
        return data, result, pred

    clean = odlyzko[:count].copy()
    data, result, pred = windows(clean)
    for k, w in enumerate(evaluation_windows(study)):
        origin = w.origin(N)  # 0-based position of its first predicted zero (start 1)
        expect = ar_forecast(_ar_model(result.info), data.delta[:origin], 2 * H)
        np.testing.assert_allclose(pred[k], expect)
        if k:
            assert not np.allclose(pred[k], result.delta_pred[origin : origin + 2 * H])
        moved = clean.copy()
        moved[origin:] += 0.3 * np.diff(clean)[origin]
        assert np.array_equal(windows(moved)[2][k], pred[k])


def _ar_model(info):
    import numpy as np

    from zetalab.evaluation.baselines import ARModel

    return ARModel(np.asarray(info["coef"]), float(info["intercept"]))
