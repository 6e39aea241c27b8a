# Worker containers for `snakemake --profile gcp-batch`: Google Batch runs every job in one of
# two images built from this file, both with this project installed at exactly the versions of
# pyproject.toml (all other packages at the versions of requirements.lock):
#   cpu  (`--target cpu`): python:3.11-slim and the CPU build of torch, ~1.5 GB; every CPU rule.
#   gpu  (the last stage, the default): torch's CUDA 12.6 build (cu126, from PyTorch's index), which
#        runs on NVIDIA drivers >= 525.60.13; the PyPI wheel is CUDA 13 and needs an R580 driver,
#        which Batch's Container-Optimized OS need not install (docs/cloud.md, "GPU driver and CUDA").
# The profile names them $ZETALAB_IMAGE_REPO/worker-{cpu,gpu}:src-<hash of src/, pyproject.toml,
# requirements.lock and this file>; `python -m zetalab.cloud.images build` builds and pushes
# both under those names, for linux/amd64 (docs/cloud.md). tests/test_environments.py checks
# this file.
ARG CPU_IMAGE=python:3.11-slim-bookworm
# CUDA of the GPU stage: base image and torch wheel variant must name the same CUDA release.
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-base-ubuntu22.04
ARG TORCH_CUDA=cu126
ARG PYTHON_VERSION=3.11
ARG PIP_VERSION=25.3
ARG TORCH_VERSION=2.13.0

# --- cpu ---------------------------------------------------------------------------------------
FROM ${CPU_IMAGE} AS cpu
ARG PIP_VERSION
ARG TORCH_VERSION
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# git: Snakemake's source deployment.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /opt/zetalab
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
# torch first, from PyTorch's CPU index (the PyPI wheel bundles ~3 GB of CUDA libraries); its
# version 2.13.0+cpu satisfies the lock's torch==2.13.0, so the project install keeps it.
RUN cp requirements.lock /tmp/constraints.txt \
 && python -m pip install "pip==${PIP_VERSION}" \
 && python -m pip install --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}" \
 && python -m pip install -c /tmp/constraints.txt . \
 && python -m pip check \
 && python -c "import torch, zetalab; assert torch.__version__.split('+')[0] == '${TORCH_VERSION}' and torch.version.cuda is None"
# One JIT per image, not per job: the zero kernels are compiled into numba's cache here. numba
# reuses a cache entry only for the same CPU name and features, so both are fixed to a target
# every Batch CPU machine has (AVX2; ~1.5x slower than a native AVX-512 build, see
# docs/benchmarks.md, but a chunk job no longer pays ~9 s of compilation).
ENV NUMBA_CACHE_DIR=/opt/numba-cache \
    NUMBA_CPU_NAME=haswell \
    NUMBA_CPU_FEATURES=+avx2,+fma
RUN python -m zetalab.zeros warmup && chmod -R a+rwX /opt/numba-cache
WORKDIR /tmp/workdir
CMD ["bash"]

# --- gpu (default target) ----------------------------------------------------------------------
FROM ${CUDA_IMAGE}
ARG PYTHON_VERSION
ARG PIP_VERSION
ARG TORCH_VERSION
ARG TORCH_CUDA
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Python 3.11 (Ubuntu 22.04 ships 3.10): deadsnakes. git: Snakemake's source deployment.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git gnupg software-properties-common \
 && add-apt-repository -y ppa:deadsnakes/ppa \
 && apt-get update \
 && apt-get install -y --no-install-recommends "python${PYTHON_VERSION}" "python${PYTHON_VERSION}-venv" \
 && rm -rf /var/lib/apt/lists/*

# `python` of the venv first on PATH: the plugin runs `python -m snakemake ...` in the container.
RUN "python${PYTHON_VERSION}" -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

WORKDIR /opt/zetalab
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src

# torch first, from PyTorch's cu126 index (its version 2.13.0+cu126 satisfies the lock's
# torch==2.13.0, so the project install keeps it); the build fails unless torch reports the
# base image's CUDA. The base image's CUDA libraries are not what torch loads (the wheel brings
# its own): it sets the driver's library path that Batch mounts into the container.
RUN cp requirements.lock /tmp/constraints.txt \
 && python -m pip install "pip==${PIP_VERSION}" \
 && python -m pip install --index-url "https://download.pytorch.org/whl/${TORCH_CUDA}" "torch==${TORCH_VERSION}" \
 && python -m pip install -c /tmp/constraints.txt . \
 && python -m pip check \
 && python -c "import os, torch, zetalab; cuda = os.environ['CUDA_VERSION'].rsplit('.', 1)[0]; assert torch.__version__ == '${TORCH_VERSION}+${TORCH_CUDA}' and torch.version.cuda == cuda, (torch.__version__, torch.version.cuda, cuda)"

WORKDIR /tmp/workdir
CMD ["bash"]
