"""One explicit-formula selection for every predictor, and baseline grids searched to their
own optimum (issue 19, items 2 and 3): the sums behind it, the grid search, the selection file,
and the equal information it carries to prime_sum, the feature learners and the GNN runs."""

import json
import math

import numpy as np
import pytest
from conftest import TINY_CONFIG

from zetalab.config import load_config
from zetalab.errors import ZetalabError
from zetalab.evaluation.baselines import check_baseline_settings
from zetalab.evaluation.explicit_selection import explicit_formula_job
from zetalab.evaluation.grid_search import Axis, extended_search
from zetalab.evaluation.jobs import baseline_job
from zetalab.learning import explicit
from zetalab.learning.dataset import zero_data
from zetalab.learning.explicit import (
    EstimateTable,
    estimate_at,
    explicit_formula_series,
    first_primes,
    load_estimate_table,
    save_estimate_table,
    solve_positions,
)
from zetalab.learning.features import feature_spec, spec_static_features
from zetalab.learning.records import RunPaths
from zetalab.learning.run import train_run
from zetalab.learning.runconfig import resolve_run_config

# --------------------------------------------------------------------------- the sums


def test_the_sieve_gives_the_known_prime_counts():
    """π(10^6) = 78,498 and the 10^6-th prime is 15,485,863 (tables of primes)."""
    assert len(explicit.primes_below(10**6)) == 78_498
    assert first_primes(10**6, "test")[-1] == 15_485_863
    assert first_primes(5, "test").tolist() == [2, 3, 5, 7, 11]
    with pytest.raises(ZetalabError, match="the limit is 10,000,000"):
        first_primes(10_000_001, "model.estimate.num_primes")


def test_the_nufft_agrees_with_the_direct_sum(monkeypatch):
    """The type-3 NUFFT path and the direct sum give D and D' to 1e-9 (the value of 2,000
    primes at 500 heights near 10^4, fitted sine and cosine amplitudes both non-zero)."""
    rng = np.random.default_rng(0)
    base = explicit_formula_series(2000, True, 0.5)
    series = explicit.WaveSeries(
        base.freqs, base.sin_coef, rng.normal(scale=0.01, size=len(base.freqs)), 0.25
    )
    t = np.sort(rng.uniform(9000.0, 10000.0, 500))
    monkeypatch.setattr(explicit, "DIRECT_PAIRS", 10**12)
    direct = series.value_and_slope(t)
    monkeypatch.setattr(explicit, "DIRECT_PAIRS", 0)
    fast = series.value_and_slope(t)
    np.testing.assert_allclose(fast[0], direct[0], atol=1e-9)
    np.testing.assert_allclose(fast[1], direct[1], atol=1e-7)


def test_the_bracketing_fallback_finds_newtons_solutions():
    """With one Newton step every node is handed to the grid scan and regula falsi: each
    returned δ̂ solves F = 0 and is the one Newton reaches from t₀."""
    series = explicit_formula_series(300, True, 0.5)
    indices = np.arange(2000, 2300)
    newton, info = solve_positions(series, indices, iterations=30)
    bracketed, rescue = solve_positions(series, indices, iterations=1)
    assert info["solver_rescued_by_bracketing"] == 0
    assert rescue["solver_rescued_by_bracketing"] > 250 and rescue["solver_unconverged"] == 0
    np.testing.assert_allclose(bracketed, newton, atol=1e-8)


def test_the_bracketing_picks_the_upward_crossing_nearest_the_smooth_position():
    """A single strong wave makes F(x) = x − (n − ½) − D(t(x)) cross zero upwards several times
    within ±3; the fallback returns the crossing nearest δ = 0, as a fine scan finds it."""
    series = explicit.WaveSeries(np.array([3.0]), np.array([2.0]), np.zeros(1))
    base = np.arange(1000, 1040) - 0.5
    found = explicit._bracketed_roots(series, base)
    grid = np.linspace(-3, 3, 60001)
    for b, delta in zip(base, found, strict=True):
        f = explicit._residual(series, np.full(len(grid), b), grid)[0]
        ups = grid[:-1][(f[:-1] < 0) & (f[1:] >= 0)]
        assert len(ups) >= 2
        assert delta == pytest.approx(ups[np.argmin(np.abs(ups))], abs=1e-3)


# --------------------------------------------------------------------------- the grid search


def _bowl(center: dict[str, float]):
    return lambda c: sum((math.log(c[k] + 1e-9) - math.log(v)) ** 2 for k, v in center.items())


def test_a_winning_end_value_is_extended_until_it_lies_inside():
    primes = Axis("p", (10, 30), 3.0, 1.0, 1.0, 10**6, integer=True)
    taper = Axis("k", (0.25, 0.5), 2.0, 0.0, 1 / 32)
    found = extended_search([primes, taper], _bowl({"p": 2000, "k": 2.0}))
    assert found.best == {"p": 2430, "k": 2.0}
    assert found.grids["p"][-1] > 2430 and found.grids["k"][-1] > 2.0
    assert found.at_grid_edge == {"p": False, "k": False}


def test_a_domain_bound_is_not_an_edge_and_a_cost_cap_is():
    ridge = Axis("r", (1e-4, 1e-2), 10.0, 0.0, 1e-10)
    found = extended_search([ridge], lambda c: c["r"])  # smaller is always better
    assert found.best == {"r": 0.0} and found.at_grid_edge == {"r": False}
    capped = Axis("p", (10, 100), 3.0, 1.0, 1.0, 500, integer=True)
    found = extended_search([capped], lambda c: -c["p"])  # larger is always better
    assert found.best == {"p": 500} and found.at_grid_edge == {"p": True}
    domain = Axis("p", (10, 100), 3.0, 1.0, 1.0, 500, high_is_domain=True, integer=True)
    assert extended_search([domain], lambda c: -c["p"]).at_grid_edge == {"p": False}


def test_a_cost_cap_below_the_grid_is_a_config_error_before_any_job(tmp_path):
    config = load_config(overrides={"baselines": {"prime_sum": {"max_num_primes": 500}}})
    with pytest.raises(ZetalabError, match=r"grid value 1000 lies above the cap 500"):
        check_baseline_settings(config)
    from conftest import run_snakemake, tiny_config

    bad = tiny_config(
        {"baselines": {"prime_sum": {"num_primes": [30, 300], "max_num_primes": 100}}}
    )
    (tmp_path / "bad.yaml").write_text(json.dumps(bad))
    proc = run_snakemake(tmp_path, "--configfile", str(tmp_path / "bad.yaml"), "-n", check=False)
    assert proc.returncode != 0 and "lies above the cap 100" in proc.stderr + proc.stdout


# --------------------------------------------------------------------------- one selection

N, H = 600, 20
DATASET = {"N": N, "horizon": H, "validation_fraction": 0.1, "split_seed": 0}
PRIME_SUM = {"num_primes": [30, 100], "max_num_primes": 300, "taper": [0.25, 0.5]}
MODEL = {"wave_primes": 8, "hidden": 8, "layers": 2, "estimate": "prime_sum"}


@pytest.fixture(scope="module")
def selection(odlyzko, tmp_path_factory):
    """The explicit_formula job on zeros 1..N+2H, and the zeros' aggregate it read."""
    from zetalab.zeros.store import aggregate, write_chunk

    root = tmp_path_factory.mktemp("selection")
    write_chunk(root / "chunk.npy", odlyzko[: N + 2 * H], 1, {"backend": "file"})
    zeros = root / f"zeros_{N + 2 * H}.npy"
    aggregate([root / "chunk.npy"], zeros, N + 2 * H)
    record = explicit_formula_job(
        DATASET, PRIME_SUM, {"windows": 1}, [zeros], root / "estimate.npz", root / "sel.json"
    )
    return root, zeros, record


def test_the_selection_file_holds_the_choice_and_its_values(selection, odlyzko):
    root, _, record = selection
    table, stored = load_estimate_table(root / "estimate.npz")
    assert stored == json.loads((root / "sel.json").read_text())
    assert (table.num_primes, table.taper) == (record["num_primes"], record["taper"])
    assert table.indices.tolist() == list(range(1, N + 2 * H + 1))
    values, _ = estimate_at(table.indices, table.num_primes, table.taper, True, "predicted")
    np.testing.assert_array_equal(table.values, values)
    # Chosen on the extrapolation window: the lowest score of everything it tried.
    best = min(record["selection"], key=lambda row: row["extrapolation_rmse_spacing"])
    assert (best["num_primes"], best["taper"]) == (table.num_primes, table.taper)
    assert set(record["at_grid_edge"]) == {"num_primes", "taper"}


def test_prime_sum_and_every_learner_get_the_same_setting_and_numbers(selection, tmp_path):
    root, zeros, _ = selection
    table, _ = load_estimate_table(root / "estimate.npz")
    graph = {"primes": [2, 3, 5]}
    info = baseline_job(
        "prime_sum",
        zeros,
        DATASET,
        {"prime_sum": PRIME_SUM},
        tmp_path / "p.npz",
        tmp_path / "p.json",
        estimate_path=root / "estimate.npz",
    )
    assert (info["num_primes"], info["taper"]) == (table.num_primes, table.taper)
    pred = np.load(tmp_path / "p.npz")["delta_pred"]
    np.testing.assert_array_equal(pred, table.values)
    # The learners' column: exactly those values.
    spec = feature_spec(MODEL, graph["primes"], table)
    data = zero_data(_heights(zeros))
    static = spec_static_features(data.smooth_heights, spec)
    np.testing.assert_allclose(static[:, spec.estimate_column - 2], table.values, rtol=1e-6)
    lin = baseline_job(
        "linear",
        zeros,
        DATASET,
        {"linear": {"ridge": [1e-4]}},
        tmp_path / "l.npz",
        tmp_path / "l.json",
        MODEL,
        graph,
        estimate_path=root / "estimate.npz",
    )
    assert lin["residual_on_estimate"] is True
    # A GNN run records the selection's setting as its model.estimate.
    config = resolve_run_config(
        load_config(TINY_CONFIG),
        {
            "dataset": {"N": N, "horizon": H},
            "model": {"hidden": 8},
            "train": {"max_epochs": 1, "patience": None},
        },
        "fullbatch",
    )
    d = tmp_path / "run"
    metrics = train_run(
        config, data, 0, "t", RunPaths(d / "m.json", d / "h.csv", d / "p.npz"), estimate=table
    )
    assert metrics["config"]["model"]["estimate"] == {
        "source": "prime_sum",
        "num_primes": table.num_primes,
        "taper": table.taper,
    }


def _heights(zeros):
    from zetalab.zeros.store import load_zeros

    stored, _ = load_zeros(zeros)
    return stored.heights(0, len(stored))


def test_a_run_without_the_selection_is_refused(odlyzko, tmp_path):
    config = resolve_run_config(
        load_config(TINY_CONFIG), {"model": {"estimate": "prime_sum"}}, "fullbatch"
    )
    with pytest.raises(ZetalabError, match="no explicit-formula selection was given"):
        train_run(
            config,
            zero_data(odlyzko[:400]),
            0,
            "t",
            RunPaths(tmp_path / "m.json", tmp_path / "h.csv", tmp_path / "p.npz"),
        )
    assert not (tmp_path / "m.json").exists()


def test_prime_sum_and_the_features_read_the_file_not_a_new_selection(selection, tmp_path):
    """A selection file whose values no formula would give (a constant): prime_sum predicts
    them and the learners' column holds them, so nothing recomputes or re-selects."""
    root, zeros, _ = selection
    table, record = load_estimate_table(root / "estimate.npz")
    marked = EstimateTable(table.num_primes, table.taper, True, "predicted", table.indices,
                           np.full(len(table.indices), 0.123))  # fmt: skip
    save_estimate_table(tmp_path / "marked.npz", marked, record)
    baseline_job("prime_sum", zeros, DATASET, {"prime_sum": PRIME_SUM}, tmp_path / "p.npz",
                 tmp_path / "p.json", estimate_path=tmp_path / "marked.npz")  # fmt: skip
    assert np.all(np.load(tmp_path / "p.npz")["delta_pred"] == 0.123)
    spec = feature_spec(MODEL, [2, 3, 5], marked)
    static = spec_static_features(zero_data(_heights(zeros)).smooth_heights, spec)
    assert np.all(static[:, spec.estimate_column - 2] == np.float32(0.123))


def test_a_damaged_selection_file_names_the_rebuild(tmp_path):
    table = EstimateTable(30, 0.5, True, "predicted", np.arange(1, 11), np.zeros(10))
    path = tmp_path / "estimate.npz"
    save_estimate_table(path, table, {"num_primes": 30})
    loaded, _ = load_estimate_table(path)
    np.testing.assert_array_equal(loaded.values_at(np.array([3, 7])), [0.0, 0.0])
    # An index the table lacks is computed with the same setting.
    assert loaded.values_at(np.array([20]))[0] == pytest.approx(
        estimate_at(np.array([20]), 30, 0.5, True, "predicted")[0][0]
    )
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ZetalabError, match="--forcerun"):
        load_estimate_table(path)
