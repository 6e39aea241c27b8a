"""End to end through Snakemake on a tiny config: train (3 variants × 2 seeds), baselines,
evaluate, leaderboard, A/B verdict, plots, then `snakemake --report`. The zeros aggregate is
placed where the zero stage would write it (the zero stage has its own tests)."""

import json

import pandas as pd
import pytest
import yaml
from conftest import run_snakemake, tiny_config

pytestmark = pytest.mark.slow

# The tiny configuration (.test/config/config.yaml) with 2 seeds, Study Z only.
TINY = tiny_config({"train": {"seeds": [0, 1]}, "targets": {"study_s": False}})
N, H = TINY["dataset"]["N"], TINY["dataset"]["horizon"]
RULES = [
    "graph_build",
    "graph_partition",
    "run_config",
    "explicit_formula",
    "train",
    "baseline",
    "evaluate",
    "leaderboard",
    "ab_verdict",
    "plot_ab_verdict",
    "plot_loss_curves",
    "plot_predictions",
    "plot_variance",
]
TARGETS = [
    "results/leaderboard.csv",
    "results/leaderboard.md",
    "results/ab_verdict.json",
    "results/plots/ab_verdict.png",
    "results/plots/loss_curves.png",
    "results/plots/horizon.png",
    "results/plots/spacings.png",
    "results/plots/variance.png",
]


def test_evaluate_leaderboard_verdict_and_report(odlyzko, tmp_path):
    from zetalab.zeros.store import aggregate, write_chunk

    total = N + 2 * H
    root = tmp_path / "data" / "zeros" / "rs"
    write_chunk(root / "chunk_test.npy", odlyzko[:total], 1, {"backend": "file"})
    aggregate([root / "chunk_test.npy"], root / f"zeros_{total}.npy", total)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    args = ["--configfile", str(tmp_path / "tiny.yaml"), "--allowed-rules", *RULES]
    dry = run_snakemake(tmp_path, *args, "-n", *TARGETS)
    assert "name=prime_sum" in dry.stdout and "target=runs/ab/minibatch/seed1" in dry.stdout
    run_snakemake(tmp_path, *args, "--cores", "2", *TARGETS)

    board = pd.read_csv(tmp_path / "results/leaderboard.csv")
    models = board[board["kind"] == "model"]
    assert sorted(models["name"].unique()) == ["fullbatch", "fullbatch-norg", "minibatch"]
    assert len(models) == 6 and set(models["seed"]) == {0, 1}
    assert sorted(board[board["kind"] == "baseline"]["name"]) == ["prime_sum", "smooth"]
    smooth = board[board["name"] == "smooth"].iloc[0]
    assert smooth["extrapolation_skill"] == 0 and smooth["holdout_skill"] == 0
    prime = board[board["name"] == "prime_sum"].iloc[0]
    assert prime["holdout_rmse_spacing"] < smooth["holdout_rmse_spacing"]
    assert board["extrapolation_mse_height"].is_monotonic_increasing
    assert (board["N"] == N).all() and models["wall_time_s"].gt(0).all()
    md = (tmp_path / "results/leaderboard.md").read_text()
    assert "beats the strongest baseline" in md and "on the extrapolation window" in md

    verdict = json.loads((tmp_path / "results/ab_verdict.json").read_text())
    assert verdict["outcome"] in ("A", "B", "worse", "inconclusive")
    assert verdict["margin"] == 1.1 and verdict["reason"]
    assert verdict["comparisons"]["team1_vs_team2"]["extrapolation"]["n_pairs"] == 2
    assert set(verdict["failed_share"]) == {"fullbatch", "minibatch", "fullbatch-norg"}
    run_eval = json.loads(
        (tmp_path / "results/runs/ab/minibatch/seed0/evaluation.json").read_text()
    )
    assert run_eval["variant"] == "minibatch" and run_eval["errors"]["holdout"]["n"] == H
    for png in TARGETS[3:]:
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"

    run_snakemake(
        tmp_path, "--configfile", str(tmp_path / "tiny.yaml"), "--report", "report.html", *TARGETS
    )
    html = (tmp_path / "report.html").read_text()
    assert "leaderboard.csv" in html and "ab_verdict.png" in html and "variance.png" in html
