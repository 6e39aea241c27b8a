"""Each report figure renders from plain data (including degenerate cases) to a PNG."""

import numpy as np
import pandas as pd

from zetalab.evaluation import plots
from zetalab.evaluation.verdict import RunResult, ab_verdict


def _is_png(path):
    return path.read_bytes()[:4] == b"\x89PNG"


def test_every_plot_renders(tmp_path):
    hist = pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "loss_total": [1.0, 0.5, 0.2],
            "validation_loss": [0.1, 0.09, 0.08],
            "extrap_rmse_spacing": [0.3, 0.28, 0.27],
        }
    )
    plots.loss_curves(
        {"fullbatch seed0": hist, "minibatch seed0": hist},
        tmp_path / "a.png",
        {"smooth": 0.3, "prime_sum": float("nan")},
    )
    idx = np.arange(101, 141)
    true = np.sin(idx)
    plots.horizon_predictions(
        true,
        {"smooth": 0 * true, "m": 0.5 * true},
        idx,
        120,
        np.ones(40),
        idx + true,
        {"smooth": idx.astype(float), "m": idx + 0.5 * true},
        tmp_path / "b.png",
    )
    plots.spacing_histograms({"true": 1 + np.diff(true), "smooth": np.ones(39)}, tmp_path / "c.png")
    curve = {"L": [1, 2, 4], "v": [0.1, 0.12, 0.13]}
    plots.variance_curves(
        {"train": {"true zeros": curve, "smooth": {"L": [1, 2, 4], "v": [0, 0, 0]}}},
        tmp_path / "d.png",
    )
    runs = [
        RunResult(v, s, "completed", 0.1 + 0.01 * s, 0.2)
        for v in ("fullbatch", "minibatch", "fullbatch-norg")
        for s in range(3)
    ]
    plots.ab_verdict_plot(ab_verdict(runs), {"extrapolation": {"smooth": 0.3}}, tmp_path / "e.png")
    for name in "abcde":
        assert _is_png(tmp_path / f"{name}.png")
