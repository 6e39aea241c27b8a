"""Throughput figures (seed cell 11): samples/s, ODE solves/s, gradient steps/s, epoch time.

A full-grid epoch (every ordered transition x every wavelength, the seed's definition) is timed
with the training configuration's batch sizes on whatever device is present, after warm-up
steps, on a copy of the trained model (the trained weights are not changed), over
``benchmark.epochs`` epochs: the figures are the median with the min-max spread, never one
timed epoch. Inference is timed as no-grad forward passes over the full grid. On CUDA the
seed's A100 targets are checked; on a CPU they are reported as not measured rather than
compared (a CPU figure says what this machine reaches, not whether an A100 would).

``SEED_SETTINGS`` is the configuration the seed's targets were written for (dopri5 with the
adjoint, 10 Newton steps, mega-batches of 2048 in micro-batches of 256, the 601-wavelength
grid); benchmarks/spectral.py --preset seed times it beside the default, so that a comparison
with the targets compares like with like.
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any

import torch

from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import Spectra
from zetalab.spectral.device import device_description
from zetalab.spectral.model import GeodesicSpectralNODE
from zetalab.spectral.train import (
    TransitionSampler,
    amp_settings,
    make_optimisers,
    optimiser_step,
    sync,
)

SEED_TARGETS = {"samples_per_s": 6000.0, "epoch_seconds": 3.0, "epochs_500_minutes": 30.0}
# The seed's cells 2 and 6: its solver, adjoint, Newton steps, batch sizes and grid.
SEED_SETTINGS = {
    "data": {"n_wavelengths": 601},
    "solver": {"method": "dopri5", "adjoint": True, "rtol": 1e-5, "atol": 1e-7, "max_steps": 20},
    "shooting": {"newton_steps": 10},
    "train": {"mega_batch": 2048, "micro_batch": 256},
}


def benchmark(
    model: GeodesicSpectralNODE, data: Spectra, cfg: SpectralConfig, device: torch.device
) -> dict[str, Any]:
    model = copy.deepcopy(model).to(device)
    model.train()
    data = data.to(device, next(model.parameters()).dtype)
    sampler = TransitionSampler(data)
    opt = make_optimisers(model, cfg, device)
    use_amp, _ = amp_settings(cfg, device)
    tc = cfg.train
    warm = sampler.epoch_order(cfg.seed, 0, None)[: 2 * tc.mega_batch]
    for mega in warm.split(tc.mega_batch):
        optimiser_step(model, opt, sampler, mega, cfg, device)
    epochs = []
    for epoch in range(1, cfg.benchmark.epochs + 1):
        order = sampler.epoch_order(cfg.seed, epoch, None)
        solves = model.ode_solves
        sync(device)
        started = time.perf_counter()
        steps = 0
        for mega in order.split(tc.mega_batch):
            optimiser_step(model, opt, sampler, mega, cfg, device)
            steps += 1
        sync(device)
        seconds = time.perf_counter() - started
        epochs.append(
            {
                "samples": int(order.shape[0]),
                "seconds": seconds,
                "grad_steps": steps,
                "ode_solves": model.ode_solves - solves,
            }
        )
    times = sorted(e["seconds"] for e in epochs)
    median = float(statistics.median(times))
    per_epoch = epochs[0]["samples"]
    train_fig = {
        "epoch_seconds": median,
        "epoch_seconds_min": times[0],
        "epoch_seconds_max": times[-1],
        "epochs_timed": len(epochs),
        "samples_per_epoch": per_epoch,
        "samples_per_s": per_epoch / median,
        "samples_per_s_min": per_epoch / times[-1],
        "samples_per_s_max": per_epoch / times[0],
        "ode_solves_per_s": epochs[0]["ode_solves"] / median,
        "grad_steps_per_s": epochs[0]["grad_steps"] / median,
        "epochs_500_minutes": 500 * median / 60.0,
    }
    inference = _inference(model, data, cfg.benchmark.inference_repeats, device)
    return {
        "device": device_description(device),
        "settings": {
            "mega_batch": tc.mega_batch,
            "micro_batch": tc.micro_batch,
            "method": cfg.solver.method,
            "steps": cfg.solver.steps,
            "adjoint": cfg.solver.adjoint,
            "christoffel": cfg.solver.christoffel,
            "newton_steps": cfg.shooting.newton_steps,
            "dopri5_max_steps": cfg.solver.max_steps if cfg.solver.method == "dopri5" else None,
            "shooting_steps": cfg.shooting.steps,
            "amp": use_amp,
            "epochs_timed": len(epochs),
            "transitions": sampler.n_transitions,
            "wavelengths": data.n_wavelengths,
        },
        "train": train_fig,
        "inference": inference,
        "seed_targets": _targets(train_fig, device),
    }


@torch.no_grad()
def _inference(model, data: Spectra, repeats: int, device) -> dict[str, float]:
    model.eval()
    sampler = TransitionSampler(data)
    b = sampler.batch(sampler.epoch_order(0, 0, None))
    model(b.c_from, b.c_to, b.a_from, b.idx)  # warm-up
    sync(device)
    started = time.perf_counter()
    for _ in range(repeats):
        model(b.c_from, b.c_to, b.a_from, b.idx)
    sync(device)
    seconds = (time.perf_counter() - started) / repeats
    return {
        "batch": int(b.idx.numel()),
        "seconds": seconds,
        "samples_per_s": b.idx.numel() / seconds,
    }


def _targets(fig: dict[str, float], device: torch.device) -> dict[str, Any]:
    if device.type != "cuda":
        return {
            name: {"target": target, "status": "not measured (no GPU; the target is for an A100)"}
            for name, target in SEED_TARGETS.items()
        }
    return {
        "samples_per_s": _verdict(fig["samples_per_s"], SEED_TARGETS["samples_per_s"], above=True),
        "epoch_seconds": _verdict(fig["epoch_seconds"], SEED_TARGETS["epoch_seconds"], above=False),
        "epochs_500_minutes": _verdict(
            fig["epochs_500_minutes"], SEED_TARGETS["epochs_500_minutes"], above=False
        ),
    }


def _verdict(value: float, target: float, above: bool) -> dict[str, Any]:
    met = value > target if above else value < target
    return {"target": target, "measured": value, "status": "met" if met else "missed"}


def table(result: dict[str, Any]) -> str:
    """Markdown table of the figures beside the seed's targets."""
    t, inf, tg = result["train"], result["inference"], result["seed_targets"]
    dev = result["device"]
    where = dev.get("name", f"CPU, {dev.get('threads')} threads")

    def target(name: str) -> str:
        entry = tg[name]
        return f"{entry['target']:g}: {entry['status']}"

    n = t.get("epochs_timed", 1)
    rows = [
        (
            f"training samples/s (median of {n} epochs; min-max)",
            f"{t['samples_per_s']:.0f} ({t.get('samples_per_s_min', t['samples_per_s']):.0f}-"
            f"{t.get('samples_per_s_max', t['samples_per_s']):.0f})",
            "> " + target("samples_per_s"),
        ),
        ("ODE solves/s (training)", f"{t['ode_solves_per_s']:.0f}", ""),
        ("gradient steps/s", f"{t['grad_steps_per_s']:.2f}", ""),
        (
            f"full-grid epoch ({t['samples_per_epoch']} samples), s (median; min-max)",
            f"{t['epoch_seconds']:.2f} ({t.get('epoch_seconds_min', t['epoch_seconds']):.2f}-"
            f"{t.get('epoch_seconds_max', t['epoch_seconds']):.2f})",
            "< " + target("epoch_seconds"),
        ),
        (
            "500 epochs, min (projected)",
            f"{t['epochs_500_minutes']:.1f}",
            "< " + target("epochs_500_minutes"),
        ),
        ("inference samples/s (no grad)", f"{inf['samples_per_s']:.0f}", ""),
    ]
    st = result["settings"]
    solver = st["method"] + (" + adjoint" if st["adjoint"] else "")
    lines = [
        f"Device: {where} (torch {dev['torch']})",
        f"Configuration: {solver}, {st['newton_steps']} Newton steps, mega-batch "
        f"{st['mega_batch']} / micro-batch {st['micro_batch']}, {st['wavelengths']} wavelengths",
        "",
        "| figure | measured | seed target (A100) |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"
