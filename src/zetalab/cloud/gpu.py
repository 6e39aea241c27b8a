"""GPU jobs on a cluster or the cloud must run on CUDA: a clear failure, never a CPU fallback.

Why: `device: auto` quietly falls back to the CPU when torch sees no GPU (a container started
without the driver, a CPU-only torch wheel, a node without the GPU it was promised). On a
laptop that is the right default; on an A100 machine billed by the hour it turns a 4-hour run
into days of single-threaded CPU training that reports nothing wrong. So a job that its
scheduler gave a GPU says so in its environment, and the device pickers
(zetalab.learning.resources.pick_device, zetalab.spectral.device.setup_device) refuse to start
without CUDA:

- Google Batch: the zetalab-batch executor exports ZETALAB_REQUIRE_CUDA=1 for every job with an
  `nvidia_gpu` resource (src/snakemake_executor_plugin_zetalab_batch);
- SLURM: a job granted GPUs (`gres`/`gpu`) gets SLURM_JOB_GPUS / SLURM_GPUS_ON_NODE and
  CUDA_VISIBLE_DEVICES from SLURM itself. The SLURM plugin's job step drops the SLURM_* GPU
  variables before its `srun` (and forbids `--export` per rule), so inside a SLURM job
  (SLURM_JOB_ID set) a CUDA_VISIBLE_DEVICES naming devices counts too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from zetalab.errors import ZetalabError

REQUIRE_CUDA_VAR = "ZETALAB_REQUIRE_CUDA"
_SLURM_GPU_VARS = ("SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS")


def cuda_requirement(environ: Mapping[str, str] | None = None) -> str | None:
    """Why this job must use CUDA (the variable that says it was given a GPU), else None."""
    env = os.environ if environ is None else environ
    if env.get(REQUIRE_CUDA_VAR, "") not in ("", "0"):
        return f"{REQUIRE_CUDA_VAR}={env[REQUIRE_CUDA_VAR]}"
    for name in _SLURM_GPU_VARS:
        if env.get(name, "") not in ("", "0"):
            return f"{name}={env[name]} (SLURM allocated a GPU)"
    devices = env.get("CUDA_VISIBLE_DEVICES", "")
    if env.get("SLURM_JOB_ID") and devices not in ("", "-1", "NoDevFiles"):
        return f"CUDA_VISIBLE_DEVICES={devices} in SLURM job {env['SLURM_JOB_ID']}"
    return None


def require_cuda_if_allocated(setting: str, environ: Mapping[str, str] | None = None) -> None:
    """Raise a ZetalabError if this job was given a GPU but torch cannot use it.

    `setting` is the device the config asks for; on a GPU job only auto and cuda are allowed.
    """
    why = cuda_requirement(environ)
    if why is None:
        return
    import torch

    if setting not in ("auto", "cuda") and not setting.startswith("cuda"):
        raise ZetalabError(
            f"this job was given a GPU ({why}) but the config asks for device {setting!r}",
            "set the device to auto or cuda, or run the rule on a CPU machine",
        )
    if not torch.cuda.is_available():
        raise ZetalabError(
            f"this job was given a GPU ({why}) but torch sees no CUDA device "
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); refusing to "
            "fall back to the CPU",
            "run the GPU worker image (built with --target gpu, see docs/cloud.md) with the "
            "NVIDIA driver installed, or on a cluster load the CUDA module and install the CUDA "
            "build of torch (README, Running on a SLURM cluster); `snakemake gpu_smoke` shows "
            "what torch sees on each GPU machine",
        )


# The GPU machines of the cloud profile: machine type -> (accelerator, vCPUs). The gpu_smoke
# target runs one job on each; profiles/gcp-batch/config.yaml reads the accelerator and the
# threads from here, and profiles/slurm mirrors the same three GPU classes as partitions.
GPU_MACHINES: dict[str, tuple[str, int]] = {
    "a2-ultragpu-1g": ("nvidia-a100-80gb", 12),  # full-batch training
    "g2-standard-8": ("nvidia-l4", 8),  # mini-batch training and sweep trials
    "a2-highgpu-1g": ("nvidia-tesla-a100", 12),  # Study S
}


# The oldest Linux driver that runs each CUDA major release (NVIDIA, "CUDA Compatibility",
# minor version compatibility: CUDA 11.x >= 450.80.02, 12.x >= 525.60.13, 13.x >= 580.65.06).
# A wheel built for CUDA 13 does not start on an R535/R570 driver, whatever torch reports.
MIN_DRIVER_FOR_CUDA: dict[int, str] = {11: "450.80.02", 12: "525.60.13", 13: "580.65.06"}
_NVRM = "/proc/driver/nvidia/version"


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def driver_problem(driver: str | None, torch_cuda: str | None) -> str | None:
    """Why this driver cannot run torch's CUDA build (None when it can, or nothing is known)."""
    if not driver or not torch_cuda:
        return None
    major = _version_tuple(torch_cuda)[0]
    needed = MIN_DRIVER_FOR_CUDA.get(major)
    if needed is None or _version_tuple(driver) >= _version_tuple(needed):
        return None
    return (
        f"NVIDIA driver {driver} is older than {needed}, the oldest that runs torch's CUDA "
        f"{torch_cuda}: build the GPU image for a CUDA the driver supports (Dockerfile ARG "
        "TORCH_CUDA, cu126 runs on drivers >= 525.60.13) or install a newer driver "
        "(docs/cloud.md, 'GPU driver and CUDA')"
    )


def _driver_version(proc_version: str = _NVRM) -> str | None:
    """The NVIDIA driver's version: nvidia-smi, else the kernel module's /proc entry."""
    import shutil
    import subprocess

    for exe in (shutil.which("nvidia-smi"), "/usr/local/nvidia/bin/nvidia-smi"):
        if exe and os.path.exists(exe):
            try:
                out = subprocess.run(
                    [exe, "--query-gpu=driver_version", "--format=csv,noheader"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                )
            except (OSError, subprocess.SubprocessError):
                break
            if out.stdout.strip():
                return out.stdout.strip().splitlines()[0]
    try:  # e.g. "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.216.03  Wed ..."
        text = open(proc_version, encoding="utf-8").read()
    except OSError:
        return None
    match = re.search(r"Kernel Module\s+(\d+\.\d+(?:\.\d+)?)", text)
    return match.group(1) if match else None


def smoke_report(machine: str, threads: int | None = None) -> dict:
    """What torch sees here, plus a small matmul on each GPU; `problem` names what is wrong.

    A machine of GPU_MACHINES without a usable CUDA device, or with another GPU than the
    profile asked for, is a problem: the smoke job exists to catch that before a real run.
    """
    import platform
    import time

    import torch

    if threads:
        torch.set_num_threads(int(threads))
    expected = GPU_MACHINES.get(machine, (None, None))[0]
    driver = _driver_version()
    devices = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            a = torch.randn(4096, 4096, device=f"cuda:{index}")
            torch.cuda.synchronize(index)
            start = time.perf_counter()
            (a @ a).sum().item()
            torch.cuda.synchronize(index)
            devices.append(
                {
                    "index": index,
                    "name": props.name,
                    "memory_gib": round(props.total_memory / 2**30, 1),
                    "capability": f"{props.major}.{props.minor}",
                    "matmul_4096_s": round(time.perf_counter() - start, 4),
                }
            )
    problem = driver_problem(driver, torch.version.cuda)
    if problem is None and not devices:
        problem = (
            f"torch sees no CUDA device (torch {torch.__version__}, CUDA build "
            f"{torch.version.cuda}); the GPU image or the driver is not working on {machine}"
        )
    elif problem is None and expected and not _names_match(expected, devices[0]["name"]):
        problem = f"expected a {expected}, torch sees {devices[0]['name']}"
    return {
        "machine": machine,
        "expected_gpu": expected,
        "host": platform.node(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if devices else None,
        "driver": driver,
        "cuda_available": bool(devices),
        "devices": devices,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "required_by": cuda_requirement(),
        "problem": problem,
    }


def smoke_summary(report: dict) -> str:
    """One line: the driver, torch's CUDA and the GPU, as the smoke job prints them."""
    gpu = report["devices"][0]["name"] if report["devices"] else "none"
    return (
        f"{report['machine']}: driver {report['driver'] or 'unknown'}, torch {report['torch']} "
        f"(torch.version.cuda {report['torch_cuda']}), GPU {gpu}"
    )


def _names_match(accelerator: str, device_name: str) -> bool:
    """nvidia-a100-80gb ~ 'NVIDIA A100-SXM4-80GB', nvidia-l4 ~ 'NVIDIA L4', nvidia-tesla-a100."""
    model = accelerator.removeprefix("nvidia-").removeprefix("tesla-").split("-")[0]
    return model.lower() in device_name.lower()


def write_smoke_table(reports: list[str], out: str) -> None:
    """One tab-separated row per smoke report: machine, GPU, memory, CUDA, driver, threads."""
    import json
    from pathlib import Path

    header = "machine\tgpu\tmemory_gib\ttorch\tcuda\tdriver\tcpu_count\ttorch_threads\n"
    rows = []
    for path in reports:
        r = json.loads(Path(path).read_text())
        first = r["devices"][0] if r["devices"] else {}
        fields = [
            r["machine"],
            first.get("name", "-"),
            first.get("memory_gib", "-"),
            r["torch"],
            r["torch_cuda"],
            r["driver"] or "-",
            r["cpu_count"],
            r["torch_threads"],
        ]
        rows.append("\t".join(str(f) for f in fields) + "\n")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(header + "".join(rows))
