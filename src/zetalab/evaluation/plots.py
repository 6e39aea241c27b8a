"""Figures of the Snakemake report (SPEC §7); matplotlib with the Agg backend, PNG files.

Each function takes plain data (no file reading) so it can be tested and reused; the
scripts under scripts/plot_*.py read the workflow's files and call these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from zetalab.evaluation.metrics import wigner_pdf
from zetalab.io import atomic_path

DPI = 110


def _save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)


def _colour(i: int) -> str:
    return f"C{i % 10}"


def loss_curves(
    histories: Mapping[str, pd.DataFrame],
    path: str | Path,
    baseline_extrapolation: Mapping[str, float] | None = None,
) -> None:
    """Total loss, validation loss and extrapolation RMSE per epoch, one line per run."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    variants = sorted({label.split(" ")[0] for label in histories})
    for label, hist in sorted(histories.items()):
        colour = _colour(variants.index(label.split(" ")[0]))
        style = dict(color=colour, lw=1.2, alpha=0.85, label=label)
        if hist.empty:
            continue
        axes[0].plot(hist["epoch"], hist["loss_total"], **style)
        axes[1].plot(hist["epoch"], hist["validation_loss"], **style)
        axes[2].plot(hist["epoch"], hist["extrap_rmse_spacing"], **style)
    for i, (name, value) in enumerate(sorted((baseline_extrapolation or {}).items())):
        if np.isfinite(value):
            axes[2].axhline(
                value,
                color="k",
                ls=["--", ":", "-.", (0, (5, 1))][i % 4],
                lw=1,
                label=f"baseline {name}",
            )
    axes[0].set(title="training loss (total)", xlabel="epoch")
    axes[1].set(title="validation loss (MSE of δ)", xlabel="epoch")
    for ax, column in ((axes[0], "loss_total"), (axes[1], "validation_loss")):
        _loss_scale(ax, [h[column] for h in histories.values() if not h.empty])
    axes[2].set(title="extrapolation RMSE (mean spacings)", xlabel="epoch")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # epochs
    axes[2].legend(fontsize=7, loc="best")
    _save(fig, path)


# A loss spanning at least this factor (all positive) gets a log axis; a narrower or signed
# one a linear axis. A log axis over less than a decade has no labelled decade and matplotlib
# labels it with ticks like "1.28882×10⁰"; symlog does the same around 0 (the NLL term makes
# the total loss negative).
LOG_SPAN = 20.0


def _loss_scale(ax: plt.Axes, series: Sequence[pd.Series]) -> None:
    """A log axis for a positive loss over decades, else linear with plain tick labels."""
    values = np.concatenate([np.asarray(s, dtype=float) for s in series] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and values.max() / values.min() >= LOG_SPAN:
        ax.set_yscale("log")
        return
    ax.set_yscale("linear")
    formatter = matplotlib.ticker.ScalarFormatter(useOffset=False)
    formatter.set_powerlimits((-3, 4))
    ax.yaxis.set_major_formatter(formatter)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6))
    if values.size and values.min() < 0 < values.max():
        ax.axhline(0.0, color="0.5", lw=0.6)


def horizon_predictions(
    true_delta: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    indices: np.ndarray,
    boundary: int,
    spacing: np.ndarray,
    true_gammas: np.ndarray,
    predicted_gammas: Mapping[str, np.ndarray],
    path: str | Path,
) -> None:
    """δ̂_n against δ_n and the height error in spacings over extrapolation + holdout."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True)
    top.plot(indices, true_delta, "k.", ms=4, label="true zeros δ_n")
    for i, (label, pred) in enumerate(predictions.items()):
        top.plot(indices, pred, color=_colour(i), lw=1.1, label=label)
        err = (predicted_gammas[label] - true_gammas) / spacing
        bottom.plot(indices, err, color=_colour(i), lw=1.0, label=label)
    for ax in (top, bottom):
        ax.axvline(boundary + 0.5, color="grey", ls="--", lw=1)
        ax.grid(alpha=0.3)
    top.text(boundary + 1, top.get_ylim()[1], " holdout →", va="top", fontsize=8)
    top.text(boundary, top.get_ylim()[1], "← extrapolation ", va="top", ha="right", fontsize=8)
    top.set(ylabel="δ_n = N0(γ_n) − (n − ½)", title="predicted vs true zeros over the horizon")
    bottom.axhline(0, color="k", lw=0.8)
    bottom.set(xlabel="zero index n", ylabel="(γ̂_n − γ_n) / mean spacing")
    top.legend(fontsize=7, ncol=3, loc="lower left")
    _save(fig, path)


def spacing_histograms(spacings: Mapping[str, np.ndarray], path: str | Path) -> None:
    """One panel per predictor: spacing histogram against the Wigner surmise."""
    n = len(spacings)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.4 * rows), squeeze=False)
    grid = np.linspace(0, 3.5, 300)
    for ax, (label, s) in zip(axes.flat, spacings.items(), strict=False):
        s = np.asarray(s, dtype=np.float64)
        s = s[np.isfinite(s)]
        if len(s) and np.ptp(s) > 0:
            ax.hist(
                s,
                bins=np.linspace(min(0.0, s.min()), max(3.5, s.max()), 36),
                density=True,
                color="C0",
                alpha=0.6,
            )
        elif len(s):
            ax.axvline(s[0], color="C0", lw=3, label=f"all spacings = {s[0]:.3g}")
            ax.legend(fontsize=7)
        ax.plot(grid, wigner_pdf(grid), "k-", lw=1.2)
        ax.set(title=label, xlabel="spacing s (mean spacings)", xlim=(-0.2, 3.5))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("spacings vs the GUE Wigner surmise (32/π²) s² e^{−4s²/π} (black)")
    fig.tight_layout()
    _save(fig, path)


def variance_curves(
    panels: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]], path: str | Path
) -> None:
    """v(L) = Var(x_{n+L} − x_n − L) against L, log–log, one panel per window; truth in black."""
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    for ax, (title, curves) in zip(axes.flat, panels.items(), strict=True):
        top = 1.0
        for i, (label, curve) in enumerate(curves.items()):
            L, v = np.asarray(curve["L"], float), np.asarray(curve["v"], float)
            top = max(top, float(L.max()) if len(L) else 1.0)
            keep = np.isfinite(v) & (v > 0)
            if not np.any(keep):
                ax.plot([], [], color=_colour(i), label=f"{label} (v ≡ 0)")
                continue
            truth = label.startswith("true")
            style = (
                dict(color="k", lw=2.2, marker="o")
                if truth
                else dict(color=_colour(i), lw=1.2, marker=".")
            )
            ax.plot(L[keep], v[keep], label=label, **style)
        L_ref = np.logspace(0, np.log10(top), 50)
        ax.plot(
            L_ref,
            (np.log(2 * np.pi * L_ref) + 0.5772 + 1) / np.pi**2,
            color="grey",
            ls=":",
            label="GUE number variance ≈ (log 2πL + γ_E + 1)/π²",
        )
        ax.set(xscale="log", yscale="log", xlabel="L", ylabel="v(L)", title=title)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle("v(L): variance over n of x_{n+L} − x_n − L")
    fig.tight_layout()
    _save(fig, path)


def ab_verdict_plot(
    verdict: Mapping[str, Any],
    baselines: Mapping[str, Mapping[str, float]],
    path: str | Path,
) -> None:
    """Per-seed extrapolation (and holdout) errors of the compared variants, paired by seed."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    metric = verdict["metric"]
    # Team 1 in the middle, each comparison's other variant on its own side: no line crosses.
    comparisons = [verdict["comparisons"][k] for k in ("rg_ablation", "team1_vs_team2")]
    positions = {comparisons[0]["other"]: 0, verdict["team1"]: 1, comparisons[1]["other"]: 2}
    for ax, split in zip(axes, ("extrapolation", "holdout"), strict=True):
        for comp in comparisons:
            t = comp[split]
            x0, x1 = positions[comp["reference"]], positions[comp["other"]]
            for seed, a, b in zip(t["seeds"], t["reference"], t["other"], strict=True):
                ax.plot([x0, x1], [a, b], "o-", color="grey", alpha=0.6, ms=5)
                ax.annotate(
                    f"s{seed}", (x1, b), fontsize=6, xytext=(3, 0), textcoords="offset points"
                )
        for i, (name, value) in enumerate(sorted(baselines.get(split, {}).items())):
            if np.isfinite(value):
                ax.axhline(value, color=_colour(i), ls="--", lw=1, label=f"baseline {name}")
        ax.set_xticks(list(positions.values()), list(positions.keys()))
        ax.set(
            title=f"{split} ({'decides' if split == 'extrapolation' else 'reported only'})",
            ylabel=metric,
            yscale="log",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"A/B verdict: {verdict['scenario']}")
    fig.tight_layout()
    _save(fig, path)
