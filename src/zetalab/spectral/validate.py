"""Interpolation validation: leave one inner concentration out at a time (seed cell 10).

For each held-out inner concentration c_k a separate model is trained on the other spectra
only (rule spectral_train, subset ``without_c{k}``), so c_k's spectrum is never seen in
training. That model carries the neighbouring spectra A(c_{k-1}) and A(c_{k+1}) to c_k (both
directions and all wavelengths in one batch); the prediction is the mean of the two, scored
beside linear interpolation between the same two neighbours. Edge concentrations are refused:
with a neighbour on one side only, the task would be extrapolation.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from zetalab.spectral.data import Spectra
from zetalab.spectral.model import GeodesicSpectralNODE
from zetalab.spectral.scores import linear_interpolation, spectrum_scores

log = logging.getLogger(__name__)

METRICS = ("mse", "mae", "r2", "spectral_angle")


def subset_name(k: int) -> str:
    return f"without_c{k}"


def training_indices(n_concentrations: int, k: int) -> list[int]:
    return [i for i in range(n_concentrations) if i != k]


@torch.no_grad()
def evaluate_held_out(model: GeodesicSpectralNODE, data: Spectra, k: int) -> dict[str, Any]:
    """Scores of the model (trained without c_k) and of the linear baseline at c_k."""
    c, a = data.concentrations, data.spectra
    n_wl = data.n_wavelengths
    idx = torch.arange(n_wl, device=a.device).repeat(2)
    c_from = torch.cat([c[k - 1].expand(n_wl), c[k + 1].expand(n_wl)])
    c_to = c[k].expand(2 * n_wl).contiguous()
    a_from = torch.cat([a[k - 1], a[k + 1]])
    pred, residual = model(c_from, c_to, a_from, idx)
    from_below, from_above = pred.reshape(2, n_wl)
    model_pred = 0.5 * (from_below + from_above)
    baseline = linear_interpolation(c[k - 1], c[k], c[k + 1], a[k - 1], a[k + 1])
    rows = torch.stack([model_pred, baseline, from_below, from_above])
    scores = spectrum_scores(rows, a[k].expand_as(rows))
    names = ("model", "linear", "model_from_below", "model_from_above")
    out: dict[str, Any] = {
        "index": k,
        "concentration": float(c[k]),
        "neighbours": [float(c[k - 1]), float(c[k + 1])],
        "max_abs_path_residual": float(residual.abs().max()),
    }
    for i, name in enumerate(names):
        out[name] = {m: float(scores[m][i]) for m in METRICS}
    out["winner"] = "model" if out["model"]["mse"] < out["linear"]["mse"] else "linear"
    out["curves"] = {
        "true": a[k].cpu().tolist(),
        "model": model_pred.cpu().tolist(),
        "linear": baseline.cpu().tolist(),
    }
    return out


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the held-out concentrations, and the verdict in one sentence."""
    mean = {
        who: {m: sum(r[who][m] for r in results) / len(results) for m in METRICS}
        for who in ("model", "linear")
    }
    wins = sum(r["winner"] == "model" for r in results)
    overall = "model" if mean["model"]["mse"] < mean["linear"]["mse"] else "linear"
    ratio = mean["model"]["mse"] / mean["linear"]["mse"]
    verdict = (
        f"The geodesic-coupled NODE beats linear interpolation on mean MSE "
        f"({mean['model']['mse']:.3e} vs {mean['linear']['mse']:.3e}, ratio {ratio:.2f}) and wins "
        f"{wins} of {len(results)} held-out concentrations."
        if overall == "model"
        else f"Linear interpolation beats the geodesic-coupled NODE on mean MSE "
        f"({mean['linear']['mse']:.3e} vs {mean['model']['mse']:.3e}, model/linear ratio "
        f"{ratio:.2f}); the model wins {wins} of {len(results)} held-out concentrations."
    )
    return {
        "mean": mean,
        "model_wins": wins,
        "held_out": len(results),
        "overall_winner": overall,
        "verdict": verdict,
    }


def markdown_table(results: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [
        "| held-out c | method | MSE | MAE | R² | spectral angle (rad) | winner |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for who in ("model", "linear"):
            s = r[who]
            label = "geodesic NODE" if who == "model" else "linear interpolation"
            win = "✓" if r["winner"] == who else ""
            lines.append(
                f"| {r['concentration']:.4g} (#{r['index']}) | {label} | {s['mse']:.3e} | "
                f"{s['mae']:.3e} | {s['r2']:.4f} | {s['spectral_angle']:.4f} | {win} |"
            )
    for who in ("model", "linear"):
        s = summary["mean"][who]
        label = "geodesic NODE" if who == "model" else "linear interpolation"
        win = "✓" if summary["overall_winner"] == who else ""
        lines.append(
            f"| **mean** | {label} | {s['mse']:.3e} | {s['mae']:.3e} | {s['r2']:.4f} | "
            f"{s['spectral_angle']:.4f} | {win} |"
        )
    return "\n".join(lines) + "\n\n" + summary["verdict"] + "\n"
