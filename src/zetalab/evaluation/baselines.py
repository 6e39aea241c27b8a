"""Baselines every table shows beside the models (SPEC §6), each at full strength.

- `smooth`: δ̂ = 0, i.e. every zero at its smooth position N0⁻¹(n − ½).
- `ar`: ridge regression of δ_n on δ_{n−1..n−k}, fitted on train, iterated for the multi-step
  forecast over the extrapolation and holdout windows (it cannot do better than `smooth` there
  for long; its one-step-ahead error shows what the past of the sequence alone is worth).
- `prime_sum`: the truncated explicit formula (zetalab.learning.explicit) with a Riesz taper;
  no fitted parameter and no past zero, but its number of primes and its taper exponent are
  chosen from a small grid on the extrapolation window, as the sweeps choose models.
- `prime_sum_fit`: the waves sin(t log m)/√m, cos(t log m)/√m with amplitudes fitted by ridge
  regression on train; its number of primes and ridge chosen on the extrapolation window.
- `linear`, `mlp`: the information-matched learners. They see exactly the GNN's node features
  (zetalab.learning.features.node_features, the trainer's own function) without the graph: a
  ridge regression and PrimeMLP (the GNN with each convolution replaced by a per-node Linear),
  both learning a correction on top of the explicit-formula column when the features have one.
  A node to predict is hidden, as for the GNN, so its own δ and flag columns are 0.

Height at which the waves are evaluated (`height`): γ_n is unknown when predicting, so either
the smooth height t₀ = N0⁻¹(n − ½) (`smooth`), or the predicted height itself (`predicted`,
default; zetalab.learning.explicit.solve_positions), which uses the same primes-only
information and is much more accurate.

What a baseline may see (`observed_view`): the train zeros 1..N for fitting and the
extrapolation window N+1..N+H for its choices, never the holdout. Choices are made by the
extrapolation RMSE in mean spacings and recorded in fit_info.json (`selection`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zetalab.config import load_schema
from zetalab.errors import ZetalabError
from zetalab.evaluation.grid_search import Axis, check_axis, extended_search
from zetalab.evaluation.scoring import prediction_errors
from zetalab.learning.dataset import Splits, ZeroData
from zetalab.learning.explicit import (
    BLOCK,
    MAX_PRIMES,
    WaveSeries,
    explicit_formula_series,
    solve_positions,
    wave_terms,
)
from zetalab.learning.features import FeatureSpec, node_features, spec_static_features

__all__ = [
    "BASELINES",
    "HEIGHTS",
    "WaveSeries",
    "explicit_formula_series",
    "solve_positions",
    "wave_terms",
]


log = logging.getLogger("zetalab.evaluate")

# _TORCH_LATE: torch and torch_geometric are imported inside the two learners that use them
# (`linear`'s features, `mlp`): every evaluate, leaderboard and verdict job imports this module,
# and the import alone costs ~4 s a job (21 evaluate jobs in `make run`).


def _schema_default(section: str, key: str) -> Any:
    """A baselines setting's default from the schema (for settings given as plain dicts)."""
    return load_schema()["properties"]["baselines"]["properties"][section]["properties"][key][
        "default"
    ]


def _schema_enum(*path: str) -> tuple[str, ...]:
    node: Any = load_schema()["properties"]
    for key in path:
        node = node[key]
    return tuple(node["enum"])


# Allowed values come from the schema (config/schema/baselines.schema.yaml).
BASELINES = _schema_enum("baselines", "properties", "names", "items")
HEIGHTS = _schema_enum("baselines", "properties", "prime_sum", "properties", "height")
# The learners on the GNN's node features; mlp-residual is the mlp's residual form
# (zetalab.learning.paths.SEEDED_BASELINES: both forms train every seed).
FEATURE_BASELINES = ("linear", "mlp", "mlp-residual")


@dataclass(frozen=True)
class Observed:
    """What a baseline may use: train zeros 1..N to fit, the extrapolation window to choose."""

    gammas: np.ndarray  # γ_1..γ_N
    delta: np.ndarray  # δ_1..δ_N
    smooth_heights: np.ndarray  # t₀ for nodes 1..total (index-only information)
    fit_mask: np.ndarray  # train nodes whose δ is a fitting target (train minus validation)
    select_gammas: np.ndarray  # γ of the extrapolation window N+1..N+H (choices only)
    select_spacing: np.ndarray  # mean spacing there, to score choices in mean spacings
    first_index: int = 1  # node 1 is zero first_index (dataset.start, a later window)

    @property
    def total(self) -> int:
        return len(self.smooth_heights)

    @property
    def select_indices(self) -> np.ndarray:
        """1-based indices of the extrapolation window."""
        n = len(self.gammas)
        return np.arange(n + 1, n + 1 + len(self.select_gammas))

    def selection_rmse(self, delta_pred_window: np.ndarray) -> float:
        """RMSE in mean spacings of δ̂ on the extrapolation window (the choice criterion)."""
        errs = prediction_errors(
            delta_pred_window,
            self.select_gammas,
            self.select_indices + (self.first_index - 1),
            self.select_spacing,
        )
        return errs["rmse_spacing"]


def observed_view(data: ZeroData, splits: Splits) -> Observed:
    """Cut the data down to train + extrapolation, so holdout values cannot reach a baseline."""
    if len(data.gammas) < splits.total:
        raise ZetalabError(
            f"the zeros cover {len(data.gammas)} nodes but the splits need {splits.total}",
            "compute more zeros or lower dataset.N / dataset.horizon",
        )
    fit_mask = np.ones(splits.N, dtype=bool)
    fit_mask[splits.validation - 1] = False
    ext = splits.extrapolation - 1
    return Observed(
        gammas=data.gammas[: splits.N].copy(),
        delta=data.delta[: splits.N].copy(),
        smooth_heights=data.smooth_heights[: splits.total].copy(),
        fit_mask=fit_mask,
        select_gammas=data.gammas[ext].copy(),
        select_spacing=data.spacing[ext].copy(),
        first_index=data.first_index,
    )


@dataclass
class BaselineResult:
    """δ̂ for nodes 1..total and what the fit produced (written to fit_info.json)."""

    delta_pred: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def _grid(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


# --------------------------------------------------------------------------- prime waves


def wave_design(t: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Columns sin(t log m)/√m, cos(t log m)/√m (SPEC §4's prime waves)."""
    phase = np.outer(np.asarray(t, dtype=np.float64), np.log(m))
    amp = 1.0 / np.sqrt(m)
    return np.concatenate([np.sin(phase) * amp, np.cos(phase) * amp], axis=1)


def wave_normal_equations(
    heights: np.ndarray, targets: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gram matrix and right-hand side of [waves, 1] (accumulated in blocks of rows)."""
    k = 2 * len(m) + 1
    gram = np.zeros((k, k))
    rhs = np.zeros(k)
    for start in range(0, len(heights), BLOCK):
        design = wave_design(heights[start : start + BLOCK], m)
        design = np.concatenate([design, np.ones((len(design), 1))], axis=1)
        gram += design.T @ design
        rhs += design.T @ targets[start : start + BLOCK]
    return gram, rhs


def solve_wave_series(
    gram: np.ndarray, rhs: np.ndarray, m: np.ndarray, rows: int, ridge: float
) -> WaveSeries:
    """Ridge solution (λ = ridge · rows; the intercept is not shrunk) as a WaveSeries."""
    penalty = ridge * rows * np.ones(len(rhs))
    penalty[-1] = 0.0
    coef = np.linalg.solve(gram + np.diag(penalty), rhs)
    amp = 1.0 / np.sqrt(m)
    return WaveSeries(np.log(m), coef[: len(m)] * amp, coef[len(m) : 2 * len(m)] * amp, coef[-1])


def fit_wave_series(
    heights: np.ndarray, targets: np.ndarray, num_primes: int, prime_powers: bool, ridge: float
) -> WaveSeries:
    """Ridge fit of δ on the prime waves."""
    m, _ = wave_terms(num_primes, prime_powers)
    gram, rhs = wave_normal_equations(heights, targets, m)
    return solve_wave_series(gram, rhs, m, len(heights), ridge)


def predict_waves(
    series: WaveSeries,
    smooth_heights: np.ndarray,
    indices: np.ndarray,
    height: str,
    iterations: int,
    first_index: int = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """δ̂ at 1-based node `indices`, at the smooth or at the predicted height (node 1 is zero
    `first_index`: the positions solved for are the true n − ½)."""
    if height == "smooth":
        return series.value(smooth_heights[np.asarray(indices) - 1]), {}
    if height == "predicted":
        return solve_positions(series, np.asarray(indices) + (first_index - 1), iterations)
    raise ZetalabError(
        f"baselines.prime_sum.height = {height!r}", f"use one of: {', '.join(HEIGHTS)}"
    )


def prime_sum_axes(cfg: Mapping[str, Any]) -> list[Axis]:
    """prime_sum's searched settings: num_primes (×3 steps, down to 1, up to the cost cap
    max_num_primes) and the taper κ (halved or doubled; 0, the sharp sum, bounds its domain)."""
    cap = int(cfg.get("max_num_primes", _schema_default("prime_sum", "max_num_primes")))
    axes = [
        Axis("num_primes", tuple(_grid(cfg.get("num_primes", 1000))), 3.0, 1.0, 1.0, float(cap),
             integer=True),
        Axis("taper", tuple(_grid(cfg.get("taper", 0.0))), 2.0, 0.0, 1.0 / 32),
    ]  # fmt: skip
    check_axis(axes[0], "baselines.prime_sum.num_primes (cap max_num_primes)")
    return axes


def select_explicit_formula(observed: Observed, cfg: Mapping[str, Any]) -> dict[str, Any]:
    """prime_sum's (num_primes, taper), chosen once on the selection window with grids
    extended to their optimum: the setting of the baseline and of every learner's column."""
    powers = bool(cfg.get("prime_powers", True))
    height = str(cfg.get("height", "predicted"))
    iterations = int(cfg.get("solver_iterations", 15))

    def score(c: Mapping[str, Any]) -> float:
        series = explicit_formula_series(c["num_primes"], powers, c["taper"])
        window = observed.select_indices
        pred = predict_waves(
            series, observed.smooth_heights, window, height, iterations, observed.first_index
        )[0]
        log.info("prime_sum num_primes=%d taper=%g", c["num_primes"], c["taper"])
        return observed.selection_rmse(pred)

    found = extended_search(prime_sum_axes(cfg), score)
    return {
        **found.best,
        "prime_powers": powers,
        "height": height,
        "at_grid_edge": found.at_grid_edge,
        "grids": found.grids,
        "selection": found.table,
    }


def prime_sum(observed: Observed, cfg: Mapping[str, Any]) -> BaselineResult:
    """The tapered explicit formula, (num_primes, taper) chosen on the extrapolation window."""
    chosen = select_explicit_formula(observed, cfg)
    series = explicit_formula_series(chosen["num_primes"], chosen["prime_powers"], chosen["taper"])
    pred, solver = predict_waves(
        series,
        observed.smooth_heights,
        np.arange(1, observed.total + 1),
        chosen["height"],
        int(cfg.get("solver_iterations", 15)),
        observed.first_index,
    )
    return BaselineResult(pred, {**chosen, "num_waves": len(series.freqs), **solver})


def prime_sum_fit_axes(cfg: Mapping[str, Any], rows: int) -> list[Axis]:
    """prime_sum_fit's searched settings: fit_num_primes (×3 steps up to the cost cap
    fit_max_num_primes, or to the end of its domain, no more amplitudes than fitting rows) and
    fit_ridge (×10 steps; 0 bounds its domain)."""
    cap = int(cfg.get("fit_max_num_primes", _schema_default("prime_sum", "fit_max_num_primes")))
    domain = max(1, (rows - 1) // 2)  # 2 amplitudes a prime (and its powers) plus an intercept
    axes = [
        Axis("num_primes", tuple(_grid(cfg.get("fit_num_primes", 100))), 3.0, 1.0, 1.0,
             float(min(cap, domain)), high_is_domain=domain <= cap, integer=True),
        Axis("fit_ridge", tuple(_grid(cfg.get("fit_ridge", 1e-3))), 10.0, 0.0, 1e-10),
    ]  # fmt: skip
    check_axis(axes[0], "baselines.prime_sum.fit_num_primes (cap fit_max_num_primes)")
    return axes


def prime_sum_fit(observed: Observed, cfg: Mapping[str, Any]) -> BaselineResult:
    """Ridge-fitted wave amplitudes, (fit_num_primes, fit_ridge) chosen on extrapolation."""
    powers = bool(cfg.get("prime_powers", True))
    height = str(cfg.get("height", "predicted"))
    iterations = int(cfg.get("solver_iterations", 15))
    # Fit where the waves will be evaluated: at the true heights of train zeros when
    # predicting at the predicted height, at t₀ otherwise.
    mask = observed.fit_mask
    n_train = len(observed.delta)
    heights = observed.gammas if height == "predicted" else observed.smooth_heights[:n_train]
    heights, targets = heights[mask], observed.delta[mask]
    normal: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def series_for(c: Mapping[str, Any]) -> WaveSeries:
        num = int(c["num_primes"])
        if num not in normal:
            m, _ = wave_terms(num, powers, "baselines.prime_sum.fit_num_primes")
            normal[num] = (m, *wave_normal_equations(heights, targets, m))
        m, gram, rhs = normal[num]
        return solve_wave_series(gram, rhs, m, len(heights), float(c["fit_ridge"]))

    def predict(series: WaveSeries, indices: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        return predict_waves(
            series, observed.smooth_heights, indices, height, iterations, observed.first_index
        )

    found = extended_search(
        prime_sum_fit_axes(cfg, len(heights)),
        lambda c: observed.selection_rmse(predict(series_for(c), observed.select_indices)[0]),
    )
    series = series_for(found.best)
    pred, solver = predict(series, np.arange(1, observed.total + 1))
    info = {
        **found.best,
        "prime_powers": powers,
        "height": height,
        "intercept": float(series.intercept),
        "num_waves": len(series.freqs),
        "at_grid_edge": found.at_grid_edge,
        "grids": found.grids,
        "selection": found.table,
    }
    return BaselineResult(pred, info | solver)


# --------------------------------------------------------------------------- feature learners


@functools.lru_cache(maxsize=2)
def _cached_static(smooth_key: bytes, spec: FeatureSpec) -> np.ndarray:
    return spec_static_features(np.frombuffer(smooth_key, dtype=np.float64), spec)


def hidden_node_features(observed: Observed, spec: FeatureSpec) -> np.ndarray:
    """The GNN's input for every node 1..total with every node hidden (float32, (M, F)).

    Built by node_features, the trainer's function; a graph-free learner has no neighbours,
    so what it may use about a node it predicts is exactly the GNN's row for a hidden node.
    """
    import torch  # here, not at the top: see _TORCH_LATE

    smooth = np.ascontiguousarray(observed.smooth_heights, dtype=np.float64)
    static = torch.from_numpy(_cached_static(smooth.tobytes(), spec))
    delta = torch.zeros(observed.total, dtype=torch.float32)
    delta[: len(observed.delta)] = torch.from_numpy(observed.delta.astype(np.float32))
    hidden = torch.zeros(observed.total, dtype=torch.bool)
    return node_features(delta, hidden, static).numpy()


def _fit_rows(observed: Observed, x: np.ndarray, spec: FeatureSpec) -> tuple[np.ndarray, ...]:
    """Fitting rows (train minus validation), their targets and the base of each node."""
    base = (
        x[:, spec.estimate_column].astype(np.float64)
        if spec.estimate_column is not None
        else np.zeros(len(x))
    )
    rows = np.nonzero(observed.fit_mask)[0]
    return rows, observed.delta[rows] - base[rows], base


def linear(observed: Observed, cfg: Mapping[str, Any], spec: FeatureSpec) -> BaselineResult:
    """Ridge on the GNN's features (+ intercept), ridge chosen on the extrapolation window
    (×100 steps beyond the grid while an end value wins; 0 bounds the domain)."""
    x = hidden_node_features(observed, spec).astype(np.float64)
    rows, target, base = _fit_rows(observed, x, spec)
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    gram = design[rows].T @ design[rows]
    rhs = design[rows].T @ target
    window = observed.select_indices - 1
    coefs: dict[float, np.ndarray] = {}

    def fit(ridge: float) -> np.ndarray:
        if ridge not in coefs:
            penalty = ridge * len(rows) * np.ones(design.shape[1])
            penalty[-1] = 0.0
            # lstsq: the dynamic columns are all zero for hidden rows, so the plain system is
            # singular at ridge 0; lstsq returns its minimum-norm solution.
            coefs[ridge] = np.linalg.lstsq(gram + np.diag(penalty), rhs, rcond=None)[0]
        return coefs[ridge]

    grid = tuple(_grid(cfg.get("ridge", [1e-6, 1e-4, 1e-2])))
    ridge_axis = Axis("ridge", grid, 100.0, 0.0, 1e-12)
    found = extended_search(
        [ridge_axis],
        lambda c: observed.selection_rmse(base[window] + design[window] @ fit(c["ridge"])),
    )
    pred = base + design @ fit(found.best["ridge"])
    info = {
        "ridge": found.best["ridge"],
        "num_features": spec.num_features,
        "residual_on_estimate": spec.estimate_column is not None,
        "at_grid_edge": found.at_grid_edge,
        "grids": found.grids,
        "selection": found.table,
    }
    return BaselineResult(pred, info)


def mlp(
    observed: Observed,
    cfg: Mapping[str, Any],
    spec: FeatureSpec,
    model: Mapping[str, Any],
    seed: int = 0,
    residual: bool = False,
) -> BaselineResult:
    """PrimeMLP on the GNN's features, plain or residual on the estimate column, trained like
    the models: until its extrapolation-window score stops improving (patience), keeping the
    best epoch there, with the learning rate falling on plateaus (zetalab.learning.stopping).

    One torch thread: the matrices are small (256 rows a step), so more threads only spin,
    and a baseline job holds one core."""
    import torch  # see _TORCH_LATE

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _mlp(observed, cfg, spec, model, seed, residual)
    finally:
        torch.set_num_threads(threads)


# The mlp's schedule and improvement threshold: the models' defaults (config/schema/train).
MLP_SCHEDULE = {"schedule": "plateau", "lr_factor": 0.5, "lr_patience": 10, "min_delta": 1e-3,
                "lr_min": 1e-5}  # fmt: skip


def _mlp(
    observed: Observed,
    cfg: Mapping[str, Any],
    spec: FeatureSpec,
    model: Mapping[str, Any],
    seed: int,
    residual: bool,
) -> BaselineResult:
    import torch  # see _TORCH_LATE

    from zetalab.learning.models import PrimeMLP
    from zetalab.learning.stopping import (
        MAX_EPOCHS,
        PATIENCE,
        BestEpoch,
        convergence_record,
        make_scheduler,
        step_scheduler,
    )

    if residual and spec.estimate_column is None:
        raise ZetalabError(
            "the mlp-residual baseline needs the explicit-formula column, which is switched off",
            "set model.estimate: prime_sum (the default)",
        )
    x_all = torch.from_numpy(hidden_node_features(observed, spec))
    rows, _, _ = _fit_rows(observed, x_all.numpy(), spec)
    torch.manual_seed(seed)
    net = PrimeMLP(
        x_all.shape[1],
        hidden=int(model.get("hidden", 64)),
        layers=int(model.get("layers", 3)),
        base_column=spec.estimate_column if residual else None,
    )
    lr, batch = float(cfg.get("lr", 1e-3)), int(cfg.get("batch_size", 256))
    max_epochs, patience = int(cfg.get("max_epochs", 300)), int(cfg.get("patience", 20))
    schedule = {**MLP_SCHEDULE, "max_epochs": max_epochs}
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    scheduler = make_scheduler(opt, schedule)
    gen = torch.Generator().manual_seed(seed)
    x_fit = x_all[rows]
    y_fit = torch.from_numpy(observed.delta[rows].astype(np.float32))
    window = torch.as_tensor(observed.select_indices - 1)
    best, curve = BestEpoch(), []
    while len(curve) < max_epochs and not best.exhausted(patience):
        net.train()
        for idx in torch.randperm(len(rows), generator=gen).split(batch):
            loss = torch.mean((net(x_fit[idx]) - y_fit[idx]) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            rmse = observed.selection_rmse(net(x_all[window]).double().numpy())
        curve.append(rmse)
        best.update(len(curve), rmse, net, schedule["min_delta"])
        step_scheduler(scheduler, rmse)
    if best.weights is None:
        raise ZetalabError(
            "the mlp baseline's extrapolation error is not finite at any epoch",
            "lower baselines.mlp.lr",
        )
    net.load_state_dict(best.weights)
    with torch.no_grad():
        pred = net(x_all).double().numpy()
    stop = PATIENCE if best.exhausted(patience) else MAX_EPOCHS
    info = {
        **convergence_record(best, len(curve), stop, patience),
        "max_epochs": max_epochs,
        "lr": lr,
        "batch_size": batch,
        "seed": seed,
        "residual_on_estimate": residual,
        "num_features": spec.num_features,
        "selection": [
            {"epoch": e, "extrapolation_rmse_spacing": r} for e, r in enumerate(curve, 1)
        ],
    }
    return BaselineResult(pred, info)


# --------------------------------------------------------------------------- autoregression


@dataclass(frozen=True)
class ARModel:
    """δ_n ≈ Σ_j c_j δ_{n−j} + c_0."""

    coef: np.ndarray  # c_1..c_k
    intercept: float

    @property
    def order(self) -> int:
        return len(self.coef)


def lag_matrix(delta: np.ndarray, targets: np.ndarray, order: int) -> np.ndarray:
    """Rows [δ_{n−1}, …, δ_{n−k}] for 0-based target positions (each ≥ order)."""
    return np.stack([delta[targets - j] for j in range(1, order + 1)], axis=1)


def fit_ar(delta: np.ndarray, fit_mask: np.ndarray, order: int, ridge: float) -> ARModel:
    """Ridge AR(k) on the targets allowed by fit_mask (lags may be any observed value)."""
    if order < 1 or len(delta) <= 2 * order:
        raise ZetalabError(
            f"baselines.ar.order = {order} needs more than {2 * order} train zeros "
            f"(have {len(delta)})",
            "lower baselines.ar.order or raise dataset.N",
        )
    targets = np.nonzero(fit_mask)[0]
    targets = targets[targets >= order]
    design = lag_matrix(delta, targets, order)
    design = np.concatenate([design, np.ones((len(targets), 1))], axis=1)
    penalty = ridge * len(targets) * np.ones(order + 1)
    penalty[-1] = 0.0
    coef = np.linalg.solve(design.T @ design + np.diag(penalty), design.T @ delta[targets])
    return ARModel(coef[:-1], float(coef[-1]))


def ar_one_step(model: ARModel, delta: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """One-step-ahead predictions at 0-based positions from the true lagged values."""
    positions = np.asarray(positions)
    return lag_matrix(delta, positions, model.order) @ model.coef + model.intercept


def ar_forecast(model: ARModel, history: np.ndarray, steps: int) -> np.ndarray:
    """Iterated multi-step forecast after the end of `history`, each output fed back as input."""
    buf = list(np.asarray(history[-model.order :], dtype=np.float64))
    out = np.empty(steps)
    for i in range(steps):
        value = float(np.dot(model.coef, buf[::-1][: model.order]) + model.intercept)
        out[i] = value
        buf.append(value)
        buf.pop(0)
    return out


def ar_history_forecast(info: Mapping[str, Any], steps: int) -> Callable[[np.ndarray], np.ndarray]:
    """The fitted `ar` (from its result info) as history -> the next `steps` δ̂: how a rolling
    window conditions it on that window's own past without refitting it."""
    fitted = ARModel(np.asarray(info["coef"], dtype=np.float64), float(info["intercept"]))
    return lambda history: ar_forecast(fitted, history, steps)


# --------------------------------------------------------------------------- dispatcher


def check_baseline_settings(config: Mapping[str, Any]) -> None:
    """Parse-time checks a schema cannot make: each searched grid below its cost cap."""
    cfg = config["baselines"]["prime_sum"]
    prime_sum_axes(cfg)
    prime_sum_fit_axes(cfg, rows=2 * MAX_PRIMES + 1)  # the cap alone, whatever N is


def run_baseline(
    name: str,
    observed: Observed,
    params: Mapping[str, Any],
    features: FeatureSpec | None = None,
    model: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> BaselineResult:
    """Fit (if needed) and predict δ̂ for every node 1..total with baseline `name`.

    `features` (and `model`, for the mlp's width and depth) are the GNN's feature spec and
    model section, needed by `linear`, `mlp` and `mlp-residual` only; `seed` seeds the mlps.
    """
    total, n_train = observed.total, len(observed.delta)
    if name == "smooth":
        return BaselineResult(np.zeros(total), {})
    if name == "ar":
        cfg = params.get("ar", {})
        order, ridge = int(cfg.get("order", 20)), float(cfg.get("ridge", 1e-6))
        ar_model = fit_ar(observed.delta, observed.fit_mask, order, ridge)
        pred = np.zeros(total)
        pred[order:n_train] = ar_one_step(ar_model, observed.delta, np.arange(order, n_train))
        pred[n_train:] = ar_forecast(ar_model, observed.delta, total - n_train)
        val = np.nonzero(~observed.fit_mask)[0]
        val = val[val >= order]
        one_step = pred[val] - observed.delta[val]
        info = {
            "order": order,
            "ridge": ridge,
            "coef": ar_model.coef.tolist(),
            "intercept": ar_model.intercept,
            "one_step_rmse_delta_validation": float(np.sqrt(np.mean(one_step**2)))
            if len(val)
            else None,
            "train_predictions": "one step ahead from the observed lags (0 for n ≤ order)",
            "horizon_predictions": "iterated from the last observed zeros, never from horizon",
        }
        return BaselineResult(pred, info)
    if name == "prime_sum":
        return prime_sum(observed, params.get("prime_sum", {}))
    if name == "prime_sum_fit":
        return prime_sum_fit(observed, params.get("prime_sum", {}))
    if name in FEATURE_BASELINES:
        if features is None:
            raise ZetalabError(
                f"baseline {name!r} needs the GNN's feature spec (model and graph sections)",
                "pass features=feature_spec(config['model'], config['graph']['primes'])",
            )
        if name == "linear":
            return linear(observed, params.get("linear", {}), features)
        residual = name == "mlp-residual"
        return mlp(observed, params.get("mlp", {}), features, model or {}, seed, residual)
    raise ZetalabError(
        f"unknown baseline {name!r}", f"use one of: {', '.join((*BASELINES, 'mlp-residual'))}"
    )
