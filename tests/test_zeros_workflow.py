"""The zero stage through Snakemake: dry run, a real run on a tiny config, resume, failure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ODLYZKO, run_snakemake

from zetalab.zeros.store import load_aggregate

CHECK = "results/zeros/check_rs_1500.json"


def _tiny(workdir: Path, backend: str = "rs", **extra: str) -> None:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    lines = [
        "zeros:",
        f"  backend: {backend}",
        "  chunk_size: 600",
        "  check_sample: 5",
        f"  odlyzko_table: {ODLYZKO}",
        *[f"  {k}: {v}" for k, v in extra.items()],
        "dataset:",
        "  N: 1300",
        "  horizon: 100",
    ]
    (workdir / "config" / "config.yaml").write_text("\n".join(lines) + "\n")


def test_dry_run_plans_chunks_aggregate_and_check(tmp_path):
    _tiny(tmp_path)
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", CHECK)
    for job in ("zeros_chunk", "zeros_aggregate", "zeros_check"):
        assert job in proc.stdout
    assert "chunk_000000001201_000000001800" in proc.stdout
    # the default target includes the zero check for N + 2H zeros
    default = run_snakemake(tmp_path, "-n", "--cores", "1")
    assert "results/zeros/check_rs_1500.json" in default.stdout
    # chunk names and wildcards go beyond 10^12 (13+ digits, no leading zero)
    big = "data/zeros/rs/chunk_1000000000001_1000000000600.npy"
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", big)
    assert "zeros_chunk" in proc.stdout  # planned, not "no rule to produce"


@pytest.mark.slow
def test_zero_stage_end_to_end_and_resume(tmp_path, odlyzko):
    _tiny(tmp_path)
    run_snakemake(tmp_path, "--cores", "2", CHECK)
    zeros = load_aggregate(tmp_path / "data/zeros/rs/zeros_1500.npy", min_count=1500)
    assert np.abs(zeros - odlyzko[:1500]).max() < 3.1e-9
    report = json.loads((tmp_path / CHECK).read_text())
    assert report["passed"] and report["odlyzko"]["overlap"] == 1500
    chunk = json.loads(
        (tmp_path / "data/zeros/rs/chunk_000000000001_000000000600.json").read_text()
    )
    manifest = json.loads((tmp_path / "data/zeros/rs/zeros_1500.manifest.json").read_text())
    assert chunk["sign_bound"] == manifest["sign_bound"] == "rigorous"
    for name in ("chunk_rs_000000000001_000000000600.log", "check_rs_1500.log"):
        assert (tmp_path / "logs/zeros" / name).stat().st_size > 0
    assert (tmp_path / "logs/benchmarks/zeros/aggregate_rs_1500.tsv").exists()

    # as after a failed run: one chunk and everything downstream missing; the rerun
    # recomputes exactly that chunk and reuses the others
    lost = tmp_path / "data/zeros/rs/chunk_000000000601_000000001200.npy"
    kept = tmp_path / "data/zeros/rs/chunk_000000000001_000000000600.npy"
    kept_mtime = kept.stat().st_mtime_ns
    for path in (
        lost,
        lost.with_suffix(".json"),
        tmp_path / CHECK,
        tmp_path / "data/zeros/rs/zeros_1500.npy",
    ):
        path.unlink()
    proc = run_snakemake(tmp_path, "--cores", "2", CHECK)
    assert "chunk_000000000601_000000001200" in proc.stderr + proc.stdout
    assert lost.exists() and kept.stat().st_mtime_ns == kept_mtime
    assert (tmp_path / CHECK).exists()


@pytest.mark.slow
def test_file_backend_with_a_broken_table_fails_naming_it(tmp_path, odlyzko):
    table = tmp_path / "table.txt"
    lines = [f"{g:.9f}\n" for g in odlyzko[:2000]]
    table.write_text("".join(lines[:700] + lines[701:]))
    _tiny(tmp_path, backend="file", table=str(table))
    proc = run_snakemake(
        tmp_path, "--cores", "1", "results/zeros/check_file_1500.json", check=False
    )
    assert proc.returncode != 0
    logs = "".join(p.read_text() for p in (tmp_path / "logs/zeros").glob("chunk_file_*.log"))
    assert "table.txt" in logs and "line is missing or repeated" in logs
    assert not list((tmp_path / "data/zeros/file").glob("*.npy"))
