"""The objective of SPEC §5 on one hand-made batch: what each prior sees and what the total
sums. Small known values, no training; each test fails when the science it guards breaks
(issue 19: the blend taken the wrong way round, a loss term dropped from the total, pairs
touching a validation node kept in the priors)."""

import math

import numpy as np
import pytest
import torch

from zetalab.learning.losses import gue_mmd
from zetalab.learning.objective import LOSS_TERMS, Objective

LOSS = {
    "w_mse": 1.0,
    "w_nll": 0.02,
    "w_mmd": 0.05,
    "w_rg": 0.1,
    "mmd_reference_size": 64,
    "mmd_seed": 0,
    "mmd_bandwidths": [0.1, 0.5],
    "mmd_max_samples": 256,
}

WEIGHTS = ("w_mse", "w_nll", "w_mmd", "w_rg")  # in LOSS_TERMS order

# Eight train nodes in a row: observed 0, 1, 4, 7; hidden (mse targets) 2, 3, 6; node 5 is a
# validation node, neither observed nor hidden: no loss trains its output.
OBSERVED = torch.tensor([1, 1, 0, 0, 1, 0, 0, 1], dtype=torch.bool)
HIDDEN = torch.tensor([0, 0, 1, 1, 0, 0, 1, 0], dtype=torch.bool)
DELTA = torch.tensor([0.1, -0.2, 0.3, 0.0, 0.2, -0.1, 0.15, 0.05], dtype=torch.float64)
# Raw outputs: off by 0.5 at observed nodes (unconstrained there), wild at the validation node.
PRED = torch.tensor([0.6, 0.3, 0.25, 0.1, 0.7, 3.0, 0.2, 0.55], dtype=torch.float64)
# x̃: the true δ where observed, the prediction where hidden.
X_TILDE = [0.1, -0.2, 0.25, 0.1, 0.2, None, 0.2, 0.05]


def _objective(**weights: float) -> Objective:
    return Objective({**LOSS, **weights}, [1, 2], np.zeros(2), 0, torch.device("cpu"))


def _terms(objective: Objective) -> dict[str, torch.Tensor]:
    return objective.terms(PRED, DELTA, OBSERVED, HIDDEN, torch.arange(7), train_length=8)


def _neg_log_wigner(s: float) -> float:
    return -(math.log(32 / math.pi**2) + 2 * math.log(s) - 4 * s * s / math.pi)


def test_priors_see_truth_where_observed_and_predictions_where_hidden():
    """Pairs with a hidden end and no validation end: (1,2), (2,3), (3,4), (6,7). Not (0,1)
    (two observed, a constant), (4,5) or (5,6) (the validation node)."""
    x = X_TILDE
    spacings = [1 + x[i + 1] - x[i] for i in (1, 2, 3, 6)]
    assert spacings == pytest.approx([1.45, 0.85, 1.1, 0.85])
    terms = _terms(_objective())
    assert terms["mse"].item() == pytest.approx((0.05**2 + 0.1**2 + 0.05**2) / 3)
    nll = sum(_neg_log_wigner(s) for s in spacings) / 4
    assert terms["gue_nll"].item() == pytest.approx(nll, rel=1e-12)
    objective = _objective()
    mmd = gue_mmd(
        torch.tensor(spacings, dtype=torch.float64),
        objective.reference,
        LOSS["mmd_bandwidths"],
        LOSS["mmd_max_samples"],
    )
    assert terms["gue_mmd"].item() == pytest.approx(mmd.item(), rel=1e-6)


def test_rg_penalty_sees_the_same_pairs_at_every_lag():
    """Lag 1: the four prior pairs; lag 2: (0,2), (1,3), (2,4), (4,6), not (3,5) or (5,7)."""
    x = X_TILDE
    lag1 = [x[i + 1] - x[i] for i in (1, 2, 3, 6)]
    lag2 = [x[i + 2] - x[i] for i in (0, 1, 2, 4)]
    expected = (math.log(np.var(lag1)) ** 2 + math.log(np.var(lag2)) ** 2) / 2  # log v_obs = 0
    assert _terms(_objective())["rg_penalty"].item() == pytest.approx(expected, rel=1e-9)


def test_total_is_the_weighted_sum_of_all_four_terms():
    """Terms 1, 10, 100, 1000 with the default weights: dropping any one changes the total."""
    terms = {
        name: torch.tensor(value, dtype=torch.float64)
        for name, value in zip(LOSS_TERMS, (1.0, 10.0, 100.0, 1000.0), strict=True)
    }
    assert _objective().total(terms).item() == pytest.approx(1.0 + 0.2 + 5.0 + 100.0)
    for name, weight in zip(LOSS_TERMS, WEIGHTS, strict=True):
        without = _objective(**{weight: 0.0}).total(terms).item()
        assert without == pytest.approx(106.2 - LOSS[weight] * terms[name].item()), name
    # A batch without the global term (mini-batch) sums the other three.
    local = {k: v for k, v in terms.items() if k != "rg_penalty"}
    assert _objective().total(local).item() == pytest.approx(6.2)
    # The total of a real batch is the same weighted sum of its terms.
    real = _terms(_objective())
    by_hand = sum(LOSS[w] * real[t] for t, w in zip(LOSS_TERMS, WEIGHTS, strict=True))
    assert _objective().total(real).item() == pytest.approx(by_hand.item(), rel=1e-12)
