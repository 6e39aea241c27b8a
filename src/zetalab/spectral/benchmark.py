"""Throughput figures (seed cell 11): samples/s, ODE solves/s, gradient steps/s, epoch time.

A full-grid epoch (every ordered transition x every wavelength, the seed's definition) is timed
with the training configuration's batch sizes on whatever device is present, after warm-up
steps, on a copy of the trained model (the trained weights are not changed). Inference is timed
as no-grad forward passes over the full grid. On CUDA the seed's A100 targets are checked; on a
CPU they are reported as not measured rather than compared.
"""

from __future__ import annotations

import copy
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
    seconds = sum(e["seconds"] for e in epochs)
    samples = sum(e["samples"] for e in epochs)
    train_fig = {
        "epoch_seconds": seconds / len(epochs),
        "samples_per_epoch": epochs[0]["samples"],
        "samples_per_s": samples / seconds,
        "ode_solves_per_s": sum(e["ode_solves"] for e in epochs) / seconds,
        "grad_steps_per_s": sum(e["grad_steps"] for e in epochs) / seconds,
        "epochs_500_minutes": 500 * seconds / len(epochs) / 60.0,
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

    rows = [
        ("training samples/s", f"{t['samples_per_s']:.0f}", "> " + target("samples_per_s")),
        ("ODE solves/s (training)", f"{t['ode_solves_per_s']:.0f}", ""),
        ("gradient steps/s", f"{t['grad_steps_per_s']:.2f}", ""),
        (
            f"full-grid epoch ({t['samples_per_epoch']} samples), s",
            f"{t['epoch_seconds']:.2f}",
            "< " + target("epoch_seconds"),
        ),
        (
            "500 epochs, min (projected)",
            f"{t['epochs_500_minutes']:.1f}",
            "< " + target("epochs_500_minutes"),
        ),
        ("inference samples/s (no grad)", f"{inf['samples_per_s']:.0f}", ""),
    ]
    lines = [
        f"Device: {where} (torch {dev['torch']})",
        "",
        "| figure | measured | seed target (A100) |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"
