"""Shared fixtures: the repository root, the reference table and the workflow runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ODLYZKO = SHARED / "data" / "odlyzko_zeros1.txt"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


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
