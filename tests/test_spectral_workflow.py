"""Study S through Snakemake: the plan per regime, bad config refused at parse time, reruns on a
changed setting (and none on an execution-only one), a tiny end-to-end run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REPO, run_snakemake

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
    extrapolate: true
"""


def _config(workdir: Path, text: str) -> None:
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(text)


def _planned(proc) -> dict[str, int]:
    """{rule: count} from the job-stats table of a dry run."""
    table = proc.stdout.split("Job stats:")[-1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_default_config_plans_every_spectral_rule(tmp_path):
    _config(tmp_path, "targets:\n  study_z: false\n")
    proc = run_snakemake(tmp_path, "-n", "--cores", "1")
    for rule in ("spectral_data", "spectral_validate", "spectral_benchmark", "spectral_export"):
        assert rule in proc.stdout
    for subset in ("all", "without_c2"):  # c = 0.5 only: the default fits ~2 minutes
        assert f"results/spectral/monomer_dimer/models/{subset}/model.pt" in proc.stdout
    assert "without_c0" not in proc.stdout and "spectral_regimes" not in proc.stdout
    assert _planned(proc)["spectral_train"] == 2


def test_the_regimes_config_plans_one_study_per_regime(tmp_path):
    _config(tmp_path, "targets:\n  study_z: false\n")
    configfile = REPO / "config" / "spectral_regimes.yaml"
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(configfile))
    for regime in ("beer_lambert", "monomer_dimer", "band_shift", "saturation"):
        assert f"results/spectral/{regime}/validation/table.md" in proc.stdout
    planned = _planned(proc)
    # six leave-one-out models per regime, "all" only for the exported regime
    assert planned["spectral_validate"] == 4 and planned["spectral_train"] == 4 * 6 + 1
    assert planned["spectral_regimes"] == 1 and planned["spectral_export"] == 1


def test_edge_held_out_and_unknown_regime_are_refused_before_any_job(tmp_path):
    _config(tmp_path, "targets:\n  study_z: false\nspectral:\n  validation:\n    held_out: [5]\n")
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert "edge concentration" in proc.stdout + proc.stderr
    _config(tmp_path, "targets:\n  study_z: false\nspectral:\n  data:\n    regime: soup\n")
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert "soup" in proc.stdout + proc.stderr


def test_a_rank_beyond_the_training_spectra_is_refused_before_any_job(tmp_path):
    """The parse-time checks (plan.check_settings) run before planning; the other bad keys
    (noise, patience) are covered without Snakemake in test_spectral_baselines.py."""
    _config(
        tmp_path, "targets:\n  study_z: false\nspectral:\n  validation:\n    low_rank_rank: 5\n"
    )
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert "spectral.validation.low_rank_rank = 5 exceeds" in proc.stdout + proc.stderr
    assert "Job stats" not in proc.stdout  # refused before any job was planned


@pytest.mark.slow
def test_spectral_rules_end_to_end_and_reruns(tmp_path):
    _config(tmp_path, TINY)
    run_snakemake(tmp_path, "--cores", "2")
    out = tmp_path / "results" / "spectral" / "monomer_dimer"
    metrics = json.loads((out / "validation" / "metrics.json").read_text())
    assert [r["index"] for r in metrics["held_out"]] == [2, 0, 5]
    assert set(metrics["methods"]) == {
        "node",
        "linear",
        "cubic_spline",
        "pchip",
        "akima",
        "gp",
        "low_rank",
    }
    for kind in ("interpolation", "extrapolation"):
        for scores in metrics["methods"].values():
            assert scores[kind]["mse"] >= 0  # every method scored, never NaN/None
        assert metrics["summary"][kind]["strongest_baseline"] != "node"
    table = (out / "validation" / "table.md").read_text()
    assert "## Interpolation" in table and "## Extrapolation" in table
    # two epochs: the models stop at the cap, so no verdict is stated, and the table says so
    assert "not converged" in table and " beats " not in table
    assert set(metrics["convergence"]) == {"without_c0", "without_c2", "without_c5"}
    assert metrics["reference"]["interpolation"]["mse"] > 0  # the physics-form fit, apart
    assert "physics-form fit †" in table and "physics_fit" not in metrics["methods"]
    bench = json.loads((out / "benchmark" / "benchmark.json").read_text())
    assert bench["train"]["samples_per_epoch"] == 30 * 16
    assert bench["train"]["epochs_timed"] == 3  # the median of three, with the min-max
    export = json.loads((out / "export" / "export.json").read_text())
    assert export["torchscript"]["max_abs_diff_vs_eager"] < 1e-5
    assert (out / "export" / "model.onnx").stat().st_size > 0
    history = json.loads((out / "models" / "all" / "history.json").read_text())
    assert len(history["history"]) == 2
    assert history["converged"] is False and history["epochs_run"] == 2
    assert history["kept_epoch"] == history["best_epoch"] in (1, 2)
    assert history["final_loss"] == history["history"][-1]["loss"]
    assert history["noise_floor"] == pytest.approx(4e-6, rel=0.1)
    assert (out / "models" / "all" / "checkpoint.pt").exists()
    for log in ("data", "train_all", "train_without_c2", "validate", "benchmark", "export"):
        assert (tmp_path / "logs" / "spectral" / "monomer_dimer" / f"{log}.log").stat().st_size
    # execution-only settings rerun nothing; a model setting reruns training and what follows
    text = TINY.replace("    epochs: 2\n", "    epochs: 2\n    checkpoint_every: 1\n")
    _config(tmp_path, text + "  device:\n    kind: cpu\n")
    assert "Nothing to be done" in run_snakemake(tmp_path, "-n", "--cores", "1").stdout
    _config(tmp_path, TINY.replace("spectral:\n", "spectral:\n  model:\n    flow_hidden: 8\n"))
    planned = _planned(run_snakemake(tmp_path, "-n", "--cores", "1"))
    assert planned == {
        "spectral_train": 4,
        "spectral_validate": 1,
        "spectral_benchmark": 1,
        "spectral_export": 1,
        "all": 1,
        "total": 8,
    }
    _config(
        tmp_path, TINY.replace("    noise", "").replace("  data:\n", "  data:\n    noise: 0.01\n")
    )
    assert _planned(run_snakemake(tmp_path, "-n", "--cores", "1"))["spectral_data"] == 1
    _config(tmp_path, TINY.replace("    extrapolate: true\n", "    extrapolate: false\n"))
    planned = _planned(run_snakemake(tmp_path, "-n", "--cores", "1"))
    assert planned.get("spectral_train", 0) == 0 and planned["spectral_validate"] == 1
