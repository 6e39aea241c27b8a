"""Leaderboard table and its generated summary: sorting, diverged rows, honest statements."""

import math

import pytest

from zetalab.evaluation.leaderboard import (
    baseline_row,
    build_table,
    run_row,
    summary_lines,
    to_html,
    to_markdown,
)


def _row(name, kind, seed, extrap, hold, status="completed", converged=True):
    """A row as run_row/baseline_row build it; models converged unless told otherwise."""
    return {
        "name": name,
        "kind": kind,
        "seed": seed,
        "N": 1000,
        "status": status,
        "converged": (converged and status == "completed") if kind == "model" else None,
        "stop_reason": ("patience" if converged else "max_epochs")
        if status == "completed"
        else status,
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
    assert "| fullbatch | model | 0 | 1000 | diverged | no (diverged) |" in md
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


def _evaluation(extrap, hold):
    errors = {"mse_height": extrap, "mae_height": extrap, "rmse_spacing": extrap, "skill": 0.5}
    return {
        "N": 1000,
        "horizon": 50,
        "errors": {
            "extrapolation": errors,
            "holdout": {**errors, "mse_height": hold, "rmse_spacing": hold},
            "validation": {"rmse_spacing": 0.1},
        },
        "spacings": {"horizon": {"ks_gue": 0.1, "ks_gue_true": 0.05}},
    }


def test_unconverged_runs_are_marked_and_the_summary_says_what_they_measure():
    """Issue 19: a run that hit train.max_epochs, or whose metrics.json predates the
    convergence keys, is marked; its comparisons measure training speed, not the design."""
    done = {"converged": True, "stop_reason": "patience", "best_epoch": 12, "kept_epoch": 12,
            "epochs_run": 32}  # fmt: skip
    capped = {"converged": False, "stop_reason": "max_epochs", "best_epoch": 80,
              "kept_epoch": 80, "epochs_run": 80}  # fmt: skip
    rows = [
        run_row({"variant": "fullbatch", "seed": 0, "status": "completed", **done},
                _evaluation(0.02, 0.03)),
        run_row({"variant": "fullbatch", "seed": 1, "status": "completed", **capped},
                _evaluation(0.02, 0.03)),
        run_row({"variant": "minibatch", "seed": 0, "status": "completed", "epochs_run": 80},
                _evaluation(0.03, 0.03)),
        baseline_row("prime_sum", {"wall_time_s": 1.0}, _evaluation(0.01, 0.01)),
        baseline_row("mlp", {"converged": False, "stop_reason": "max_epochs", "epochs_run": 20},
                     _evaluation(0.04, 0.04)),
    ]  # fmt: skip
    df = build_table(rows).set_index(["name", "seed"])
    assert df.loc[("fullbatch", 0), "converged"] == True  # noqa: E712 (pandas boolean)
    assert df.loc[("fullbatch", 1), "converged"] == False  # noqa: E712
    assert df.loc[("minibatch", 0), "converged"] == False  # noqa: E712 (not recorded)
    assert (
        df.loc[("fullbatch", 1), "kept_epoch"] == 80
        and df.loc[("fullbatch", 0), "best_epoch"] == 12
    )
    df = df.reset_index()
    assert df.loc[df["name"] == "prime_sum", "converged"].isna().all()  # does not train
    lines = summary_lines(df)
    assert lines[2] == (
        "Not converged: fullbatch seed 1 (hit max_epochs), minibatch seed 0 (convergence not "
        "recorded). Every comparison involving these runs measures training speed, not the "
        "design."
    )
    fullbatch = next(x for x in lines if x.startswith("fullbatch:"))
    assert "1 of 2 run(s) did not converge, so its comparisons measure training speed" in fullbatch
    assert "but mlp did not converge: that difference measures training speed" in fullbatch
    md = to_markdown(df, lines)
    assert "| fullbatch | model | 1 | 1000 | completed | no (hit max_epochs) | 80 | 80 |" in md
    assert "| fullbatch | model | 0 | 1000 | completed | yes | 12 | 32 |" in md
    assert (
        "| minibatch | model | 0 | 1000 | completed | no (convergence not recorded) | — | 80 |"
        in md
    )
    assert "| prime_sum | baseline | — | 1000 | completed | — | — | — |" in md
    assert "<td>no (hit max_epochs)</td>" in to_html(df, lines)
    converged = build_table([r for r in rows if r["name"] != "minibatch" and r.get("seed") != 1])
    assert not any("Not converged" in x for x in summary_lines(converged))
    # A model row with no convergence cells at all reads as not converged, never as unknown.
    bare = {k: v for k, v in rows[0].items() if k not in ("converged", "stop_reason")}
    assert build_table([bare])["converged"].tolist() == [False]


def _formed(name, kind, seed, extrap, hold, form):
    return {**_row(name, kind, seed, extrap, hold), "form": form}


def test_graph_adds_compares_each_model_with_the_mlp_of_its_own_form_and_seed():
    """A residual model meets mlp-residual, a plain one the plain mlp, seed by seed; a seeded
    baseline is the strongest only by its mean over seeds, not by one lucky seed."""
    df = build_table(
        [
            _formed("mlp", "baseline", 0, 0.0001, 0.09, "plain"),
            _formed("mlp", "baseline", 1, 0.0400, 0.16, "plain"),
            _formed("mlp-residual", "baseline", 0, 0.0100, 0.01, "residual"),
            _formed("mlp-residual", "baseline", 1, 0.0100, 0.04, "residual"),
            _formed("prime_sum", "baseline", None, 0.0050, 0.01, "plain"),
            _formed("fullbatch", "model", 0, 0.0400, 0.04, "plain"),
            _formed("fullbatch", "model", 1, 0.0400, 0.04, "plain"),
            _formed("fullbatch-residual", "model", 1, 0.0400, 0.0225, "residual"),
        ]
    )
    adds = {(r.name, r.seed): r.graph_adds_holdout_rmse for r in df.itertuples()}
    assert adds[("fullbatch", 0)] == pytest.approx(0.3 - 0.2)
    assert adds[("fullbatch", 1)] == pytest.approx(0.4 - 0.2)
    assert adds[("fullbatch-residual", 1)] == pytest.approx(0.2 - 0.15)
    assert math.isnan(adds[("mlp", 0)])
    lines = summary_lines(df)
    assert "strongest baseline, prime_sum," in lines[0]
    assert any("over mlp-residual (same form, seeds and features" in x for x in lines)
