# Worker container for `snakemake --profile gcp-batch`: Google Batch runs every job in it.
# CUDA PyTorch on Python 3.11 and this project with exactly the versions of pyproject.toml
# (all other packages at the versions of requirements.lock). tests/test_environments.py checks
# this file against both. Build and push: docs/cloud.md.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
FROM ${CUDA_IMAGE}

ARG PYTHON_VERSION=3.11
ARG PIP_VERSION=25.3
ARG TORCH_VERSION=2.13.0

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

# requirements.lock pins torch by version, so the worker takes the CUDA build of that version
# from PyPI; every package is constrained by the lock, so `pip install .` resolves to exactly
# the pinned versions.
RUN cp requirements.lock /tmp/constraints.txt \
 && python -m pip install "pip==${PIP_VERSION}" \
 && python -m pip install -c /tmp/constraints.txt . \
 && python -m pip check \
 && python -c "import torch, zetalab; assert torch.__version__.split('+')[0] == '${TORCH_VERSION}'"

WORKDIR /tmp/workdir
CMD ["bash"]
