"""Figures for the report: the data, the training loss, held-out spectra against the baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from zetalab.io import atomic_path


def _save(fig: plt.Figure, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=110)
    plt.close(fig)


def plot_spectra(path, concentrations, wavelengths, spectra, title: str = "Study S spectra"):
    fig, ax = plt.subplots(figsize=(7, 4))
    cmap = plt.get_cmap("viridis")
    n = len(concentrations)
    for i, (c, a) in enumerate(zip(concentrations, spectra, strict=True)):
        ax.plot(wavelengths, a, color=cmap(i / max(n - 1, 1)), label=f"c = {c:.3g}")
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel("absorbance")
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def plot_loss_curves(path, histories: dict[str, dict[str, Any]]) -> None:
    """Training (solid) and inner-split (dashed) loss per model, the kept epoch marked, and
    each model's noise floor (dotted): the record that says whether training converged."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (name, record) in enumerate(histories.items()):
        history = record["history"]
        epochs = [h["epoch"] for h in history]
        conv = "converged" if record.get("converged") else "NOT converged"
        ax.semilogy(epochs, [h["loss"] for h in history], f"C{i}-", lw=1, label=f"{name} ({conv})")
        if history and "inner_loss" in history[0]:
            ax.semilogy(epochs, [h["inner_loss"] for h in history], f"C{i}--", lw=1)
        kept = record.get("kept_epoch")
        if kept:
            ax.plot([kept], [history[kept - 1]["inner_loss"]], f"C{i}o")
        if record.get("noise_floor"):
            ax.axhline(record["noise_floor"], color=f"C{i}", ls=":", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE")
    ax.set_title(
        "Training (solid) and inner-split (dashed) loss, kept epoch (dot), noise floor (dotted)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_held_out(path, wavelengths, results: list[dict[str, Any]], summaries) -> None:
    """Each held-out spectrum with the NODE, the strongest baseline and linear, and their errors."""
    n = len(results)
    fig, axes = plt.subplots(n, 2, figsize=(11, 2.8 * n), squeeze=False)
    w = np.asarray(wavelengths)
    for row, r in zip(axes, results, strict=True):
        strongest = r["strongest"]["method"]
        shown = ["node", strongest] + (["linear"] if strongest != "linear" else [])
        true = np.asarray(r["curves"]["true"])
        row[0].plot(w, true, "k", lw=2, label="true (held out)")
        for i, m in enumerate(shown):
            style = "-" if m == "node" else "--"
            mse = r["scores"][m]["mse"]
            pred = np.asarray(r["curves"][m])
            row[0].plot(w, pred, f"C{i}{style}", label=f"{_label(m)} (MSE {mse:.2e})")
            row[1].plot(w, pred - true, f"C{i}{style}", label=f"{_label(m)} - true")
        src = " and ".join(f"{c:.3g}" for c in r["sources"])
        row[0].set_title(f"c = {r['concentration']:.3g} ({r['kind']}) from c = {src}", fontsize=9)
        row[0].legend(fontsize=7)
        row[1].axhline(0.0, color="k", lw=0.5)
        row[1].set_title("error", fontsize=9)
        row[1].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("wavelength (nm)")
    fig.tight_layout()
    _save(fig, path)


def _label(method: str) -> str:
    from zetalab.spectral.validate import LABELS

    return LABELS[method]


def plot_methods(path, summaries: dict[str, dict[str, Any]], title: str) -> None:
    """Mean MSE, MAE, R² and spectral angle of every method: interpolation and extrapolation."""
    from zetalab.spectral.validate import METHODS

    metrics = (("mse", "mean MSE", True), ("mae", "mean MAE", True))
    metrics += (("r2", "mean R²", False), ("spectral_angle", "mean spectral angle (rad)", True))
    kinds = [k for k, s in summaries.items() if s.get("held_out")]
    fig, axes = plt.subplots(len(kinds), 4, figsize=(14, 3.2 * len(kinds)), squeeze=False)
    colours = ["C3" if m == "node" else "C0" for m in METHODS]
    for row, kind in zip(axes, kinds, strict=True):
        mean = summaries[kind]["mean"]
        for ax, (key, label, log_scale) in zip(row, metrics, strict=True):
            values = [mean[m][key] for m in METHODS]
            ax.bar(range(len(METHODS)), values, color=colours)
            ax.set_xticks(range(len(METHODS)), [_label(m) for m in METHODS], rotation=35)
            ax.tick_params(axis="x", labelsize=7)
            if log_scale and min(values) > 0:
                ax.set_yscale("log")
            ax.set_title(f"{kind}: {label}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


def plot_regimes(path, metrics: dict[str, dict[str, Any]]) -> None:
    """Top: the NODE against the strongest baseline (inner-LOO choice) per regime, with the noise
    floor, an open bar where a model did not converge. Bottom: every method's mean MSE."""
    from zetalab.spectral.validate import KINDS, METHODS

    fig, axes = plt.subplots(2, len(KINDS), figsize=(12, 8), squeeze=False)
    regimes = list(metrics)
    x = np.arange(len(regimes))
    for ax, kind in zip(axes[0], KINDS, strict=True):
        node, base, floor, done = [], [], [], []
        for r in regimes:
            summary = metrics[r]["summary"][kind]
            node.append((metrics[r]["methods"]["node"][kind] or {}).get("mse", np.nan))
            base.append(summary.get("strongest_mse", np.nan))
            floor.append(summary.get("noise_floor") or np.nan)
            done.append(summary.get("all_converged", False))
        ax.bar(
            x - 0.2,
            node,
            0.4,
            label="geodesic NODE",
            color=["k" if d else "w" for d in done],
            edgecolor="k",
        )
        ax.bar(x + 0.2, base, 0.4, label="strongest baseline (inner LOO)", color="C0")
        ax.plot(x, floor, "r_", markersize=30, mew=2, label="noise floor")
        ax.set_xticks(x, regimes, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("mean MSE (leave-one-out)")
        ax.set_title(f"{kind}: NODE (open bar = not converged) vs strongest", fontsize=9)
    axes[0][0].legend(fontsize=7)
    width = 0.8 / len(METHODS)
    for ax, kind in zip(axes[1], KINDS, strict=True):
        for i, m in enumerate(METHODS):
            values = [(metrics[r]["methods"][m][kind] or {}).get("mse", np.nan) for r in regimes]
            xm = x + (i - (len(METHODS) - 1) / 2) * width
            ax.bar(xm, values, width, label=_label(m), color="k" if m == "node" else f"C{i}")
        ax.set_xticks(x, regimes, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("mean MSE (leave-one-out)")
        ax.set_title(f"{kind}: every method", fontsize=9)
    axes[1][0].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
