"""Study S through Snakemake: the plan, an edge held-out refused at parse time, a tiny e2e run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_snakemake

TINY = """\
targets:
  study_z: false
spectral:
  data:
    n_wavelengths: 16
  train:
    epochs: 2
    wavelengths_per_epoch: null
    mega_batch: 160
    micro_batch: 80
  validation:
    held_out: [2]
"""


def _config(workdir: Path, text: str) -> None:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(text)


def test_default_config_plans_every_spectral_rule(tmp_path):
    _config(tmp_path, "targets:\n  study_z: false\n")
    proc = run_snakemake(tmp_path, "-n", "--cores", "1")
    for rule in ("spectral_data", "spectral_validate", "spectral_benchmark", "spectral_export"):
        assert rule in proc.stdout
    for subset in ("all", "without_c1", "without_c2", "without_c3", "without_c4"):
        assert f"results/spectral/models/{subset}/model.pt" in proc.stdout
    assert "without_c0" not in proc.stdout and "without_c5" not in proc.stdout


def test_edge_held_out_is_refused_before_any_job(tmp_path):
    _config(tmp_path, "targets:\n  study_z: false\nspectral:\n  validation:\n    held_out: [5]\n")
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert "edge concentration" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_spectral_rules_end_to_end(tmp_path):
    _config(tmp_path, TINY)
    run_snakemake(tmp_path, "--cores", "2")
    out = tmp_path / "results" / "spectral"
    metrics = json.loads((out / "validation" / "metrics.json").read_text())
    assert [r["index"] for r in metrics["held_out"]] == [2]
    assert metrics["summary"]["overall_winner"] in ("model", "linear")
    assert "beats" in (out / "validation" / "table.md").read_text()
    bench = json.loads((out / "benchmark" / "benchmark.json").read_text())
    assert bench["train"]["samples_per_epoch"] == 30 * 16
    assert bench["train"]["samples_per_s"] > 0
    export = json.loads((out / "export" / "export.json").read_text())
    assert export["torchscript"]["max_abs_diff_vs_eager"] < 1e-5
    assert (out / "export" / "model.onnx").stat().st_size > 0
    history = json.loads((out / "models" / "all" / "history.json").read_text())
    assert len(history["history"]) == 2
    assert (out / "models" / "all" / "checkpoint.pt").exists()
    for log in ("data", "train_all", "train_without_c2", "validate", "benchmark", "export"):
        assert (tmp_path / "logs" / "spectral" / f"{log}.log").stat().st_size > 0
