"""One Bayesian round: rebuild the Optuna study from earlier rounds' results and ask for k.

The study lives nowhere but in the result files: every round starts a fresh in-memory study,
adds the earlier trials (parameters from their proposals, objective from their runs) with the
same distributions, and asks a TPE sampler seeded from the sweep's name, round and seed. The
same files therefore give the same proposal, byte for byte, on any rerun.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from zetalab.errors import ZetalabError
from zetalab.sweeps.dotted import get_dotted, nest
from zetalab.sweeps.spec import SweepSpec

# The trial ids of a round, as the trials' `$from` references name them.
ROUND_TRIAL_KEY = "trials"


def sampler_seed(name: str, round_: int, seed: int = 0) -> int:
    """A 32-bit seed that differs per sweep and round but never between reruns."""
    digest = hashlib.sha256(f"{name}/round{round_}/seed{seed}".encode()).hexdigest()
    return int(digest[:8], 16)


def round_trial_ids(spec: SweepSpec) -> list[str]:
    width = max(2, len(str(spec.trials_per_round - 1)))
    return [f"t{i:0{width}d}" for i in range(spec.trials_per_round)]


def rebuild_study(
    spec: SweepSpec, round_: int, prior: Sequence[tuple[Mapping[str, Any], float]]
) -> optuna.Study:
    """A study holding the prior trials (config values, objective), ready to ask round_."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {p.key: p.distribution() for p in spec.space}
    startup = spec.trials_per_round if spec.n_startup_trials is None else spec.n_startup_trials
    sampler = optuna.samplers.TPESampler(
        seed=sampler_seed(spec.name, round_, spec.sampler_seed),
        n_startup_trials=startup,
        multivariate=True,
        constant_liar=True,
    )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for values, objective in prior:
        params = {p.key: p.encode(values[p.key]) for p in spec.space}
        value = objective if math.isfinite(objective) else math.inf
        try:
            frozen = optuna.trial.create_trial(
                params=params, distributions=distributions, value=value
            )
        except ValueError as exc:
            raise ZetalabError(
                f"sweep {spec.name}: an earlier trial {params} does not fit the search space "
                f"({exc})",
                "the sweep file changed after earlier rounds ran; delete "
                f"results/sweeps/{spec.name} to start the sweep afresh",
            ) from None
        study.add_trial(frozen)
    return study


def propose_round(
    spec: SweepSpec, round_: int, prior: Sequence[tuple[Mapping[str, Any], float]]
) -> dict[str, Any]:
    """The proposal file's content: each trial's overrides under trials.<id>."""
    study = rebuild_study(spec, round_, prior)
    distributions = {p.key: p.distribution() for p in spec.space}
    trials: dict[str, Any] = {}
    flat: dict[str, dict[str, Any]] = {}
    for tid in round_trial_ids(spec):
        asked = study.ask(distributions)
        values = {p.key: p.decode(asked.params[p.key]) for p in spec.space}
        trials[tid] = nest(values)
        flat[tid] = values
    finite = [o for _, o in prior if math.isfinite(o)]
    return {
        "sweep": spec.name,
        "round": round_,
        "sampler_seed": sampler_seed(spec.name, round_, spec.sampler_seed),
        "n_prior": len(prior),
        "n_prior_ok": len(finite),
        "best_prior": min(finite) if finite else None,
        "space": {p.key: p.describe() for p in spec.space},
        ROUND_TRIAL_KEY: trials,
        "params": flat,
    }


def proposal_values(proposal: Mapping[str, Any], trial_id: str, keys: Sequence[str]) -> dict:
    """One trial's values from a proposal file, as the trial's references read them."""
    return {k: get_dotted(proposal, f"{ROUND_TRIAL_KEY}.{trial_id}.{k}") for k in keys}
