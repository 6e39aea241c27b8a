"""Unfolding against mpmath (an independent implementation of θ) and the Odlyzko table."""

import mpmath
import numpy as np
import pytest

from zetalab.unfold import (
    deltas,
    heights_from_deltas,
    inverse_smooth_count,
    mean_spacing,
    smooth_count,
    theta,
    theta_prime,
)


@pytest.mark.parametrize("t", [14.134725, 100.0, 1e4, 6e5, 4.3e7])
def test_theta_matches_mpmath(t):
    reference = float(mpmath.siegeltheta(t))
    assert abs(float(theta(t)) - reference) <= 1e-15 * abs(reference) + 1e-12
    assert abs(float(theta_prime(t)) - float(mpmath.diff(mpmath.siegeltheta, t))) < 1e-9


def test_inverse_smooth_count_round_trips():
    x = np.concatenate([np.linspace(0.0, 10.0, 101), np.geomspace(10.5, 1e9, 200)])
    t = inverse_smooth_count(x)
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(smooth_count(t), x, rtol=1e-15, atol=1e-9)


def test_inverse_rejects_values_below_the_minimum():
    with pytest.raises(ValueError, match="N0's minimum"):
        inverse_smooth_count(np.array([-1.0]))


def test_deltas_of_true_zeros_are_small_and_invert(odlyzko):
    d = deltas(odlyzko)
    # |S(t)| stays well below 2 at these heights; the mean of S is 0.
    assert np.abs(d).max() < 1.5
    assert abs(d.mean()) < 0.01
    recovered = heights_from_deltas(d, np.arange(1, len(odlyzko) + 1))
    assert np.abs(recovered - odlyzko).max() < 1e-9


def test_mean_spacing_matches_density(odlyzko):
    gaps = np.diff(odlyzko[50000:51000])
    assert gaps.mean() == pytest.approx(float(mean_spacing(odlyzko[50500])), rel=0.02)
