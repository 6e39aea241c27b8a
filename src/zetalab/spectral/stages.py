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
    save_spectra,
)
from zetalab.spectral.device import device_description, setup_device, torch_dtype

log = logging.getLogger("zetalab.spectral")


def use_threads(threads: int | None) -> None:
    """Cap torch's intra-op threads at the rule's `threads:` (torch would take every core)."""
    if threads:
        torch.set_num_threads(threads)


def config_from(section: Mapping[str, Any]) -> SpectralConfig:
    return SpectralConfig.from_mapping(section)


def run_data(cfg: SpectralConfig, spectra_path: str, plot_path: str, manifest_path: str) -> None:
    from zetalab.spectral.plots import plot_spectra

    device = setup_device(cfg.device)
    data = make_spectra(cfg.data, cfg.seed, device, torch_dtype(cfg.dtype))
    fraction = non_monotonic_fraction(data)
    log.info(
        "%d spectra x %d wavelengths generated on %s; %.0f%% of wavelengths non-monotonic in c",
        data.n_concentrations,
        data.n_wavelengths,
        device,
        100 * fraction,
    )
    save_spectra(spectra_path, data)
    cpu = data.to(torch.device("cpu"), torch.float64)
    plot_spectra(
        plot_path, cpu.concentrations.tolist(), cpu.wavelengths.numpy(), cpu.spectra.numpy()
    )
    write_json_atomic(
        manifest_path,
        {
            "source": cfg.data.source,
            "seed": cfg.seed,
            "generated_on": device_description(device),
            "concentrations": cpu.concentrations.tolist(),
            "n_wavelengths": data.n_wavelengths,
            "wavelength_range": [float(cpu.wavelengths[0]), float(cpu.wavelengths[-1])],
            "non_monotonic_fraction": fraction,
        },
    )


def subset_indices(subset: str, n_concentrations: int) -> list[int]:
    """``all`` or ``without_c{k}`` -> the concentration indices that model trains on."""
    from zetalab.spectral.plan import held_out_indices
    from zetalab.spectral.validate import training_indices

    if subset == "all":
        return list(range(n_concentrations))
    if not subset.startswith("without_c") or not subset[len("without_c") :].isdigit():
        raise ZetalabError(f"unknown training subset {subset!r}", "use all or without_c<index>")
    k = int(subset[len("without_c") :])
    held_out_indices(n_concentrations, [k])
    return training_indices(n_concentrations, k)


def load_data(cfg: SpectralConfig, path: str, device: torch.device) -> Spectra:
    return load_spectra(path, device, torch_dtype(cfg.dtype))


def run_train(
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
    data = load_data(cfg, spectra_path, device)
    keep = subset_indices(subset, data.n_concentrations)
    data = data.subset(keep)
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
    save_model(model_path, outcome, cfg, data)
    write_json_atomic(history_path, {"summary": outcome.summary, "history": outcome.history})


def run_validate(
    cfg: SpectralConfig,
    spectra_path: str,
    models: Mapping[int, str],
    histories: Mapping[str, str],
    out_json: str,
    out_table: str,
    out_plot: str,
    out_loss_plot: str,
) -> None:
    from zetalab.spectral.plots import plot_held_out, plot_loss_curves
    from zetalab.spectral.train import load_model
    from zetalab.spectral.validate import evaluate_held_out, markdown_table, summarise

    device = setup_device(cfg.device)
    data = load_data(cfg, spectra_path, device)
    results = []
    shooting = {}
    for k, path in sorted(models.items()):
        model, state = load_model(path, device)
        if state["n_wavelengths"] != data.n_wavelengths:
            raise ZetalabError(
                f"{path} was trained on {state['n_wavelengths']} wavelengths, the data has "
                f"{data.n_wavelengths}",
                "rerun spectral_train (delete the stale model)",
            )
        result = evaluate_held_out(model, data.to(device, next(model.parameters()).dtype), k)
        shooting[f"without_c{k}"] = state["summary"]["shooting"]
        log.info(
            "held out c = %.4g: NODE MSE %.3e, linear MSE %.3e -> %s",
            result["concentration"],
            result["model"]["mse"],
            result["linear"]["mse"],
            result["winner"],
        )
        results.append(result)
    summary = summarise(results)
    log.info("%s", summary["verdict"])
    table = markdown_table(results, summary)
    history = {name: read_json(path)["history"] for name, path in histories.items()}
    write_json_atomic(
        out_json,
        {
            "protocol": (
                "leave one inner concentration out at a time: a separate model is trained on "
                "the remaining spectra only (subset without_cK) and carries both neighbouring "
                "spectra to c_K; the prediction is the mean of the two; baseline: linear "
                "interpolation between the same neighbours"
            ),
            "summary": summary,
            "held_out": [{k: v for k, v in r.items() if k != "curves"} for r in results],
            "shooting_during_training": shooting,
        },
    )
    write_text_atomic(out_table, table)
    cpu_w = data.wavelengths.cpu().double().numpy()
    plot_held_out(out_plot, cpu_w, results)
    plot_loss_curves(out_loss_plot, history)


def run_benchmark(cfg: SpectralConfig, spectra_path: str, model_path: str, out_json, out_table):
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


def run_export(cfg: SpectralConfig, spectra_path, model_path, ts_path, onnx_path, manifest_path):
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
