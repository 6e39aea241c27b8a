"""`python -m zetalab.zeros`: compute / aggregate / check from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
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
    for word in ("--start", "--count", "--backend", "--out", "--force", "flint", "mpmath"):
        assert word in proc.stdout
    # what each backend proves at each height: rs skips the chunk's Arb index check from 1e9
    assert "N(T_a) = S−1, N(T_b) = S+C−1 when S < 1e9" in proc.stdout
    assert "none above" in proc.stdout and "sign_bound" in proc.stdout


def test_compute_aggregate_check_round_trip(tmp_path, odlyzko, capsys):
    first, second = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["compute", "--start", "1", "--count", "400", "--out", str(first), "--quiet"]) == 0
    assert (
        main(
            ["compute", "--start", "401", "--count", "200", "--backend", "rs", "--out", str(second)]
        )
        == 0
    )
    stored, _ = store.read_chunk(second)
    values = stored.heights()
    assert values.shape == (200,) and stored.first_index == 401
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


def _fails(argv, capsys, *words):
    """The command exits 2 at once with every word in its message and a fix."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words) and "fix:" in err, err


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("x.json", ("suffix '.json'", ".npy", ".txt")),  # would overwrite data with the record
        ("dir.npy", ("is a directory",)),
        ("afile/x.npy", ("afile is a file, not a directory",)),
        ("locked/x.npy", ("cannot create a file in", "locked")),
        ("old.npy", ("old.npy exists", "--force")),  # data and record kept as they were
        ("new.npy", ("new.json exists", "--force")),  # a record without its data: kept too
    ],
)
def test_compute_checks_out_before_computing(tmp_path, capsys, monkeypatch, out, words):
    import zetalab.zeros.cli as cli

    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "afile").write_text("data")
    (tmp_path / "old.npy").write_text("old data")
    (tmp_path / "new.json").write_text("old record")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    real_access = cli.os.access
    # root may write anywhere: the permission check is then shown on a directory it refuses
    monkeypatch.setattr(cli.os, "access", lambda p, m: False if p == locked else real_access(p, m))
    computed = []
    monkeypatch.setattr(cli, "compute_range", lambda *a, **k: computed.append(a))
    _fails(
        ["compute", "--start", "1", "--count", "5", "--out", str(tmp_path / out)], capsys, *words
    )
    assert not computed
    assert (tmp_path / "afile").read_text() == "data"
    assert (tmp_path / "old.npy").read_text() == "old data"
    assert (tmp_path / "new.json").read_text() == "old record"


def test_force_replaces_an_existing_output(tmp_path):
    out = tmp_path / "z.npy"
    out.write_text("old data")
    argv = ["compute", "--start", "301", "--count", "3", "--out", str(out), "--quiet"]
    assert main([*argv, "--force"]) == 0
    stored, record = store.read_chunk(out)
    assert stored.first_index == 301 and record["sign_bound"] == "rigorous"


@pytest.mark.parametrize("target", ["/proc/zeros.npy", "/proc/sys/zeros.txt", "/sys/x/z.npy"])
def test_a_target_where_no_file_can_be_made_fails_before_computing(capsys, monkeypatch, target):
    """Root passes os.access everywhere, yet /proc and /sys take no new files: the probe file
    shows it, in one line with the fix, exit 2, before any zero is computed."""
    import zetalab.zeros.cli as cli

    computed = []
    monkeypatch.setattr(cli, "compute_range", lambda *a, **k: computed.append(a))
    _fails(["compute", "--start", "1", "--count", "5", "--out", target], capsys, "cannot create")
    assert not computed


def test_compute_refuses_counts_that_do_not_fit_and_unsupported_heights(capsys, monkeypatch):
    import zetalab.zeros.cli as cli

    _fails(
        ["compute", "--start", "1", "--count", "1e12", "--out", "x.npy"], capsys, "GiB in memory"
    )
    monkeypatch.setattr(cli, "available_memory", lambda: 10**6)
    _fails(
        ["compute", "--start", "1", "--count", "100000", "--out", "x.npy"],
        capsys,
        "--count 100000 needs about",
        "zeros_chunk",
    )
    _fails(
        ["compute", "--start", "1e20", "--count", "3", "--out", "x.npy"],
        capsys,
        "beyond the supported range",
    )
    with pytest.raises(SystemExit):  # argparse: "'1.5' is not an integer"
        main(["compute", "--start", "1.5", "--count", "3", "--out", "x.npy"])
    assert "'1.5' is not an integer" in capsys.readouterr().err


def test_text_export_has_12_exact_decimals(tmp_path):
    out = tmp_path / "high.txt"
    start = 10**10
    assert main(["compute", "--start", "1e10", "--count", "4", "--out", str(out), "--quiet"]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 4
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["format"] == "text" and record["decimals"] == 12
    assert record["sign_bound"] == "rigorous" and record["sign_check"]["samples"] > 4
    assert record["error_bound_parts"]["decimal_rounding"] == 5e-13
    from zetalab.zeros.flint_backend import certified_balls

    balls = certified_balls(np.arange(4) + start)
    for k, (line, ball) in enumerate(zip(lines, balls, strict=True)):
        assert len(line.split(".")[1]) == 12, line
        exact = Decimal(ball.mid().str(30, radius=False))
        assert abs(Decimal(line) - exact) <= Decimal("1e-9"), (k, line, exact)
        assert abs(Decimal(line) - exact) <= Decimal(repr(record["error_bound"]))


def test_aggregate_and_check_refuse_an_out_they_do_not_write(tmp_path, capsys):
    chunk = tmp_path / "c.npy"
    argv = ["aggregate", "--total", "5", "--out", str(tmp_path / "z.json"), str(chunk)]
    _fails(argv, capsys, "not a format aggregate writes", ".npy")
    argv = ["check", str(tmp_path / "z.npy"), "--out", str(tmp_path / "report.npy")]
    _fails(argv, capsys, "not a format check writes", ".json")
    assert not list(tmp_path.iterdir())
