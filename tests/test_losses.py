"""The SPEC §5 loss terms against hand-computed values and their defining invariants."""

import math

import numpy as np
import pytest
import torch

from zetalab.learning.losses import (
    NLL_SMOOTH_FROM,
    blend,
    gue_mmd,
    gue_nll,
    kernel_mean,
    mse,
    neg_log_wigner,
    number_variance,
    prior_pairs,
    rg_lags,
    rg_penalty,
    spacings,
    wigner_sample,
)


def test_wigner_nll_on_given_spacings():
    values = [0.5, 1.0, 2.0]
    s = torch.tensor(values, dtype=torch.float64)
    # log p(s) = log(32/π²) + 2 log s − 4 s²/π, by hand for each spacing.
    by_hand = [math.log(32 / math.pi**2) + 2 * math.log(x) - 4 * x * x / math.pi for x in values]
    assert gue_nll(s).item() == pytest.approx(-sum(by_hand) / 3, rel=1e-12)
    # At s = 1: −log(32/π²) + 4/π = −1.17624... + 1.27324... = 0.09700...
    assert gue_nll(torch.tensor([1.0], dtype=torch.float64)).item() == pytest.approx(
        4 / math.pi - math.log(32 / math.pi**2), rel=1e-12
    )


def test_nll_penalises_non_positive_spacings_smoothly_with_a_gradient():
    """Below s0 = NLL_SMOOTH_FROM −log p is its quadratic Taylor polynomial at s0: continuous
    with value, slope and curvature at s0, growing as s falls, with a gradient pushing s up."""
    s0 = NLL_SMOOTH_FROM

    def exact(x):
        return -(math.log(32 / math.pi**2) + 2 * math.log(x) - 4 * x * x / math.pi)

    at = gue_nll(torch.tensor([s0], dtype=torch.float64)).item()
    assert at == pytest.approx(exact(s0), rel=1e-12)
    eps = 1e-6
    below = gue_nll(torch.tensor([s0 - eps], dtype=torch.float64)).item()
    slope = -2 / s0 + 8 * s0 / math.pi
    assert below == pytest.approx(exact(s0) - eps * slope, rel=1e-9)
    s = torch.tensor([-3.0, -1.0, 0.0, 0.02], dtype=torch.float64, requires_grad=True)
    values = neg_log_wigner(s)
    assert torch.all(torch.isfinite(values))
    assert torch.all(values[:-1] > values[1:])  # the further below, the larger the penalty
    gue_nll(s).backward()
    assert torch.all(s.grad < 0)  # descending the loss raises every spacing; a clamp gives 0


def test_priors_see_observed_truth_and_hidden_predictions():
    delta = torch.tensor([0.1, -0.2, 0.3, 0.0, 0.2])
    pred = torch.tensor([9.0, 9.0, 0.5, 9.0, 9.0])
    observed = torch.tensor([True, True, False, True, False])
    hidden = torch.tensor([False, False, True, False, False])  # node 4: validation
    x = blend(pred, delta, observed)
    assert x.tolist() == pytest.approx([0.1, -0.2, 0.5, 0.0, 9.0])
    # Pairs (0,1): both observed, a constant; (1,2), (2,3): a prediction; (3,4): validation.
    kept = prior_pairs(torch.arange(4), hidden, observed | hidden)
    assert kept.tolist() == [1, 2]
    assert spacings(x, kept).tolist() == pytest.approx([1.7, 0.5])


def test_pairs_touching_a_validation_node_never_reach_a_prior():
    """A validation node next to a hidden one: the pair has a prediction but also an output
    no loss trains, so prior_pairs and rg_penalty leave it out (issue 19, item 7)."""
    hidden = torch.tensor([False, True, False, True, False])
    known = torch.tensor([True, True, False, True, True])  # node 2: validation
    assert prior_pairs(torch.arange(4), hidden, known).tolist() == [0, 3]
    x = torch.tensor([0.0, 1.0, 50.0, 2.0, 1.0], dtype=torch.float64)
    # L = 1: pairs (0,1), (3,4) → differences 1, −1 → v = 1 → penalty 0 against log v_obs = 0;
    # (1,2) and (2,3) would add ±49 and ±48.
    assert rg_penalty(x, [1], torch.zeros(1, dtype=torch.float64), hidden, known).item() == 0.0


def test_rg_penalty_uses_the_pairs_that_involve_a_prediction():
    x = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 5.0], dtype=torch.float64)
    hidden = torch.tensor([False, True, False, False, False, False])
    known = torch.tensor([True, True, True, True, True, False])
    # L = 1: pairs (0,1), (1,2) → differences 1, −1 → v = 1; L = 2: (1,3) → 1 pair, skipped.
    log_v = torch.tensor([0.0, 0.0], dtype=torch.float64)
    assert rg_penalty(x, [1, 2], log_v, hidden, known).item() == pytest.approx(0.0)
    log_v = torch.tensor([math.log(2.0), 0.0], dtype=torch.float64)
    assert rg_penalty(x, [1, 2], log_v, hidden, known).item() == pytest.approx(math.log(2) ** 2)


def test_spacings_and_mse():
    delta = torch.tensor([0.0, 0.1, -0.2, 0.3])
    s = spacings(delta, torch.tensor([0, 1, 2]))
    assert torch.allclose(s, torch.tensor([1.1, 0.7, 1.5]))
    assert mse(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0])).item() == pytest.approx(2.5)


def test_wigner_sample_has_the_surmise_moments():
    s = wigner_sample(200_000, seed=3)
    assert s.min() >= 0
    assert s.mean() == pytest.approx(1.0, abs=0.01)  # the surmise has unit mean
    assert (s**2).mean() == pytest.approx(3 * math.pi / 8, abs=0.01)  # E s² = 3π/8
    assert np.array_equal(s[:10], wigner_sample(200_000, seed=3)[:10])


def test_mmd_zero_for_identical_and_positive_otherwise():
    ref = torch.tensor(wigner_sample(300, seed=0))
    bw = [0.05, 0.1, 0.2, 0.5]
    assert gue_mmd(ref.clone(), ref, bw, 1000).item() == pytest.approx(0.0, abs=1e-12)
    other = torch.tensor(wigner_sample(300, seed=1))
    poisson = torch.tensor(np.random.default_rng(0).exponential(size=300))
    d_gue = gue_mmd(other, ref, bw, 1000).item()
    d_poisson = gue_mmd(poisson, ref, bw, 1000).item()
    assert d_gue > 0 and d_poisson > 0
    assert d_poisson > 5 * d_gue  # a different law is much farther than a resample
    # Hand value for one point each and one bandwidth h: 1 + 1 − 2 exp(−d²/2h²).
    one = gue_mmd(torch.tensor([1.0]), torch.tensor([1.5]), [0.5], 10).item()
    assert one == pytest.approx(2 - 2 * math.exp(-0.25 / 0.5), rel=1e-6)


def test_mmd_subsamples_large_inputs():
    s = torch.tensor(wigner_sample(100_000, seed=2), requires_grad=True)
    ref = torch.tensor(wigner_sample(256, seed=0))
    gen = torch.Generator().manual_seed(0)
    value = gue_mmd(s, ref, [0.1], 512, gen, kernel_mean(ref, ref, [0.1]))
    value.backward()
    assert (s.grad != 0).sum().item() <= 512  # only the subsample takes part


def test_rg_penalty_is_zero_on_the_observed_sequence():
    delta = np.random.default_rng(0).normal(scale=0.3, size=2000)
    lags = rg_lags(64, len(delta))
    assert lags == [1, 2, 4, 8, 16, 32, 64]
    log_v = torch.tensor(np.log(number_variance(delta, lags)))
    pred = torch.tensor(delta)
    assert rg_penalty(pred, lags, log_v).item() == pytest.approx(0.0, abs=1e-20)
    assert rg_penalty(pred * 2, lags, log_v).item() == pytest.approx(math.log(4) ** 2, rel=1e-9)


def test_number_variance_by_hand():
    delta = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
    # L = 1: differences ±1 → variance 1; L = 2: differences 0 → variance 0.
    assert number_variance(delta, [1, 2]).tolist() == [1.0, 0.0]
    valid = np.array([True, True, True, False, False])
    assert number_variance(delta, [1], valid).tolist() == [1.0]
