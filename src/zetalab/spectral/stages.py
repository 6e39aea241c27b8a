"""The workflow's Study S stages; scripts/spectral_*.py only unpack Snakemake's arguments.

Each stage logs to the rule's log file (set up by the script with ``zetalab.logsetup.log_to``,
which also records a failure's traceback and one-line reason there) and writes every output
atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from zetalab.errors import ZetalabError
from zetalab.io import read_json, write_json_atomic, write_text_atomic
from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import (
    Spectra,
    load_spectra,
    make_spectra,
    non_monotonic_fraction,
    regime_seed,
    save_spectra,
)
from zetalab.spectral.device import device_description, setup_device, torch_dtype

log = logging.getLogger("zetalab.spectral")


def use_threads(threads: int | None) -> None:
    """Cap torch's intra-op threads at the rule's `threads:` (torch would take every core)."""
    if threads:
        torch.set_num_threads(threads)


def config_from(section: Mapping[str, Any], regime: str | None = None) -> SpectralConfig:
    """The job's config: the ``spectral:`` section with the rule's regime wildcard applied."""
    cfg = SpectralConfig.from_mapping(section)
    return cfg.for_regime(regime) if regime else cfg


def data_job(cfg: SpectralConfig, spectra_path: str, plot_path: str, manifest_path: str) -> None:
    from zetalab.spectral.plots import plot_spectra

    device = setup_device(cfg.device)
    data = make_spectra(cfg.data, cfg.seed, device, torch_dtype(cfg.dtype))
    fraction = non_monotonic_fraction(data)
    log.info(
        "regime %s: %d spectra x %d wavelengths generated on %s; %s of wavelengths "
        "non-monotonic in c (noise-free signal)",
        cfg.data.regime,
        data.n_concentrations,
        data.n_wavelengths,
        device,
        "unknown" if fraction is None else f"{100 * fraction:.0f}%",
    )
    save_spectra(spectra_path, data)
    cpu = data.to(torch.device("cpu"), torch.float64)
    plot_spectra(
        plot_path,
        cpu.concentrations.tolist(),
        cpu.wavelengths.numpy(),
        cpu.spectra.numpy(),
        title=f"Study S spectra, regime {cfg.data.regime}",
    )
    synthetic = cfg.data.source == "synthetic"
    write_json_atomic(
        manifest_path,
        {
            "source": cfg.data.source,
            "regime": cfg.data.regime if synthetic else None,
            "noise_model": (
                {
                    "variance": "noise^2 + (noise_intensity * 10^A_clean / ln 10)^2",
                    "noise": cfg.data.noise,
                    "noise_intensity": cfg.data.noise_intensity,
                    "drift": cfg.data.drift,
                    "generator_seed": regime_seed(cfg.seed, cfg.data.regime),
                    "mean_variance": float(cpu.noise_variance.mean()),
                    "max_variance": float(cpu.noise_variance.max()),
                }
                if synthetic and cpu.noise_variance is not None
                else None
            ),
            "seed": cfg.seed,
            "generated_on": device_description(device),
            "concentrations": cpu.concentrations.tolist(),
            "n_wavelengths": data.n_wavelengths,
            "wavelength_range": [float(cpu.wavelengths[0]), float(cpu.wavelengths[-1])],
            "non_monotonic_fraction": fraction,
            "non_monotonic_measured_on": "the noise-free signal" if synthetic else None,
        },
    )


def subset_indices(subset: str, n_concentrations: int) -> list[int]:
    """``all`` or ``without_c{k}`` -> the concentration indices that model trains on."""
    from zetalab.spectral.validate import training_indices

    if subset == "all":
        return list(range(n_concentrations))
    if not subset.startswith("without_c") or not subset[len("without_c") :].isdigit():
        raise ZetalabError(f"unknown training subset {subset!r}", "use all or without_c<index>")
    k = int(subset[len("without_c") :])
    if not 0 <= k < n_concentrations:
        raise ZetalabError(
            f"training subset {subset} leaves out index {k}, but there are only "
            f"{n_concentrations} concentrations",
            f"use without_c0 .. without_c{n_concentrations - 1}",
        )
    return training_indices(n_concentrations, k)


def load_data(cfg: SpectralConfig, path: str, device: torch.device) -> Spectra:
    return load_spectra(path, device, torch_dtype(cfg.dtype))


def train_job(
    cfg: SpectralConfig,
    subset: str,
    spectra_path: str,
    model_path: str,
    history_path: str,
    checkpoint_path: str,
    profile_path: str | None,
) -> None:
    from zetalab.spectral.train import save_model, train

    device = setup_device(cfg.device)
    full = load_data(cfg, spectra_path, device)
    keep = subset_indices(subset, full.n_concentrations)
    data = full.subset(keep)
    log.info(
        "subset %s: concentrations %s", subset, [round(float(c), 6) for c in data.concentrations]
    )
    outcome = train(
        cfg,
        data,
        device,
        checkpoint=Path(checkpoint_path),
        profile_trace=Path(profile_path) if profile_path else None,
    )
    outcome.summary["subset"] = subset
    outcome.summary["trained_on"] = keep
    outcome.convergence["noise_floor"] = noise_floor(full, keep)
    save_model(model_path, outcome, cfg, data)
    write_json_atomic(
        history_path,
        {**outcome.convergence, "summary": outcome.summary, "history": outcome.history},
    )


def noise_floor(data: Spectra, keep: list[int]) -> float | None:
    """The noise model's mean variance over the held-out spectrum's wavelengths (all spectra
    when none is held out, as for ``all``): what the MSE of a perfect predictor of the
    noise-free signal would be. None for file data, whose noise is unknown."""
    if data.noise_variance is None:
        return None
    held = sorted(set(range(data.n_concentrations)) - set(keep))
    return float(data.noise_variance[held or slice(None)].double().mean())


def validate_job(
    cfg: SpectralConfig,
    spectra_path: str,
    models: Mapping[int, str],
    histories: Mapping[str, str],
    out_json: str,
    out_table: str,
    out_plot: str,
    out_methods_plot: str,
    out_loss_plot: str,
) -> None:
    from zetalab.spectral.plots import plot_held_out, plot_loss_curves, plot_methods
    from zetalab.spectral.train import load_model
    from zetalab.spectral.validate import (
        CONVERGENCE_KEYS,
        KINDS,
        METHODS,
        evaluate_held_out,
        markdown_table,
        summarise,
    )

    device = setup_device(cfg.device)
    data = load_data(cfg, spectra_path, device)
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    shooting, convergence = {}, {}
    for k, path in sorted(models.items()):
        model, state = load_model(path, device)
        if state["n_wavelengths"] != data.n_wavelengths:
            raise ZetalabError(
                f"{path} was trained on {state['n_wavelengths']} wavelengths, the data has "
                f"{data.n_wavelengths}",
                f"rebuild it: snakemake --forcerun spectral_train {path}",
            )
        name = f"without_c{k}"
        record = read_json(histories[name])
        conv = {key: record.get(key) for key in CONVERGENCE_KEYS}
        result = evaluate_held_out(
            model,
            data.to(device, next(model.parameters()).dtype),
            k,
            conv,
            cfg.validation.low_rank_rank,
            cfg.data.regime if cfg.data.source == "synthetic" else None,
        )
        shooting[name] = state["summary"]["shooting"]
        convergence[name] = conv
        log.info(
            "held out c = %.4g (%s, %s): %s; strongest by inner LOO: %s",
            result["concentration"],
            result["kind"],
            "converged" if conv["converged"] else "NOT converged",
            ", ".join(f"{m} {result['scores'][m]['mse']:.2e}" for m in METHODS),
            result["strongest"]["method"],
        )
        results[result["kind"]].append(result)
    summaries = {kind: summarise(results[kind], kind) for kind in KINDS}
    for kind in KINDS:
        log.info("%s", summaries[kind]["verdict"])
    synthetic = cfg.data.source == "synthetic"
    regime = cfg.data.regime if synthetic else f"file {cfg.data.file}"
    table = markdown_table(regime, results, summaries)
    history = {name: read_json(path) for name, path in histories.items()}
    strip = [{k: v for k, v in r.items() if k != "curves"} for kind in KINDS for r in results[kind]]
    write_json_atomic(
        out_json,
        {
            "regime": regime,
            "protocol": (
                "leave one concentration out at a time: a separate model is trained on the "
                "remaining spectra only (subset without_cK), to convergence on an inner split "
                "of them; every baseline is fitted on the same spectra, and the strongest is "
                "chosen by inner leave-one-out on them. Inner c_K (interpolation): the model "
                "carries both neighbouring spectra to c_K and predicts their mean. End c_K "
                "(extrapolation, scored apart): the model carries the nearest training "
                "spectrum; the baselines extrapolate with their end pieces"
            ),
            "noise_floor_mse": {kind: summaries[kind].get("noise_floor") for kind in KINDS},
            "methods": {
                m: {kind: summaries[kind]["mean"].get(m) for kind in KINDS} for m in METHODS
            },
            "reference": {
                "method": "physics_fit: knows the true model form (a reference, not a competitor)",
                **{kind: summaries[kind].get("reference") for kind in KINDS},
            },
            "summary": {
                kind: {k: v for k, v in summaries[kind].items() if k not in ("mean", "reference")}
                for kind in KINDS
            },
            "verdict": " ".join(summaries[kind]["verdict"] for kind in KINDS),
            "convergence": convergence,
            "held_out": strip,
            "shooting_during_training": shooting,
        },
    )
    write_text_atomic(out_table, table)
    cpu_w = data.wavelengths.cpu().double().numpy()
    ordered = [r for kind in KINDS for r in results[kind]]
    plot_held_out(out_plot, cpu_w, ordered, summaries)
    plot_methods(out_methods_plot, summaries, title=f"Study S, regime {regime}")
    plot_loss_curves(out_loss_plot, history)


def regimes_job(metrics: Mapping[str, str], out_table: str, out_plot: str) -> None:
    """One table and one figure comparing the regimes' validation means, method by method."""
    from zetalab.spectral.plots import plot_regimes
    from zetalab.spectral.validate import regimes_table

    loaded = {regime: read_json(path) for regime, path in metrics.items()}
    write_text_atomic(out_table, regimes_table(loaded))
    plot_regimes(out_plot, loaded)


def benchmark_job(cfg: SpectralConfig, spectra_path: str, model_path: str, out_json, out_table):
    from zetalab.spectral.benchmark import benchmark, table
    from zetalab.spectral.train import load_model

    device = setup_device(cfg.device)
    model, _ = load_model(model_path, device)
    data = load_data(cfg, spectra_path, device)
    result = benchmark(model, data, cfg, device)
    text = table(result)
    log.info("\n%s", text)
    print(text)
    write_json_atomic(out_json, result)
    write_text_atomic(out_table, text)


def export_job(cfg: SpectralConfig, spectra_path, model_path, ts_path, onnx_path, manifest_path):
    from zetalab.spectral.export import export_all
    from zetalab.spectral.train import load_model

    model, _ = load_model(model_path, torch.device("cpu"))
    data = load_data(cfg, spectra_path, torch.device("cpu"))
    manifest = export_all(
        model, data, Path(ts_path), Path(onnx_path) if onnx_path else None, cfg.export.opset
    )
    if not onnx_path:
        manifest["onnx"] = "not requested (spectral.export.onnx: false)"
    write_json_atomic(manifest_path, manifest)
