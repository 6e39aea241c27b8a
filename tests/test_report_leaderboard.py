"""Leaderboard table and its generated summary: sorting, diverged rows, honest statements."""

import math

import pytest

from zetalab.evaluation.leaderboard import build_table, summary_lines, to_html, to_markdown


def _row(name, kind, seed, extrap, hold, status="completed"):
    return {
        "name": name,
        "kind": kind,
        "seed": seed,
        "N": 1000,
        "status": status,
        "extrapolation_mse_height": extrap,
        "extrapolation_rmse_spacing": math.sqrt(extrap) if math.isfinite(extrap) else extrap,
        "holdout_mse_height": hold,
        "holdout_rmse_spacing": math.sqrt(hold) if math.isfinite(hold) else hold,
        "holdout_skill": 1 - hold / 0.1,
    }


def test_rows_sort_by_extrapolation_with_diverged_last():
    df = build_table(
        [
            _row("smooth", "baseline", None, 0.1, 0.1),
            _row("fullbatch", "model", 0, float("nan"), float("nan"), "diverged"),
            _row("prime_sum", "baseline", None, 0.003, 0.004),
            _row("minibatch", "model", 0, 0.05, 0.06),
        ]
    )
    assert df["name"].tolist() == ["prime_sum", "minibatch", "smooth", "fullbatch"]
    assert df.loc[3, "status"] == "diverged"
    md = to_markdown(df, ["x"])
    assert "| fullbatch | model | 0 | 1000 | diverged |" in md
    assert "<td>prime_sum</td>" in to_html(df, ["x"])


def test_summary_says_plainly_that_no_gnn_beats_prime_sum():
    df = build_table(
        [
            _row("prime_sum", "baseline", None, 0.003, 0.004),
            _row("smooth", "baseline", None, 0.1, 0.1),
            _row("fullbatch", "model", 0, 0.09, 0.12),
            _row("fullbatch", "model", 1, 0.08, 0.11),
            _row("minibatch", "model", 0, float("nan"), float("nan"), "diverged"),
        ]
    )
    lines = summary_lines(df)
    assert lines[0] == (
        "No GNN variant beats the strongest baseline, prime_sum, on the extrapolation window; "
        "on the holdout (reported only) none is below it."
    )
    assert lines[1].startswith("Strongest baseline on the extrapolation window: prime_sum")
    assert any("below prime_sum in 0 of 2 seed(s) on extrapolation, 0 on" in x for x in lines)
    assert any("Diverged runs: minibatch seed 0" in line for line in lines)
    assert any("No GNN run has positive skill" in line for line in lines)


def test_summary_reports_a_win_only_when_the_numbers_show_one():
    df = build_table(
        [
            _row("prime_sum", "baseline", None, 0.003, 0.004),
            _row("fullbatch", "model", 0, 0.002, 0.002),
            _row("fullbatch", "model", 1, 0.002, 0.003),
        ]
    )
    lines = summary_lines(df)
    assert lines[0].startswith(
        "GNN variant(s) fullbatch beat the strongest baseline, prime_sum, on the extrapolation"
    )
    assert lines[0].endswith("on the holdout (reported only) fullbatch is below it too.")
    assert any("in 2 of 2 seed(s) on extrapolation, 2 on the holdout" in x for x in lines)
    assert summary_lines(build_table([_row("smooth", "baseline", None, 0.1, 0.1)]))[0].startswith(
        "No training runs"
    )


def test_the_strongest_baseline_is_chosen_on_extrapolation_not_on_the_holdout():
    """prime_sum_fit is best on the holdout, prime_sum on extrapolation: prime_sum leads."""
    df = build_table(
        [
            _row("prime_sum", "baseline", None, 0.002, 0.004),
            _row("prime_sum_fit", "baseline", None, 0.003, 0.001),
            _row("fullbatch", "model", 0, 0.0025, 0.002),
        ]
    )
    lines = summary_lines(df)
    assert lines[0] == (
        "No GNN variant beats the strongest baseline, prime_sum, on the extrapolation window; "
        "on the holdout (reported only) fullbatch is below it too."
    )


def test_graph_adds_column_is_mlp_rmse_minus_model_rmse():
    df = build_table(
        [
            _row("mlp", "baseline", None, 0.04, 0.09),
            _row("fullbatch", "model", 0, 0.01, 0.04),
            _row("smooth", "baseline", None, 0.1, 0.1),
        ]
    ).set_index("name")
    assert df.loc["fullbatch", "graph_adds_holdout_rmse"] == pytest.approx(0.3 - 0.2)
    assert df.loc["fullbatch", "graph_adds_extrapolation_rmse"] == pytest.approx(0.2 - 0.1)
    assert math.isnan(df.loc["mlp", "graph_adds_holdout_rmse"])
    assert math.isnan(df.loc["smooth", "graph_adds_holdout_rmse"])
    lines = summary_lines(df.reset_index())
    assert any("the graph adds +0.1000 mean spacings of holdout RMSE over mlp" in x for x in lines)
