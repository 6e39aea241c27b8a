"""`python -m zetalab.zeros`: compute / aggregate / check from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zetalab.zeros import store
from zetalab.zeros.cli import main

ODLYZKO_ARG = "--odlyzko"
ODLYZKO = Path(__file__).resolve().parents[2] / "shared" / "data" / "odlyzko_zeros1.txt"


def test_help_documents_the_compute_command():
    proc = subprocess.run(
        [sys.executable, "-m", "zetalab.zeros", "compute", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for word in ("--start", "--count", "--backend", "--out", "flint", "mpmath"):
        assert word in proc.stdout


def test_compute_aggregate_check_round_trip(tmp_path, odlyzko, capsys):
    first, second = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["compute", "--start", "1", "--count", "400", "--out", str(first), "--quiet"]) == 0
    assert (
        main(
            ["compute", "--start", "401", "--count", "200", "--backend", "rs", "--out", str(second)]
        )
        == 0
    )
    values = np.load(second)
    assert values.dtype == np.float64 and values.shape == (200,)
    assert np.abs(values - odlyzko[400:600]).max() < 3.1e-9
    record = json.loads(second.with_suffix(".json").read_text())
    assert record["count_check"]["N_a"] == 400 and record["count_check"]["N_b"] == 600
    assert record["sha256"] == store.sha256_file(second)
    out = tmp_path / "zeros_550.npy"
    assert main(["aggregate", "--total", "550", "--out", str(out), str(second), str(first)]) == 0
    report_path = tmp_path / "check.json"
    code = main(
        ["check", str(out), "--sample", "5", ODLYZKO_ARG, str(ODLYZKO), "--out", str(report_path)]
    )
    assert code == 0
    report = json.loads(report_path.read_text())
    assert report["passed"] and report["odlyzko"]["overlap"] == 550
    assert report["odlyzko"]["max_abs_error"] < 3.1e-9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "0", "--count", "5"], "start must be ≥ 1"),
        (["--start", "1", "--count", "0"], "count must be ≥ 1"),
        (["--start", "1", "--count", "5", "--backend", "cuda"], "unknown zeros backend"),
    ],
)
def test_compute_errors_exit_2_with_a_fix(tmp_path, capsys, args, message):
    out = tmp_path / "x.npy"
    assert main(["compute", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "fix:" in err
    assert not out.exists()


def test_check_fails_on_a_wrong_zero(tmp_path, odlyzko):
    wrong = odlyzko[:300].copy()
    wrong[123] += 2e-8
    chunk = store.chunk_path(tmp_path, "file", 1, 300)
    store.write_chunk(chunk, wrong, 1, {})
    out = tmp_path / "zeros_300.npy"
    store.aggregate([chunk], out, 300)
    assert main(["check", str(out), "--sample", "3", ODLYZKO_ARG, str(ODLYZKO)]) == 1
