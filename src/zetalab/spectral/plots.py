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


def plot_spectra(path, concentrations, wavelengths, spectra) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    cmap = plt.get_cmap("viridis")
    n = len(concentrations)
    for i, (c, a) in enumerate(zip(concentrations, spectra, strict=True)):
        ax.plot(wavelengths, a, color=cmap(i / max(n - 1, 1)), label=f"c = {c:.3g}")
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel("absorbance")
    ax.legend(fontsize=8)
    ax.set_title("Study S spectra")
    fig.tight_layout()
    _save(fig, path)


def plot_loss_curves(path, histories: dict[str, list[dict[str, Any]]]) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, history in histories.items():
        epochs = [h["epoch"] for h in history]
        ax.semilogy(epochs, [h["loss"] for h in history], label=name, lw=2 if name == "all" else 1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE")
    ax.set_title("Training loss (all = every concentration; without_cK = validation models)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_held_out(path, wavelengths, results: list[dict[str, Any]]) -> None:
    n = len(results)
    fig, axes = plt.subplots(n, 2, figsize=(11, 2.8 * n), squeeze=False)
    w = np.asarray(wavelengths)
    for row, r in zip(axes, results, strict=True):
        true = np.asarray(r["curves"]["true"])
        model = np.asarray(r["curves"]["model"])
        linear = np.asarray(r["curves"]["linear"])
        row[0].plot(w, true, "k", lw=2, label="true (held out)")
        row[0].plot(w, model, "C0", label=f"geodesic NODE (MSE {r['model']['mse']:.2e})")
        row[0].plot(w, linear, "C1--", label=f"linear interp. (MSE {r['linear']['mse']:.2e})")
        lo, hi = r["neighbours"]
        row[0].set_title(f"c = {r['concentration']:.3g} from c = {lo:.3g} and {hi:.3g}", fontsize=9)
        row[0].legend(fontsize=7)
        row[1].plot(w, model - true, "C0", label="NODE - true")
        row[1].plot(w, linear - true, "C1--", label="linear - true")
        row[1].axhline(0.0, color="k", lw=0.5)
        row[1].set_title("error", fontsize=9)
        row[1].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("wavelength (nm)")
    fig.tight_layout()
    _save(fig, path)
