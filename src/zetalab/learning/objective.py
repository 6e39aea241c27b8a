"""The training objective of SPEC §5: which loss terms a batch sees and how they are weighted.

No output is left unconstrained: `mse` trains the hidden train nodes, and the priors (NLL,
MMD, RG) see x̃ = the true δ where observed, the prediction where hidden
(zetalab.learning.losses.blend), over the pairs that involve a prediction and no validation
node (losses.prior_pairs). Raw outputs at observed nodes reach no loss at all.

Kept apart from the loop so the objective can change without touching epochs, batches or
checkpoints. The loop hands over one batch's predictions; this module alone reads the `loss`
section of the run config. `rg_penalty` needs the whole train sequence, so it is taken only
on a batch that is the whole graph (a full-batch run; a mini-batch run has w_rg = 0, which
zetalab.learning.runconfig enforces).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from zetalab.learning.losses import (
    blend,
    gue_mmd,
    gue_nll,
    kernel_mean,
    mse,
    prior_pairs,
    rg_penalty,
    spacings,
    wigner_sample,
)

LOSS_TERMS = ("mse", "gue_nll", "gue_mmd", "rg_penalty")


class Objective:
    """The weighted loss of one run; owns the seeded generator of the MMD subsamples."""

    def __init__(
        self,
        loss: Mapping[str, Any],
        lags: list[int],
        log_v_obs: np.ndarray,
        seed: int,
        device: torch.device,
    ):
        self.cfg = loss
        self.lags = lags
        self.generator = torch.Generator().manual_seed(seed)
        self.reference = torch.as_tensor(
            wigner_sample(loss["mmd_reference_size"], loss["mmd_seed"]),
            dtype=torch.float32,
            device=device,
        )
        self.reference_term = kernel_mean(self.reference, self.reference, loss["mmd_bandwidths"])
        self.log_v_obs = torch.as_tensor(log_v_obs, dtype=torch.float32, device=device)

    def terms(
        self,
        pred: torch.Tensor,
        delta: torch.Tensor,
        observed: torch.Tensor,
        hidden: torch.Tensor,
        pairs: torch.Tensor,
        train_length: int | None,
    ) -> dict[str, torch.Tensor]:
        """Each loss term of one batch (rows aligned: prediction, true δ, observed and hidden
        flags of the batch's nodes; `pairs` its consecutive train pairs). `train_length` = N
        when the batch is the whole graph: its first N rows are the train sequence that the
        global rg_penalty needs."""
        terms: dict[str, torch.Tensor] = {}
        zero = pred.new_zeros(())
        target_pos = torch.nonzero(hidden).squeeze(1)
        terms["mse"] = mse(pred[target_pos], delta[target_pos]) if len(target_pos) else zero
        x_tilde = blend(pred, delta, observed)
        known = observed | hidden
        pairs = prior_pairs(pairs, hidden, known)
        if len(pairs):
            s = spacings(x_tilde, pairs)
            terms["gue_nll"] = gue_nll(s)
            terms["gue_mmd"] = gue_mmd(
                s,
                self.reference,
                self.cfg["mmd_bandwidths"],
                self.cfg["mmd_max_samples"],
                self.generator,
                self.reference_term,
            )
        else:
            terms["gue_nll"] = terms["gue_mmd"] = zero
        if train_length is not None and self.lags:
            n = train_length
            rg = rg_penalty(x_tilde[:n], self.lags, self.log_v_obs, hidden[:n], known[:n])
            # Logged for every full-batch run (the ablation too); differentiated only if used.
            terms["rg_penalty"] = rg if self.cfg["w_rg"] > 0 else rg.detach()
        return terms

    def total(self, terms: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """w_mse·mse + w_nll·gue_nll + w_mmd·gue_mmd (+ w_rg·rg_penalty where it was taken)."""
        w = self.cfg
        total = w["w_mse"] * terms["mse"] + w["w_nll"] * terms["gue_nll"]
        total = total + w["w_mmd"] * terms["gue_mmd"]
        if "rg_penalty" in terms and w["w_rg"] > 0:
            total = total + w["w_rg"] * terms["rg_penalty"]
        return total
