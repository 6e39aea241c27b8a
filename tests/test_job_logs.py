"""A failed job's log keeps why it failed, and every script sets its log up the same way.

Snakemake answers a failed job with "see log"; the log must then hold the traceback and, as its
last line, the one-line reason. One set-up (`zetalab.logsetup.log_to`) serves every script, so
no stage can be left with an empty log.
"""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, SNAKEMAKE

SCRIPTS = sorted((REPO / "scripts").glob("*.py"))

WORKFLOW = """
rule all:
    input:
        "results/out.txt",


rule fails:
    output:
        "results/out.txt",
    params:
        kind="{kind}",
    log:
        "logs/fails.log",
    script:
        "fails.py"
"""

SCRIPT = """
import logging

from zetalab.errors import ZetalabError
from zetalab.logsetup import log_to

log_to(snakemake.log[0])
logging.getLogger("fails").info("starting the work")


def work(kind):
    if kind == "bug":
        return {}["missing key"]
    raise ZetalabError("setting x.y is 3, it must be below 2", "set x.y: 1 in the config")


work(snakemake.params.kind)
open(snakemake.output[0], "w").write("never")
"""


def run_failing_job(tmp_path: Path, kind: str) -> tuple[subprocess.CompletedProcess, str]:
    (tmp_path / "Snakefile").write_text(WORKFLOW.format(kind=kind))
    (tmp_path / "fails.py").write_text(SCRIPT)
    env = {**os.environ, "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(SNAKEMAKE), "--cores", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert not (tmp_path / "results" / "out.txt").exists()
    return proc, (tmp_path / "logs" / "fails.log").read_text()


def test_a_bug_leaves_its_traceback_and_reason_in_the_log(tmp_path):
    proc, log = run_failing_job(tmp_path, "bug")
    lines = log.strip().splitlines()
    assert "starting the work" in lines[0]
    assert "Traceback (most recent call last)" in log
    assert "in work" in log and 'return {}["missing key"]' in log
    assert lines[-1].endswith("reason: KeyError: 'missing key'")
    assert "Traceback" in proc.stderr  # a bug keeps Python's traceback on stderr too


def test_bad_input_gets_one_clear_message_and_the_log_keeps_the_traceback(tmp_path):
    proc, log = run_failing_job(tmp_path, "input")
    assert "Traceback (most recent call last)" in log
    reason = "setting x.y is 3, it must be below 2 fix: set x.y: 1 in the config"
    assert log.strip().splitlines()[-1].endswith(f"reason: {reason}")
    assert f"error: {reason}" in proc.stderr
    assert "Traceback" not in proc.stderr.split("Error in rule fails")[0]


def _top_level_calls(tree: ast.Module) -> list[str]:
    return [
        ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    ]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_sets_up_its_log_first_and_the_same_way(script):
    tree = ast.parse(script.read_text())
    imports = [
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "zetalab.logsetup"
        for alias in node.names
    ]
    assert imports == ["log_to"], f"{script.name} must import log_to from zetalab.logsetup"
    # Right after the docstring, before any other import: a job that fails while importing its
    # module (a missing package, a syntax error) must still leave the traceback in its log.
    first, second = (ast.unparse(node) for node in tree.body[1:3])
    assert (first, second) == ("from zetalab.logsetup import log_to", "log_to(snakemake.log[0])"), (
        f"{script.name}: must start (after its docstring) with the log set-up, not {first[:60]}"
    )
    assert _top_level_calls(tree).count("log_to(snakemake.log[0])") == 1


def test_only_logsetup_configures_logging():
    """A second set-up elsewhere (basicConfig, a FileHandler) would split the logs again."""
    offenders = []
    for path in [*(REPO / "src" / "zetalab").rglob("*.py"), *SCRIPTS]:
        if path.name == "logsetup.py":
            continue
        text = path.read_text()
        if "basicConfig(" in text or "FileHandler(" in text or "logging_to" in text:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
