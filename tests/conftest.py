"""Shared fixtures: the repository root, the reference table and the workflow runner."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ODLYZKO = SHARED / "data" / "odlyzko_zeros1.txt"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
# The tiny configuration the workflow tests run (and users try things with).
TINY_CONFIG = REPO / ".test" / "config" / "config.yaml"


def tiny_config(overrides: dict | None = None) -> dict:
    """The tiny configuration as a dict, with `overrides` merged in section by section."""
    import yaml

    from zetalab.config import deep_merge

    return deep_merge(yaml.safe_load(TINY_CONFIG.read_text()), overrides or {})


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def odlyzko() -> np.ndarray:
    """Odlyzko's first 100,000 zeros (independent of this project's code), index order."""
    if not ODLYZKO.exists():
        pytest.skip(f"reference table missing: {ODLYZKO}")
    return np.loadtxt(ODLYZKO)


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: int = 900
) -> subprocess.CompletedProcess:
    """Run this repository's workflow with `workdir` as the working directory."""
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def emulator():
    """A GCS emulator on 127.0.0.1 (in memory) per test module; yields its endpoint URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gcp-storage-emulator"),
            "start",
            "--port",
            str(port),
            "-H",
            "127.0.0.1",
            "--in-memory",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"GCS emulator did not start: {proc.stderr.read().decode()}")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
