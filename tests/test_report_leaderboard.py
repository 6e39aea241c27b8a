"""Leaderboard table and its generated summary: sorting, diverged rows, honest statements."""

import math

from zetalab.evaluation.leaderboard import build_table, summary_lines, to_html, to_markdown


def _row(name, kind, seed, extrap, hold, status="completed"):
    return {
        "name": name,
        "kind": kind,
        "seed": seed,
        "N": 1000,
        "status": status,
        "extrapolation_mse_height": extrap,
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
    assert lines[0].startswith("No GNN variant beats prime_sum on the holdout")
    assert any("in 0 of 2 seed(s)" in line for line in lines)
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
    assert lines[0].startswith("A GNN variant beats prime_sum on the holdout")
    assert any("in 2 of 2 seed(s)" in line for line in lines)
    assert summary_lines(build_table([_row("smooth", "baseline", None, 0.1, 0.1)]))[0].startswith(
        "No training runs"
    )
