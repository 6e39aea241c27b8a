"""Leave-one-out validation against the strongest interpolators (seed cell 10, issue 14).

For each held-out concentration c_k a separate model is trained on the other spectra only
(rule spectral_train, subset ``without_c{k}``), so c_k's spectrum is never seen in training.
Every baseline (``baselines.BASELINES``) is fitted on exactly the same spectra.

- Inner c_k (interpolation): the model carries both neighbouring spectra A(c_{k-1}) and
  A(c_{k+1}) to c_k (all wavelengths in one batch) and predicts their mean.
- End c_0 or c_{n-1} (extrapolation, reported separately): the model carries the nearest
  training spectrum beyond the training range; every baseline extrapolates with its end piece.

The verdict compares the NODE with the strongest baseline by mean MSE (chosen on the same
held-out scores for every method alike, so no method gets a second look) and says who wins.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from zetalab.spectral.baselines import BASELINES, predict
from zetalab.spectral.data import Spectra
from zetalab.spectral.model import GeodesicSpectralNODE
from zetalab.spectral.scores import spectrum_scores

log = logging.getLogger(__name__)

NODE = "node"
METHODS = (NODE, *BASELINES)
METRICS = ("mse", "mae", "r2", "spectral_angle")
KINDS = ("interpolation", "extrapolation")
LABELS = {
    "node": "geodesic NODE",
    "linear": "linear",
    "cubic_spline": "cubic spline",
    "pchip": "PCHIP",
    "akima": "Akima",
    "gp": "Gaussian process",
}


def subset_name(k: int) -> str:
    return f"without_c{k}"


def training_indices(n_concentrations: int, k: int) -> list[int]:
    return [i for i in range(n_concentrations) if i != k]


def kind_of(k: int, n_concentrations: int) -> str:
    return "extrapolation" if k in (0, n_concentrations - 1) else "interpolation"


def sources(k: int, n_concentrations: int) -> list[int]:
    """The training spectra the model carries to c_k: both neighbours, or the nearest end."""
    if k == 0:
        return [1]
    if k == n_concentrations - 1:
        return [n_concentrations - 2]
    return [k - 1, k + 1]


@torch.no_grad()
def node_prediction(model: GeodesicSpectralNODE, data: Spectra, k: int):
    """The NODE's spectrum at c_k (mean over its sources) and its worst path residual."""
    c, a = data.concentrations, data.spectra
    n_wl = data.n_wavelengths
    src = sources(k, data.n_concentrations)
    idx = torch.arange(n_wl, device=a.device).repeat(len(src))
    c_from = torch.cat([c[j].expand(n_wl) for j in src])
    c_to = c[k].expand(len(src) * n_wl).contiguous()
    a_from = torch.cat([a[j] for j in src])
    pred, residual = model(c_from, c_to, a_from, idx)
    return pred.reshape(len(src), n_wl).mean(dim=0), float(residual.abs().max())


def evaluate_held_out(model: GeodesicSpectralNODE, data: Spectra, k: int) -> dict[str, Any]:
    """Scores of the model (trained without c_k) and of every baseline at c_k."""
    n = data.n_concentrations
    node, residual = node_prediction(model, data, k)
    keep = training_indices(n, k)
    c = data.concentrations.detach().cpu().double().numpy()
    a = data.spectra.detach().cpu().double().numpy()
    preds = {NODE: node.detach().cpu().double().numpy()}
    for name in BASELINES:
        preds[name] = predict(name, c[keep], a[keep], c[k : k + 1])[0]
    rows = torch.as_tensor(np.stack([preds[m] for m in METHODS]))
    true = torch.as_tensor(a[k])
    scores = spectrum_scores(rows, true.expand_as(rows))
    out: dict[str, Any] = {
        "index": k,
        "concentration": float(c[k]),
        "kind": kind_of(k, n),
        "sources": [float(c[j]) for j in sources(k, n)],
        "max_abs_path_residual": residual,
        "scores": {m: {s: float(scores[s][i]) for s in METRICS} for i, m in enumerate(METHODS)},
    }
    out["best"] = min(METHODS, key=lambda m: out["scores"][m]["mse"])
    out["curves"] = {"true": a[k].tolist(), **{m: preds[m].tolist() for m in METHODS}}
    return out


def summarise(results: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """Means per method over the held-out concentrations, and the verdict in one sentence."""
    if not results:
        return {"held_out": 0, "verdict": f"No {kind} was scored.", "mean": {}}
    mean = {
        m: {s: float(np.mean([r["scores"][m][s] for r in results])) for s in METRICS}
        for m in METHODS
    }
    wins = {m: sum(r["best"] == m for r in results) for m in METHODS}
    strongest = min(BASELINES, key=lambda m: mean[m]["mse"])
    node_mse, base_mse = mean[NODE]["mse"], mean[strongest]["mse"]
    ratio = node_mse / base_mse if base_mse > 0 else float("inf")
    winner = NODE if node_mse < base_mse else strongest
    where = f"{len(results)} held-out concentration{'s' if len(results) != 1 else ''}"
    if winner == NODE:
        verdict = (
            f"{kind.capitalize()}: the geodesic NODE beats the strongest baseline, "
            f"{LABELS[strongest]}, on mean MSE ({node_mse:.3e} vs {base_mse:.3e}, ratio "
            f"{ratio:.2f}) over {where}; it is best at {wins[NODE]} of them."
        )
    else:
        verdict = (
            f"{kind.capitalize()}: {LABELS[strongest]} wins; the geodesic NODE loses to it on "
            f"mean MSE ({node_mse:.3e} vs {base_mse:.3e}, NODE/{strongest} ratio {ratio:.2f}) "
            f"over {where}; the NODE is best at {wins[NODE]} of them."
        )
    return {
        "held_out": len(results),
        "mean": mean,
        "wins": wins,
        "strongest_baseline": strongest,
        "winner": winner,
        "node_to_strongest_mse_ratio": ratio,
        "verdict": verdict,
    }


def _mean_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "| method | mean MSE | mean MAE | mean R² | mean spectral angle (rad) | best at |",
        "|---|---|---|---|---|---|",
    ]
    for m in sorted(METHODS, key=lambda m: summary["mean"][m]["mse"]):
        s = summary["mean"][m]
        name = f"**{LABELS[m]}**" if m == NODE else LABELS[m]
        mark = " ✓" if summary["winner"] == m else ""
        lines.append(
            f"| {name}{mark} | {s['mse']:.3e} | {s['mae']:.3e} | {s['r2']:.4f} | "
            f"{s['spectral_angle']:.4f} | {summary['wins'][m]} of {summary['held_out']} |"
        )
    return lines


def _per_held_out(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| held-out c | from | " + " | ".join(LABELS[m] for m in METHODS) + " |",
        "|---|---|" + "---|" * len(METHODS),
    ]
    for r in results:
        cells = []
        for m in METHODS:
            text = f"{r['scores'][m]['mse']:.2e}"
            cells.append(f"**{text}**" if r["best"] == m else text)
        src = ", ".join(f"{c:.3g}" for c in r["sources"])
        lines.append(f"| {r['concentration']:.3g} (#{r['index']}) | {src} | {' | '.join(cells)} |")
    return lines


def markdown_table(
    regime: str,
    results: dict[str, list[dict[str, Any]]],
    summaries: dict[str, dict[str, Any]],
    noise_floor: float | None,
) -> str:
    """The validation table of one regime: means, then MSE per held-out concentration."""
    lines = [f"# Study S validation, regime `{regime}`", ""]
    for kind in KINDS:
        summary = summaries[kind]
        if not summary["held_out"]:
            continue
        title = (
            "Interpolation (leave one inner concentration out)"
            if kind == "interpolation"
            else "Extrapolation (leave an end concentration out)"
        )
        lines += [f"## {title}", "", summary["verdict"], ""]
        lines += [*_mean_table(summary), ""]
        lines += ["MSE per held-out concentration (best in bold):", ""]
        lines += [*_per_held_out(results[kind]), ""]
    if noise_floor is not None:
        lines.append(
            f"Noise floor: a perfect predictor of the noise-free spectrum scores MSE "
            f"{noise_floor:.1e} against the noisy held-out spectrum (spectral.data.noise²)."
        )
    return "\n".join(lines).rstrip() + "\n"


def regimes_table(metrics: dict[str, dict[str, Any]]) -> str:
    """Mean MSE / MAE / R² / spectral angle of every method in every regime, and who wins."""
    lines = ["# Study S: the geodesic NODE against the strongest interpolators, per regime", ""]
    for kind in KINDS:
        lines += [f"## {kind.capitalize()}", ""]
        lines += [
            "| regime | method | mean MSE | mean MAE | mean R² | mean spectral angle (rad) |",
            "|---|---|---|---|---|---|",
        ]
        verdicts = []
        for regime, m in metrics.items():
            summary = m["summary"][kind]
            if not summary.get("held_out"):
                continue
            for method in METHODS:
                s = m["methods"][method][kind]
                name = f"**{LABELS[method]}**" if method == NODE else LABELS[method]
                mark = " ✓" if summary["winner"] == method else ""
                lines.append(
                    f"| {regime} | {name}{mark} | {s['mse']:.3e} | {s['mae']:.3e} | "
                    f"{s['r2']:.4f} | {s['spectral_angle']:.4f} |"
                )
            verdicts.append(f"- `{regime}`: {summary['verdict']}")
        lines += ["", *verdicts, ""]
    return "\n".join(lines).rstrip() + "\n"
