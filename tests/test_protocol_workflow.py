"""The evaluation protocol through Snakemake: a study that starts at zero 10^6 builds only the
chunks it needs (dry run), and a tiny study at another start with rolling and height-shift
windows runs end to end to its reports."""

import json
import re

import pandas as pd
import pytest
import yaml
from conftest import run_snakemake, tiny_config


def test_a_window_at_a_million_needs_only_its_own_chunks(tmp_path):
    config = tiny_config({"dataset": {"start": 1_000_000}, "targets": {"study_s": False}})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    dry = run_snakemake(tmp_path, "--configfile", str(tmp_path / "c.yaml"), "-n", "-p",
                        "results/runs/ab/fullbatch/seed0/metrics.json")  # fmt: skip
    chunks = sorted(set(re.findall(r"chunk_(\d{12})_(\d{12})\.npy", dry.stdout)))
    # zeros 1,000,000..1,000,339 lie in the aligned 400-zero chunks 999,601.. and 1,000,001..
    assert chunks == [("000000999601", "000001000000"), ("000001000001", "000001000400")]
    assert "zeros_from1000000_340.npy" in dry.stdout


def test_bad_window_settings_stop_the_workflow_before_any_job(tmp_path):
    config = tiny_config(
        {"dataset": {"start": 5_000}, "evaluation": {"windows": 2, "shift_starts": [5_100]}}
    )
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(tmp_path, "--configfile", str(tmp_path / "c.yaml"), "-n", check=False)
    assert proc.returncode != 0
    assert "overlaps the training span" in proc.stdout + proc.stderr


N, H, START, SHIFT = 300, 20, 2_001, 40_001
TINY = tiny_config(
    {
        "dataset": {"start": START},
        "train": {"seeds": [0, 1]},
        "evaluation": {"windows": 3, "shift_starts": [SHIFT]},
        "targets": {"study_s": False},
    }
)
RULES = ["graph_build", "graph_partition", "run_config", "explicit_formula", "train", "baseline",
         "evaluate",
         "windows_report", "height_shift", "ab_verdict"]  # fmt: skip


@pytest.mark.slow
def test_rolling_and_shifted_windows_end_to_end(odlyzko, tmp_path):
    from zetalab.zeros.store import aggregate, write_chunk

    root = tmp_path / "data" / "zeros" / "rs"
    for first, count in ((START, N + 6 * H), (SHIFT, N + 2 * H)):
        chunk = root / f"chunk_{first}.npy"
        write_chunk(chunk, odlyzko[first - 1 : first - 1 + count], first, {"backend": "file"})
        aggregate([chunk], root / f"zeros_from{first}_{count}.npy", count, first=first)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    args = ["--configfile", str(tmp_path / "tiny.yaml"), "--allowed-rules", *RULES]
    targets = ["results/windows.md", "results/height_shift.md", "results/ab_verdict.json"]
    run_snakemake(tmp_path, *args, "--cores", "2", *targets)

    ev = json.loads((tmp_path / "results/runs/ab/minibatch/seed1/evaluation.json").read_text())
    kinds = [(w["kind"], w["origin"]) for w in ev["windows"]]
    origin = START + N - 1
    assert kinds == [("rolling", origin), ("rolling", origin + 2 * H),
                     ("rolling", origin + 4 * H), ("shift", SHIFT + N - 1)]  # fmt: skip
    # Window 0 is the study's own extrapolation, scored by the same numbers.
    assert ev["windows"][0]["errors"]["extrapolation"]["mse_height"] == pytest.approx(
        ev["errors"]["extrapolation"]["mse_height"]
    )
    assert ev["windows"][3]["height"] > 2.5e4  # zero 40,301 lies near t ≈ 2.9·10^4
    table = pd.read_csv(tmp_path / "results/windows.csv")
    assert set(table[table["row"] == "window"]["window"]) == {0, 1, 2}
    means = table[table["row"] == "mean"].set_index("name")
    # 2 seeds × 3 windows give an interval; one baseline's 3 windows do not (issue 19).
    run = means.loc["fullbatch"]
    assert run["extrapolation_rmse_spacing_lo"] <= run["extrapolation_rmse_spacing_mean"]
    assert run["extrapolation_rmse_spacing_values"] == 6
    assert pd.isna(means.loc["smooth", "extrapolation_rmse_spacing_lo"])
    assert "| smooth | baseline | 1 | 3 | " in (tmp_path / "results/windows.md").read_text()
    assert "[n/a: 3 values]" in (tmp_path / "results/windows.md").read_text()
    shift = (tmp_path / "results/height_shift.md").read_text()
    assert "zero 40,001" in shift and "training height" in shift
    verdict = json.loads((tmp_path / "results/ab_verdict.json").read_text())
    assert verdict["comparisons"]["team1_vs_team2"]["windows"] == [3]  # rolling windows only
