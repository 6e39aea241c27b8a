"""GPU jobs never fall back to the CPU: the device pickers of both studies refuse to start
when the job was given a GPU (ZETALAB_REQUIRE_CUDA, or SLURM's GPU variables) but torch sees
no CUDA device. This machine has no GPU, so every case below is the refusal path."""

from __future__ import annotations

import json

import pytest
import torch

from zetalab.cloud import gpu
from zetalab.errors import ZetalabError
from zetalab.learning.resources import pick_device
from zetalab.spectral.config import DeviceConfig
from zetalab.spectral.device import setup_device

AUTO = DeviceConfig(kind="auto", tf32=True, cudnn_benchmark=True, memory_fraction=0.9)
pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


@pytest.fixture
def clean_env(monkeypatch):
    for name in (gpu.REQUIRE_CUDA_VAR, "SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS", "SLURM_JOB_ID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_what_counts_as_given_a_gpu():
    assert gpu.cuda_requirement({}) is None
    assert gpu.cuda_requirement({"ZETALAB_REQUIRE_CUDA": "0"}) is None
    assert gpu.cuda_requirement({"ZETALAB_REQUIRE_CUDA": "1"}) == "ZETALAB_REQUIRE_CUDA=1"
    assert "SLURM allocated a GPU" in gpu.cuda_requirement({"SLURM_GPUS_ON_NODE": "1"})
    assert gpu.cuda_requirement({"SLURM_GPUS_ON_NODE": "0"}) is None
    # inside a SLURM job step, where the plugin dropped the SLURM_* GPU variables
    assert "SLURM job 7" in gpu.cuda_requirement({"SLURM_JOB_ID": "7", "CUDA_VISIBLE_DEVICES": "0"})
    assert gpu.cuda_requirement({"SLURM_JOB_ID": "7", "CUDA_VISIBLE_DEVICES": ""}) is None
    assert gpu.cuda_requirement({"CUDA_VISIBLE_DEVICES": "0"}) is None  # a workstation


def test_cpu_jobs_keep_the_cpu_fallback(clean_env):
    assert pick_device("auto") == torch.device("cpu")
    assert setup_device(AUTO) == torch.device("cpu")


@pytest.mark.parametrize("variable", ["ZETALAB_REQUIRE_CUDA", "SLURM_JOB_GPUS"])
def test_study_z_device_picker_refuses_the_cpu_on_a_gpu_job(clean_env, variable):
    clean_env.setenv(variable, "1")
    with pytest.raises(ZetalabError) as info:
        pick_device("auto")
    assert "torch sees no CUDA device" in str(info.value)
    assert "refusing to fall back to the CPU" in str(info.value)
    with pytest.raises(ZetalabError, match="asks for device 'cpu'"):
        pick_device("cpu")


def test_study_s_device_picker_refuses_the_cpu_on_a_gpu_job(clean_env):
    clean_env.setenv("ZETALAB_REQUIRE_CUDA", "1")
    with pytest.raises(ZetalabError, match="torch sees no CUDA device"):
        setup_device(AUTO)


def test_smoke_report_names_the_missing_gpu(clean_env, tmp_path):
    clean_env.setenv("ZETALAB_REQUIRE_CUDA", "1")
    report = gpu.smoke_report("g2-standard-8", threads=2)
    assert report["expected_gpu"] == "nvidia-l4" and report["cuda_available"] is False
    assert report["torch_threads"] == 2 and report["required_by"] == "ZETALAB_REQUIRE_CUDA=1"
    assert "torch sees no CUDA device" in report["problem"]
    fine = {**report, "devices": [{"name": "NVIDIA L4", "memory_gib": 22.0}], "driver": "570"}
    (tmp_path / "g2.json").write_text(json.dumps(fine))
    gpu.write_smoke_table([str(tmp_path / "g2.json")], str(tmp_path / "t.tsv"))
    rows = (tmp_path / "t.tsv").read_text().splitlines()
    assert rows[0].split("\t")[:3] == ["machine", "gpu", "memory_gib"]
    assert rows[1].split("\t")[:3] == ["g2-standard-8", "NVIDIA L4", "22.0"]


def test_gpu_names_match_the_accelerators():
    assert gpu._names_match("nvidia-a100-80gb", "NVIDIA A100-SXM4-80GB")
    assert gpu._names_match("nvidia-tesla-a100", "NVIDIA A100-SXM4-40GB")
    assert gpu._names_match("nvidia-l4", "NVIDIA L4")
    assert not gpu._names_match("nvidia-l4", "Tesla T4")


def test_driver_older_than_torchs_cuda_needs_is_named_with_both_versions():
    # CUDA 13 (PyPI's torch 2.13.0) needs R580; cu126 runs on R525 and newer
    problem = gpu.driver_problem("570.172.08", "13.0")
    assert "NVIDIA driver 570.172.08 is older than 580.65.06" in problem
    assert "torch's CUDA 13.0" in problem and "cu126" in problem
    assert gpu.driver_problem("580.65.06", "13.0") is None
    assert gpu.driver_problem("535.104.05", "12.6") is None
    assert "older than 525.60.13" in gpu.driver_problem("470.256.02", "12.6")
    assert gpu.driver_problem(None, "12.6") is None and gpu.driver_problem("535.1", None) is None


def test_driver_version_falls_back_to_the_kernel_module(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    proc = tmp_path / "version"
    proc.write_text(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.216.03  Wed Oct 30 2024\n"
        "GCC version:  gcc version 12.2.0\n"
    )
    assert gpu._driver_version(str(proc)) == "535.216.03"
    assert gpu._driver_version(str(tmp_path / "absent")) is None


def test_smoke_report_fails_on_a_driver_too_old_for_torchs_cuda(clean_env, monkeypatch):
    monkeypatch.setattr(gpu, "_driver_version", lambda: "570.172.08")
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    report = gpu.smoke_report("a2-highgpu-1g", threads=1)
    assert report["driver"] == "570.172.08" and report["torch_cuda"] == "13.0"
    assert report["problem"].startswith("NVIDIA driver 570.172.08 is older than 580.65.06")
    line = gpu.smoke_summary(report)
    assert line == (
        f"a2-highgpu-1g: driver 570.172.08, torch {torch.__version__} "
        "(torch.version.cuda 13.0), GPU none"
    )
