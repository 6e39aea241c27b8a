"""Every result follows its settings: on a finished tiny workflow, changing one key per stage
makes `snakemake -n` (default rerun triggers) plan exactly the jobs that depend on it.

The expected set of each change is "these jobs and everything downstream of them", which is
what `snakemake -n --forcerun <their outputs>` plans on the same finished workflow; the test
also names the jobs that must and must not be among them (e.g. loss.w_rg reruns the fullbatch
runs, not minibatch, fullbatch-norg, the baselines or Study S).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import run_snakemake, tiny_config

# The fixture runs the whole tiny workflow (Study S included) once: allow for a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

RUNS = "results/runs/ab/{variant}/seed{seed}/metrics.json"
SEEDS = (0, 1, 2)


def planned(workdir: Path, config: dict, *extra: str) -> set[str]:
    """'rule output' of every job a dry run plans (the target-less `all` aside)."""
    path = workdir / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = run_snakemake(workdir, "--configfile", str(path), "-n", *extra)
    jobs, rule = set(), None
    for line in proc.stdout.splitlines():
        if m := re.match(r"^(?:local)?rule (\S+):", line):
            rule = m.group(1)
        elif (m := re.match(r"^\s+output: (.*)", line)) and rule:
            jobs.add(f"{rule} {m.group(1)}")
            rule = None
    return jobs


def downstream(workdir: Path, config: dict, outputs: list[str]) -> set[str]:
    """The jobs making `outputs` and everything that depends on them."""
    return planned(workdir, config, "--forcerun", *outputs)


def runs(*variants: str) -> list[str]:
    return [RUNS.format(variant=v, seed=s) for v in variants for s in SEEDS]


def rules_of(jobs: set[str]) -> set[str]:
    return {j.split(" ", 1)[0] for j in jobs}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, dict]:
    """The tiny workflow run to the end once."""
    workdir = tmp_path_factory.mktemp("rerun")
    config = tiny_config()
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(workdir, "--configfile", str(workdir / "tiny.yaml"), "--cores", "2", timeout=3000)
    assert planned(workdir, config) == set()
    return workdir, config


def change(config: dict, dotted: str, value) -> dict:
    out = yaml.safe_load(yaml.safe_dump(config))
    node = out
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return out


@pytest.mark.parametrize(("key", "value"), [("train.device", "cpu"), ("train.checkpoint_every", 1)])
def test_execution_only_keys_rerun_nothing(finished, key, value):
    workdir, config = finished
    assert planned(workdir, change(config, key, value)) == set()


def test_loss_weight_reruns_the_fullbatch_runs_and_what_follows(finished):
    workdir, config = finished
    jobs = planned(workdir, change(config, "loss.w_rg", 0.2))
    assert jobs == downstream(workdir, config, runs("fullbatch"))
    trained = {j for j in jobs if j.startswith("train ")}
    assert len(trained) == 3 and all("/ab/fullbatch/" in j for j in trained)
    assert {"leaderboard", "ab_verdict", "evaluate"} <= rules_of(jobs)
    assert not rules_of(jobs) & {"baseline", "graph_build", "graph_partition", "zeros_chunk"}
    assert not any(r.startswith("spectral") for r in rules_of(jobs))


def test_model_and_train_keys_rerun_every_run_but_no_baseline(finished):
    workdir, config = finished
    every_run = downstream(workdir, config, runs("fullbatch", "fullbatch-norg", "minibatch"))
    for key, value in (("model.hidden", 12), ("train.max_epochs", 3)):
        jobs = planned(workdir, change(config, key, value))
        assert jobs == every_run, key
        assert "baseline" not in rules_of(jobs)


def test_partition_method_reruns_the_partition_and_minibatch_runs(finished):
    workdir, config = finished
    jobs = planned(workdir, change(config, "graph.partition.method", "contiguous"))
    new_partition = "results/graphs/n340_p2-3-5/partition_contiguous4.npz"
    expected = downstream(workdir, config, runs("minibatch"))
    assert expected <= jobs
    assert {j.split(",")[0] for j in jobs - expected} == {f"graph_partition {new_partition}"}
    trained = {j for j in jobs if j.startswith("train ")}
    assert len(trained) == 3 and all("/ab/minibatch/" in j for j in trained)


def test_the_explicit_formula_key_reruns_the_selection_and_what_reads_it(finished):
    """prime_sum's grid decides the explicit-formula setting, which is prime_sum's and every
    learner's column: the selection, prime_sum and every run follow it; smooth does not."""
    workdir, config = finished
    jobs = planned(workdir, change(config, "baselines.prime_sum.num_primes", 40))
    assert jobs == downstream(workdir, config, ["results/explicit_formula/estimate.npz"])
    assert {"explicit_formula", "baseline", "train"} <= rules_of(jobs)
    rebuilt = {j for j in jobs if j.startswith("baseline ")}
    assert len(rebuilt) == 1 and rebuilt.pop().startswith("baseline results/baselines/prime_sum/")
    assert len({j for j in jobs if j.startswith("train ")}) == 9


def test_ab_key_reruns_the_verdict_only(finished):
    workdir, config = finished
    jobs = planned(workdir, change(config, "ab.alpha", 0.1))
    assert jobs == downstream(workdir, config, ["results/ab_verdict.json"])
    assert rules_of(jobs) <= {"ab_verdict", "plot_ab_verdict"}


def test_zeros_check_key_reruns_the_check_only(finished):
    workdir, config = finished
    jobs = planned(workdir, change(config, "zeros.check_sample", 7))
    assert rules_of(jobs) == {"zeros_check"}


def test_spectral_key_reruns_study_s_only(finished):
    workdir, config = finished
    jobs = planned(workdir, change(config, "spectral.train.epochs", 3))
    assert jobs and all(r.startswith("spectral") for r in rules_of(jobs))
    assert "spectral_train" in rules_of(jobs)
