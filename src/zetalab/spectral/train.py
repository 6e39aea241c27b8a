"""Training over all ordered concentration transitions (seed cells 8 and 9), to convergence.

One sample is one (transition i -> j, wavelength) pair: the model carries A(c_i, lambda) to c_j
and is scored against A(c_j, lambda). A seeded share of the training (spectrum, wavelength)
cells (``train.inner_fraction``) is the inner split: transitions that end in those cells never
enter a gradient; their loss drives a reduce-on-plateau learning-rate schedule and the stopping
rule, and the model kept is the one of the best epoch on it. The held-out spectrum of a
leave-one-out model is not in the data at all, so neither rule ever sees it. A run that stops
by the patience rule is ``converged``; one that reaches ``train.epochs`` is not.

Each epoch shuffles the training samples on the device and takes one optimiser step per
mega-batch, accumulating gradients over micro-batches. The metric and the flow network have
separate Adam optimisers (the metric moves the geometry, so it gets a smaller learning rate),
both clipped, both scaled by the schedule. On CUDA the forward runs under autocast with a
GradScaler; on CPU in full precision. Checkpoints hold both optimisers, the scaler, the
schedule and the best state, so a rerun resumes where it stopped (and raising ``epochs``
continues a run that hit the cap).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zetalab.checkpoint import load_checkpoint, save_checkpoint
from zetalab.errors import ZetalabError
from zetalab.io import atomic_path, damaged
from zetalab.spectral.christoffel import compare_christoffel
from zetalab.spectral.config import SpectralConfig
from zetalab.spectral.data import Spectra, ordered_transitions
from zetalab.spectral.model import GeodesicSpectralNODE, build_model
from zetalab.spectral.plan import check_patience
from zetalab.spectral.shooting import ShootingMonitor

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Batch:
    c_from: torch.Tensor
    c_to: torch.Tensor
    a_from: torch.Tensor
    a_to: torch.Tensor
    idx: torch.Tensor


def inner_cells(n_concentrations: int, n_wavelengths: int, fraction: float, seed: int, device):
    """Boolean (C, W) mask of the inner split's target cells, seeded, about `fraction` of them.

    Cells, not samples: a cell's noisy value is then never a training target, so the inner loss
    measures what the model does on noise it has not fitted. Every wavelength keeps at least one
    training cell (so every wavelength embedding is trained).
    """
    gen = torch.Generator(device="cpu").manual_seed(seed * 7_919 + 17)
    mask = torch.rand((n_concentrations, n_wavelengths), generator=gen) < fraction
    full = mask.all(dim=0)
    mask[0, full] = False
    return mask.to(device)


class TransitionSampler:
    """All (transition, wavelength) samples of the data, kept and indexed on the device.

    With an ``inner`` mask (C, W), samples whose target cell is in it form the inner split
    (``inner_pairs``) and are left out of ``epoch_order``.
    """

    def __init__(self, data: Spectra, inner: torch.Tensor | None = None):
        self.data = data
        self.device = data.spectra.device
        self.transitions = ordered_transitions(data.n_concentrations, self.device)
        t = torch.arange(self.n_transitions, device=self.device)
        pairs = torch.cartesian_prod(t, torch.arange(data.n_wavelengths, device=self.device))
        if inner is None:
            self.train_pairs, self.inner_pairs = pairs, pairs[:0]
        else:
            held = inner[self.transitions[pairs[:, 0], 1], pairs[:, 1]]
            self.train_pairs, self.inner_pairs = pairs[~held], pairs[held]

    @property
    def n_transitions(self) -> int:
        return int(self.transitions.shape[0])

    def epoch_order(self, seed: int, epoch: int, wavelengths: int | None) -> torch.Tensor:
        """Shuffled training (transition, wavelength) pairs as a (N, 2) index tensor.

        The generator is seeded by (seed, epoch), so a resumed run sees the same batches as an
        uninterrupted one. With `wavelengths`, only the pairs of that many random wavelengths.
        """
        gen = torch.Generator(device=self.device).manual_seed(seed * 1_000_003 + epoch)
        n_wl = self.data.n_wavelengths
        pairs = self.train_pairs
        if wavelengths is not None and wavelengths < n_wl:
            wl = torch.randperm(n_wl, generator=gen, device=self.device)[:wavelengths]
            chosen = torch.zeros(n_wl, dtype=torch.bool, device=self.device)
            chosen[wl] = True
            pairs = pairs[chosen[pairs[:, 1]]]
        order = torch.randperm(pairs.shape[0], generator=gen, device=self.device)
        return pairs[order]

    def batch(self, pairs: torch.Tensor) -> Batch:
        ij = self.transitions[pairs[:, 0]]
        wl = pairs[:, 1]
        c, s = self.data.concentrations, self.data.spectra
        return Batch(c[ij[:, 0]], c[ij[:, 1]], s[ij[:, 0], wl], s[ij[:, 1], wl], wl)


@dataclasses.dataclass
class Optimisers:
    metric: torch.optim.Optimizer
    flow: torch.optim.Optimizer
    scaler: torch.amp.GradScaler

    def state_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric.state_dict(),
            "flow": self.flow.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.metric.load_state_dict(state["metric"])
        self.flow.load_state_dict(state["flow"])
        self.scaler.load_state_dict(state["scaler"])


def amp_settings(cfg: SpectralConfig, device: torch.device) -> tuple[bool, torch.dtype]:
    """Mixed precision only on CUDA: CPU autocast would slow these tiny layers down."""
    dtype = torch.float16 if cfg.train.amp_dtype == "float16" else torch.bfloat16
    return cfg.train.amp and device.type == "cuda", dtype


def make_optimisers(model: GeodesicSpectralNODE, cfg: SpectralConfig, device) -> Optimisers:
    use_amp, amp_dtype = amp_settings(cfg, device)
    return Optimisers(
        metric=torch.optim.Adam(model.metric.parameters(), lr=cfg.train.lr_metric),
        flow=torch.optim.Adam(model.flow.parameters(), lr=cfg.train.lr_flow),
        # float16 needs loss scaling; bfloat16 has float32's range and does not.
        scaler=torch.amp.GradScaler(
            device.type,
            init_scale=2.0**16,
            backoff_factor=0.5,
            enabled=use_amp and amp_dtype == torch.float16,
        ),
    )


def fingerprint(cfg: SpectralConfig, data: Spectra) -> str:
    """What a checkpoint must match to be resumed: everything but the number of epochs."""
    settings = cfg.to_dict()
    settings["train"] = {k: v for k, v in settings["train"].items() if k != "epochs"}
    settings.pop("benchmark"), settings.pop("export"), settings.pop("validation")
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for tensor in (data.concentrations, data.wavelengths, data.spectra):
        digest.update(tensor.detach().cpu().double().numpy().tobytes())
    return digest.hexdigest()[:16]


@dataclasses.dataclass
class TrainOutcome:
    model: GeodesicSpectralNODE
    history: list[dict[str, Any]]
    summary: dict[str, Any]
    # best_epoch, kept_epoch, epochs_run, converged, final_loss, ...: history.json's top level
    convergence: dict[str, Any] = dataclasses.field(default_factory=dict)


def new_model(cfg: SpectralConfig, n_wavelengths: int, device: torch.device):
    torch.manual_seed(cfg.seed)
    return build_model(cfg, n_wavelengths, device)


def christoffel_check(model: GeodesicSpectralNODE, data: Spectra, eps: float) -> dict:
    """FD against autograd Gamma on the data's concentration range at every wavelength."""
    c_lo, c_hi = float(data.concentrations[0]), float(data.concentrations[-1])
    c = torch.linspace(c_lo, c_hi, 5, device=data.spectra.device, dtype=data.spectra.dtype)
    idx = torch.arange(data.n_wavelengths, device=c.device)
    grid_c = c.repeat_interleave(idx.numel())
    return compare_christoffel(model.metric, grid_c, idx.repeat(c.numel()), eps)


def optimiser_step(
    model: GeodesicSpectralNODE,
    opt: Optimisers,
    sampler: TransitionSampler,
    mega: torch.Tensor,
    cfg: SpectralConfig,
    device: torch.device,
    after_micro: Callable[[torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """One step of both optimisers on a mega-batch, gradients accumulated over micro-batches.

    Shared by training and the throughput benchmark, so the benchmark times exactly the step
    that training takes. Returns the mega-batch's summed loss on the device (no sync);
    ``after_micro`` gets each micro-batch's shooting residuals.
    """
    use_amp, amp_dtype = amp_settings(cfg, device)
    opt.metric.zero_grad(set_to_none=True)
    opt.flow.zero_grad(set_to_none=True)
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    for micro in mega.split(cfg.train.micro_batch):
        b = sampler.batch(micro)
        autocast = (
            torch.autocast(device.type, dtype=amp_dtype) if use_amp else contextlib.nullcontext()
        )
        with autocast:
            pred, residual = model(b.c_from, b.c_to, b.a_from, b.idx)
            loss = nn.functional.mse_loss(pred.float(), b.a_to.float())
        opt.scaler.scale(loss * (micro.shape[0] / mega.shape[0])).backward()
        loss_sum += loss.detach().double() * micro.shape[0]
        if after_micro is not None:
            after_micro(residual)
    opt.scaler.unscale_(opt.metric)
    opt.scaler.unscale_(opt.flow)
    nn.utils.clip_grad_norm_(model.metric.parameters(), cfg.train.clip_norm)
    nn.utils.clip_grad_norm_(model.flow.parameters(), cfg.train.clip_norm)
    opt.scaler.step(opt.metric)
    opt.scaler.step(opt.flow)
    opt.scaler.update()
    return loss_sum


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work, so wall-clock timings cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


SMOOTHING = 0.3  # weight of the newest epoch in the smoothed inner loss the rules act on


@dataclasses.dataclass
class Schedule:
    """Reduce-on-plateau learning rates and the patience stopping rule, on the inner loss.

    Both rules act on the inner loss smoothed over epochs (an exponential moving average,
    weight ``SMOOTHING`` on the newest), because the raw inner loss scatters by ~10 % from epoch
    to epoch: compared with its raw best, one lucky epoch early on a slow plateau cut the rate
    three times and stopped runs at 3.7e-4 that, smoothed, were still improving by ~1 % an epoch.
    An epoch improves when the smoothed loss falls below its best by the relative
    ``min_delta``; ``stale`` counts epochs since the last such improvement (the stopping rule),
    ``since_cut`` epochs since the last improvement or rate cut (the schedule). The model kept
    is the epoch with the lowest raw inner loss (``best_epoch``).
    """

    scale: float = 1.0
    smooth: float = float("inf")
    best_smooth: float = float("inf")
    improved_epoch: int = 0
    best: float = float("inf")
    best_epoch: int = 0
    stale: int = 0
    since_cut: int = 0
    stopped: bool = False

    def update(self, loss: float, epoch: int, tc) -> tuple[bool, bool]:
        """Record one epoch's inner loss; returns (new best raw loss, rate was cut)."""
        first = self.smooth == float("inf")
        self.smooth = loss if first else SMOOTHING * loss + (1.0 - SMOOTHING) * self.smooth
        best = loss < self.best
        if best:
            self.best, self.best_epoch = loss, epoch
        cut = False
        if self.smooth < self.best_smooth * (1.0 - tc.min_delta):
            self.best_smooth, self.improved_epoch = self.smooth, epoch
            self.stale, self.since_cut = 0, 0
        else:
            self.stale += 1
            self.since_cut += 1
            if self.since_cut >= tc.lr_patience:
                self.scale *= tc.lr_factor
                self.since_cut = 0
                cut = True
        self.stopped = self.stale >= tc.patience
        return best, cut


def set_learning_rates(opt: Optimisers, cfg: SpectralConfig, scale: float) -> None:
    for group in opt.metric.param_groups:
        group["lr"] = cfg.train.lr_metric * scale
    for group in opt.flow.param_groups:
        group["lr"] = cfg.train.lr_flow * scale


@torch.no_grad()
def inner_loss(model: GeodesicSpectralNODE, sampler: TransitionSampler, chunk: int) -> float:
    """Mean squared error over the inner split's samples (no gradient, full precision)."""
    pairs = sampler.inner_pairs
    if not pairs.shape[0]:
        return float("nan")
    total = torch.zeros((), dtype=torch.float64, device=pairs.device)
    for part in pairs.split(chunk):
        b = sampler.batch(part)
        pred, _ = model(b.c_from, b.c_to, b.a_from, b.idx)
        total += ((pred.double() - b.a_to.double()) ** 2).sum()
    return float(total) / int(pairs.shape[0])


def train(
    cfg: SpectralConfig,
    data: Spectra,
    device: torch.device,
    checkpoint: Path | None = None,
    profile_trace: Path | None = None,
) -> TrainOutcome:
    """Train (or resume) a model on every ordered transition of `data`, to convergence."""
    tc = cfg.train
    if tc.micro_batch > tc.mega_batch:
        raise ZetalabError(
            f"spectral.train.micro_batch = {tc.micro_batch} exceeds mega_batch = {tc.mega_batch}",
            "make micro_batch at most mega_batch (gradients accumulate micro -> mega)",
        )
    check_patience(tc)
    model = new_model(cfg, data.n_wavelengths, device)
    opt = make_optimisers(model, cfg, device)
    use_amp, amp_dtype = amp_settings(cfg, device)
    inner = inner_cells(
        data.n_concentrations, data.n_wavelengths, tc.inner_fraction, cfg.seed, device
    )
    sampler = TransitionSampler(data, inner)
    monitor = ShootingMonitor(cfg.shooting.tol)
    key = fingerprint(cfg, data)
    history: list[dict[str, Any]] = []
    schedule = Schedule()
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    start_epoch = 0
    state = load_checkpoint(checkpoint, device) if checkpoint else None
    if state is not None and state["fingerprint"] == key:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimisers"])
        history = state["history"]
        start_epoch = state["epoch"]
        schedule = Schedule(**state["schedule"])
        best_state = state["best_model"]
        log.info("resuming from %s after epoch %d", checkpoint, start_epoch)
    elif state is not None:
        log.warning("checkpoint %s is for other settings or data; training afresh", checkpoint)
    check_before = christoffel_check(model, data, cfg.solver.fd_eps)
    log.info(
        "Christoffel symbols, FD vs autograd at %d points: max rel diff %.2e (max |Gamma| %.3g)",
        check_before["points"],
        check_before["max_rel_diff"],
        check_before["max_abs_gamma"],
    )
    log.info(
        "training on %d concentrations = %d ordered transitions, %d wavelengths: %d training "
        "samples, %d inner samples (%.0f%% of the cells); epochs %d..%d at most, patience %d, "
        "lr x%g after %d flat epochs, mega-batch %d, micro-batch %d, device %s, amp %s",
        data.n_concentrations,
        sampler.n_transitions,
        data.n_wavelengths,
        sampler.train_pairs.shape[0],
        sampler.inner_pairs.shape[0],
        100 * float(inner.double().mean()),
        start_epoch + 1,
        tc.epochs,
        tc.patience,
        tc.lr_factor,
        tc.lr_patience,
        tc.mega_batch,
        tc.micro_batch,
        device,
        f"{amp_dtype}".replace("torch.", "") if use_amp else "off",
    )
    profiler = _start_profiler(device) if tc.profile and profile_trace else None
    profiled_steps = 0
    last_good = _snapshot(key, start_epoch, model, opt, history, schedule, best_state)

    def after_micro(residual: torch.Tensor) -> None:
        nonlocal profiler, profiled_steps
        monitor.add(residual)
        if profiler is not None:
            profiler.step()
            profiled_steps += 1
            if profiled_steps >= tc.profile_steps:
                _stop_profiler(profiler, profile_trace)
                profiler = None

    epoch = start_epoch
    for epoch in range(start_epoch + 1, tc.epochs + 1):
        if schedule.stopped:
            epoch -= 1
            break
        model.train()
        set_learning_rates(opt, cfg, schedule.scale)
        sync(device)
        started = time.perf_counter()
        solves_before = model.ode_solves
        order = sampler.epoch_order(cfg.seed, epoch, tc.wavelengths_per_epoch)
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        steps = 0
        for mega in order.split(tc.mega_batch):
            loss_sum += optimiser_step(model, opt, sampler, mega, cfg, device, after_micro)
            steps += 1
        sync(device)
        seconds = time.perf_counter() - started
        n = int(order.shape[0])
        shots = monitor.flush(f"epoch {epoch}")
        if not torch.isfinite(loss_sum):
            _stop_on_nan(float(loss_sum), epoch, last_good, checkpoint)
        model.eval()
        held = inner_loss(model, sampler, max(tc.micro_batch, 4096))
        if held != held:  # no inner split (tiny data): the training loss decides
            held = float(loss_sum) / n
        lr_scale = schedule.scale
        improved, cut = schedule.update(held, epoch, tc)
        if improved:
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        record = {
            "epoch": epoch,
            "loss": float(loss_sum) / n,
            "inner_loss": held,
            "inner_loss_smoothed": schedule.smooth,
            "lr_scale": lr_scale,
            "seconds": seconds,
            "samples": n,
            "samples_per_s": n / seconds,
            "ode_solves_per_s": (model.ode_solves - solves_before) / seconds,
            "grad_steps_per_s": steps / seconds,
            "shooting_missed": shots["missed"],
            "shooting_worst_residual": shots["worst_residual"],
        }
        history.append(record)
        log.info(
            "epoch %3d/%d  loss %.3e  inner %.3e%s  lr x%.3g%s  %.2f s  %.0f samples/s  "
            "shooting misses %d (worst %.1e)",
            epoch,
            tc.epochs,
            record["loss"],
            held,
            " *" if improved else "",
            lr_scale,
            " (cut)" if cut else "",
            seconds,
            record["samples_per_s"],
            shots["missed"],
            shots["worst_residual"],
        )
        done = schedule.stopped or epoch == tc.epochs
        if checkpoint is not None and (epoch % tc.checkpoint_every == 0 or done):
            save_checkpoint(
                checkpoint, _snapshot(key, epoch, model, opt, history, schedule, best_state)
            )
        last_good = _snapshot(key, epoch, model, opt, history, schedule, best_state)
        if schedule.stopped:
            log.info(
                "converged: no %.1g relative improvement of the smoothed inner loss for %d "
                "epochs (last at epoch %d); keeping epoch %d (inner loss %.3e)",
                tc.min_delta,
                tc.patience,
                schedule.improved_epoch,
                schedule.best_epoch,
                schedule.best,
            )
            break
    if profiler is not None:
        _stop_profiler(profiler, profile_trace)
    if not schedule.stopped:
        log.warning(
            "not converged: reached spectral.train.epochs = %d with the inner loss still "
            "improving within the last %d epochs; keeping its best epoch %d",
            tc.epochs,
            tc.patience,
            schedule.best_epoch,
        )
    if schedule.best_epoch:
        model.load_state_dict(best_state)
    model.eval()
    check_after = christoffel_check(model, data, cfg.solver.fd_eps)
    kept = history[schedule.best_epoch - 1] if schedule.best_epoch else {}
    convergence = {
        "best_epoch": schedule.best_epoch,
        "kept_epoch": schedule.best_epoch,
        "epochs_run": len(history),
        "converged": schedule.stopped,
        "final_loss": history[-1]["loss"] if history else None,
        "kept_loss": kept.get("loss"),
        "kept_inner_loss": kept.get("inner_loss"),
        "final_lr_scale": schedule.scale,
        "last_improvement_epoch": schedule.improved_epoch,
        "inner_samples": int(sampler.inner_pairs.shape[0]),
        "stopping_rule": (
            f"inner loss (a {tc.inner_fraction:g} share of the training cells, smoothed with "
            f"weight {SMOOTHING:g} on the newest epoch) without a {tc.min_delta:g} relative "
            f"improvement for {tc.patience} epochs; learning rates x{tc.lr_factor:g} after "
            f"{tc.lr_patience} flat epochs; cap {tc.epochs} epochs; kept: the lowest raw inner "
            "loss"
        ),
    }
    summary = {
        "fingerprint": key,
        "epochs": tc.epochs,
        "resumed_after_epoch": start_epoch,
        "final_loss": convergence["final_loss"],
        "christoffel_fd_vs_autograd": {"initial": check_before, "trained": check_after},
        "shooting": monitor.summary(),
        "device": str(device),
        "amp": use_amp,
    }
    return TrainOutcome(model, history, summary, convergence)


def _snapshot(
    key: str,
    epoch: int,
    model: nn.Module,
    opt: Optimisers,
    history: list,
    schedule: Schedule,
    best_state: dict[str, torch.Tensor],
) -> dict:
    """A copy of the training state after `epoch` (to checkpoint, or keep if a later epoch
    turns NaN): weights, optimisers, history, the schedule and the best epoch's weights."""
    return {
        "fingerprint": key,
        "epoch": epoch,
        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "optimisers": copy.deepcopy(opt.state_dict()),
        "history": copy.deepcopy(history),
        "schedule": dataclasses.asdict(schedule),
        "best_model": {k: v.detach().clone() for k, v in best_state.items()},
    }


def _stop_on_nan(loss: float, epoch: int, last_good: dict, checkpoint: Path | None) -> None:
    """Stop a run whose loss is no longer finite; keep the last good state, never a NaN one.

    As in Study Z: the weights after a NaN loss are garbage, so they are not saved; the state of
    the last finite epoch goes to the checkpoint (nothing computed before the NaN is lost).
    """
    good = last_good["epoch"]
    kept = "no checkpoint was requested"
    if checkpoint is not None and good > 0:
        save_checkpoint(checkpoint, last_good)
        kept = f"the last good state (epoch {good}) is kept in {checkpoint}"
    elif checkpoint is not None:
        kept = f"no epoch finished with a finite loss, so {checkpoint} is left as it was"
    raise ZetalabError(
        f"Study S training stopped: the loss became {loss} in epoch {epoch}; {kept}",
        "lower spectral.train.lr_flow / lr_metric, raise spectral.shooting.max_steps, or use "
        "spectral.dtype: float64 (a checkpoint of other settings is not resumed)",
    )


def _start_profiler(device: torch.device) -> torch.profiler.profile:
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    profiler = torch.profiler.profile(activities=activities, record_shapes=True)
    profiler.start()
    return profiler


def _stop_profiler(profiler: torch.profiler.profile, path: Path | None) -> None:
    profiler.stop()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        profiler.export_chrome_trace(str(path))
        log.info("profiler trace written to %s", path)
    log.info(
        "profile (top 10 by self CPU time):\n%s",
        profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=10),
    )


def save_model(path: str | Path, outcome: TrainOutcome, cfg: SpectralConfig, data: Spectra):
    """The trained weights with everything needed to rebuild the model without the config file."""
    state = {
        "config": cfg.to_dict(),
        "n_wavelengths": data.n_wavelengths,
        "concentrations": data.concentrations.cpu(),
        "wavelengths": data.wavelengths.cpu(),
        "model": {k: v.cpu() for k, v in outcome.model.state_dict().items()},
        "summary": outcome.summary,
        "convergence": outcome.convergence,
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_model(path: str | Path, device: torch.device) -> tuple[GeodesicSpectralNODE, dict]:
    """The model saved by save_model; loads with weights_only=True (plain data and tensors)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # missing, truncated, corrupt, or not a model file
        raise damaged(path, exc) from exc
    model = build_model(SpectralConfig.load(state["config"]), state["n_wavelengths"], device)
    model.load_state_dict(state["model"])
    model.eval()
    return model, state
