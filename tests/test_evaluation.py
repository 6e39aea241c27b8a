"""Evaluation: Wigner surmise, KS distances, spacings, v(L) and skill on hand cases; bad files."""

import math

import numpy as np
import pytest
from scipy import integrate

from zetalab.errors import ZetalabError
from zetalab.evaluation.jobs import evaluate_job
from zetalab.evaluation.metrics import (
    evaluate_predictions,
    ks_to_gue,
    lags_for,
    skill,
    variance_curve,
    wigner_cdf,
    wigner_pdf,
    window_spacings,
)
from zetalab.evaluation.predictions import save_predictions
from zetalab.evaluation.windows import score_window
from zetalab.learning.dataset import make_splits, zero_data


def test_wigner_cdf_is_the_integral_of_the_surmise():
    for s in (0.1, 0.5, 1.0, 2.0, 3.0):
        integral, _ = integrate.quad(wigner_pdf, 0, s)
        assert wigner_cdf(s) == pytest.approx(integral, abs=1e-12)
    assert wigner_cdf(50.0) == pytest.approx(1.0)
    assert wigner_cdf(-1.0) == 0.0
    mean, _ = integrate.quad(lambda s: s * wigner_pdf(s), 0, np.inf)
    assert mean == pytest.approx(1.0)  # unit mean spacing


def test_ks_on_hand_cases():
    # All spacings equal to 1 (the smooth predictor): the ECDF jumps 0 → 1 at s = 1.
    f1 = math.erf(2 / math.sqrt(math.pi)) - 4 / math.pi * math.exp(-4 / math.pi)
    assert ks_to_gue(np.ones(99)) == pytest.approx(max(f1, 1 - f1))
    # A large exact sample of the surmise (inverse CDF) is close; a Poisson sample is not.
    u = (np.arange(20_000) + 0.5) / 20_000
    grid = np.linspace(0, 6, 200_001)
    sample = np.interp(u, wigner_cdf(grid), grid)
    assert ks_to_gue(sample) < 1e-3
    poisson = -np.log(1 - u)
    assert ks_to_gue(poisson) > 0.2
    assert math.isnan(ks_to_gue(np.array([1.0])))
    assert math.isnan(ks_to_gue(np.array([1.0, np.nan, 2.0])))


def test_true_zeros_spacings_are_close_to_gue(odlyzko):
    d = zero_data(odlyzko[:10_000])
    s = window_spacings(d.delta, np.arange(1000, 10_001))
    assert s.mean() == pytest.approx(1.0, abs=0.01)
    assert ks_to_gue(s) < 0.05


def test_window_spacings_only_pairs_consecutive_indices():
    delta = np.array([0.0, 0.1, -0.2, 0.3, 0.0])
    np.testing.assert_allclose(window_spacings(delta, np.array([1, 2, 3])), [1.1, 0.7])
    # 2 and 4 are not neighbours: only (3, 4) and (4, 5) count.
    np.testing.assert_allclose(window_spacings(delta, np.array([2, 3, 4, 5])), [0.7, 1.5, 0.7])
    np.testing.assert_allclose(window_spacings(delta, np.array([2, 4])), [])


def test_variance_curve_on_a_hand_case():
    a = 0.3
    delta = a * (-1.0) ** np.arange(1000)  # δ_{n+L} − δ_n = 0 (L even) or ±2a (L odd)
    v = variance_curve(delta, np.array([1, 2, 3, 4]))
    # (999 differences for L = 1: 500 of one sign, 499 of the other: var = 4a²(1 − 1/999²))
    np.testing.assert_allclose(
        v, [4 * a * a * (1 - 999**-2), 0, 4 * a * a * (1 - 997**-2), 0], atol=1e-12
    )
    assert math.isnan(variance_curve(delta[:3], np.array([4]))[0])
    assert lags_for(100).tolist() == [1, 2, 4, 8, 16]


def test_skill_and_errors_on_hand_cases(odlyzko):
    data = zero_data(odlyzko[:1200])
    splits = make_splits(1000, 100, 0.1, 3)
    perfect = evaluate_predictions(data.delta, data, splits)
    smooth = evaluate_predictions(np.zeros(1200), data, splits)
    for split in ("extrapolation", "holdout", "validation"):
        assert perfect["errors"][split]["mse_height"] < 1e-20
        assert perfect["errors"][split]["skill"] == pytest.approx(1.0)
        assert smooth["errors"][split]["skill"] == 0.0
    # Twice the true offset: error δ in unfolded units, the same as smooth's → skill ≈ 0;
    # three times: error 2δ → skill ≈ 1 − 4 = −3.
    triple = evaluate_predictions(3 * data.delta, data, splits)
    assert triple["errors"]["holdout"]["skill"] == pytest.approx(-3.0, abs=0.1)
    for window in ("extrapolation", "holdout", "horizon"):
        stats = perfect["spacings"][window]
        assert stats["ks_gue"] == pytest.approx(stats["ks_gue_true"])
    assert smooth["spacings"]["horizon"]["n_spacings"] == 199
    curve = perfect["variance_curves"]["train"]
    np.testing.assert_allclose(curve["pred"], curve["true"])
    assert np.all(np.asarray(smooth["variance_curves"]["train"]["pred"]) == 0)
    assert skill(1.0, 0.0) != skill(1.0, 0.0)  # NaN when undefined
    assert skill(0.5, 2.0) == 0.75


def test_scores_use_the_true_zero_index_of_a_study_that_starts_later(odlyzko):
    """dataset.start = 20,001: node i is zero 20,000 + i. The true δ scores 0 only if every
    height is recovered at its true index; read as zeros 1.. they would be off by thousands
    of mean spacings (issue 19, item 7)."""
    start, N, H = 20_001, 1000, 100
    data = zero_data(odlyzko[start - 1 : start - 1 + N + 4 * H], first_index=start)
    assert data.absolute(np.array([1, 5])).tolist() == [start, start + 4]
    splits = make_splits(N, H, 0.1, 3)
    perfect = evaluate_predictions(data.delta, data, splits)
    for split in ("train", "extrapolation", "holdout"):
        assert perfect["errors"][split]["mse_height"] < 1e-16
    window = score_window(data.delta[1200:1400], data.gammas, data.spacing, 1200, H, start)
    assert window["errors"]["extrapolation"]["rmse_spacing"] < 1e-8
    assert window["errors"]["holdout"]["skill"] == pytest.approx(1.0)


def test_evaluate_job_refuses_missing_or_corrupt_files(odlyzko, tmp_path):
    from zetalab.zeros.store import aggregate, manifest_path, write_chunk

    total = 300
    chunk = tmp_path / "chunk.npy"
    write_chunk(chunk, odlyzko[:total], 1, {"backend": "file"})
    zeros = tmp_path / f"zeros_{total}.npy"
    aggregate([chunk], zeros, total)
    dataset = {"N": 200, "horizon": 50, "validation_fraction": 0.1, "split_seed": 0}
    out = tmp_path / "evaluation.json"
    with pytest.raises(ZetalabError, match=r"missing\.npz does not exist"):
        evaluate_job(tmp_path / "missing.npz", zeros, dataset, out)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz at all")
    with pytest.raises(ZetalabError, match=r"bad\.npz is damaged"):
        evaluate_job(bad, zeros, dataset, out)
    short = tmp_path / "short.npz"
    save_predictions(short, np.arange(1, 101), np.zeros(100), "x", "model")
    with pytest.raises(ZetalabError, match=r"does not cover nodes 1\.\.300"):
        evaluate_job(short, zeros, dataset, out)
    good = tmp_path / "good.npz"
    save_predictions(good, np.arange(1, 301), np.zeros(300), "smooth", "baseline")
    with pytest.raises(ZetalabError, match="does not exist"):
        evaluate_job(good, tmp_path / "zeros_999.npy", dataset, out)
    corrupt = tmp_path / "corrupt" / f"zeros_{total}.npy"
    corrupt.parent.mkdir()
    corrupt.write_bytes(zeros.read_bytes()[:-8])
    manifest_path(corrupt).write_bytes(manifest_path(zeros).read_bytes())
    with pytest.raises(ZetalabError, match="sha256 does not match"):
        evaluate_job(good, corrupt, dataset, out)
    assert not out.exists()
    result = evaluate_job(good, zeros, dataset, out)
    assert out.exists() and result["errors"]["holdout"]["skill"] == 0.0
