"""Device set-up (seed cell 1): everything stays on one device, chosen once.

On CUDA the seed's performance flags are applied (TF32, cuDNN benchmark, non-deterministic
algorithms allowed, a per-process memory cap); on CPU the same call is a no-op apart from
choosing the device, so the code path is identical in tests and on a GPU.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from zetalab.cloud.gpu import require_cuda_if_allocated
from zetalab.errors import ZetalabError
from zetalab.spectral.config import DeviceConfig

log = logging.getLogger(__name__)


def setup_device(cfg: DeviceConfig) -> torch.device:
    """Pick the device and, on CUDA, apply the performance flags."""
    require_cuda_if_allocated(cfg.kind)  # a job given a GPU never falls back to the CPU
    has_cuda = torch.cuda.is_available()
    if cfg.kind == "cuda" and not has_cuda:
        raise ZetalabError(
            "spectral.device.kind is 'cuda' but no CUDA GPU is visible to torch",
            "set spectral.device.kind to auto or cpu, or run on a GPU machine",
        )
    use_cuda = has_cuda and cfg.kind in ("auto", "cuda")
    if not use_cuda:
        log.info("device: cpu (%d threads)", torch.get_num_threads())
        return torch.device("cpu")
    device = torch.device("cuda", torch.cuda.current_device())
    torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
    torch.backends.cudnn.allow_tf32 = cfg.tf32
    torch.backends.cudnn.benchmark = cfg.cudnn_benchmark
    torch.use_deterministic_algorithms(False)
    torch.cuda.set_per_process_memory_fraction(cfg.memory_fraction, device)
    log.info(
        "device: %s (%s), %d GPU(s) visible, tf32=%s, cudnn.benchmark=%s, memory fraction %.2f",
        device,
        torch.cuda.get_device_name(device),
        torch.cuda.device_count(),
        cfg.tf32,
        cfg.cudnn_benchmark,
        cfg.memory_fraction,
    )
    return device


def device_description(device: torch.device) -> dict[str, Any]:
    """What the figures were measured on, for the JSON outputs."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return {
            "type": "cuda",
            "name": props.name,
            "memory_gib": round(props.total_memory / 2**30, 1),
            "torch": torch.__version__,
        }
    return {"type": "cpu", "threads": torch.get_num_threads(), "torch": torch.__version__}


def torch_dtype(name: str) -> torch.dtype:
    return {"float32": torch.float32, "float64": torch.float64}[name]
