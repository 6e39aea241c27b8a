"""The gcp-batch profile end to end, offline: a local GCS emulator (gcp-storage-emulator through
STORAGE_EMULATOR_HOST) stands in for the bucket, and RecordingBatchClient stands in for Google
Batch at its API boundary, so the real Snakemake, googlebatch and gcs plugins run unchanged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import yaml

from snakemake_executor_plugin_zetalab_batch import (
    CHECKPOINT_PROJECT_VAR,
    CHECKPOINT_STORE_VAR,
    PREEMPTION_EXIT_CODES,
    REQUIRE_CUDA_VAR,
)
from zetalab.cloud import checkpoint_sync, gpu
from zetalab.cloud.recording import read_records, recorded_environment
from zetalab.zeros.store import load_aggregate

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IMAGE_REPO = "europe-west4-docker.pkg.dev/zl-test-project/zetalab"
PROJECT = "zl-test-project"
COS_IMAGE = "projects/batch-custom-image/global/images/family/batch-cos-stable-official"
ODLYZKO = REPO.parent / "shared" / "data" / "odlyzko_zeros1.txt"

# rule -> (machine type, accelerator or None, memory MiB, max run duration, spot, vCPUs = threads,
#          scratch disk GB)
CPU_DEFAULT = ("e2-standard-4", None, 14000, "3600s", False, None, 20)
EXPECTED = {
    "zeros_chunk": ("e2-standard-2", None, 6000, "7200s", True, 2, 10),
    "zeros_aggregate": ("n2-standard-4", None, 14000, "14400s", False, 4, 200),
    "zeros_check": ("n2-standard-4", None, 14000, "7200s", False, 4, 100),
    "graph_build": ("n2-highmem-8", None, 58000, "14400s", False, 8, 200),
    "graph_partition": ("n2-highmem-16", None, 120000, "43200s", False, 16, 200),
    "baseline": ("n2-standard-8", None, 28000, "14400s", False, 8, 100),
    "evaluate": ("n2-standard-8", None, 28000, "7200s", False, 8, 100),
    "spectral_data": ("a2-highgpu-1g", "nvidia-tesla-a100", 76000, "3600s", False, 12, 20),
    "spectral_train": ("a2-highgpu-1g", "nvidia-tesla-a100", 76000, "14400s", False, 12, 20),
    "spectral_validate": ("a2-highgpu-1g", "nvidia-tesla-a100", 76000, "3600s", False, 12, 20),
    "spectral_benchmark": ("a2-highgpu-1g", "nvidia-tesla-a100", 76000, "3600s", False, 12, 20),
}
TRAIN_FULLBATCH = ("a2-ultragpu-1g", "nvidia-a100-80gb", 160000, "86400s", True, 12, 100)
TRAIN_MINIBATCH = ("g2-standard-8", "nvidia-l4", 28000, "86400s", True, 8, 100)
SWEEP_DURATION = "21600s"


def expected_for(rule: str, wildcards: dict) -> tuple:
    if rule == "train":
        machine = (
            TRAIN_FULLBATCH if wildcards["variant"].startswith("fullbatch") else TRAIN_MINIBATCH
        )
        cfg = wildcards["cfg"]
        if cfg.startswith("sweep-") and not cfg.startswith("sweep-championship"):
            return (*machine[:3], SWEEP_DURATION, *machine[4:])
        return machine
    return EXPECTED.get(rule, CPU_DEFAULT)


def gcs(endpoint: str):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )


@pytest.fixture
def bucket(emulator):
    name = f"zl-{uuid.uuid4().hex[:12]}"
    gcs(emulator).create_bucket(name)
    return name


def blobs(endpoint: str, bucket: str) -> dict[str, object]:
    return {b.name: b for b in gcs(endpoint).list_blobs(bucket)}


def workdir(tmp_path: Path, config_text: str | None = None) -> Path:
    """A working directory with the default config, whose reference table path (relative to
    the repository) is made absolute, as a user outside the repository would set it."""
    work = tmp_path / "work"
    (work / "config").mkdir(parents=True)
    text = (REPO / "config" / "config.yaml").read_text() if config_text is None else config_text
    config = yaml.safe_load(text)
    config.setdefault("zeros", {})["odlyzko_table"] = str(ODLYZKO)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return work


def cloud_env(endpoint: str, bucket: str, tmp_path: Path, **extra) -> dict[str, str]:
    """Environment of the README's set-up, pointed at the emulator; Batch replaced by a
    recorder (installed by a sitecustomize.py on PYTHONPATH)."""
    record = tmp_path / "requests.jsonl"
    return recorded_environment(endpoint, bucket, PROJECT, tmp_path / "site", record, **extra)


def snakemake(args: list[str], env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    """`snakemake ...` run from the repository root, as documented."""
    cmd = [str(BIN / "snakemake"), *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def job_stats(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake run or dry run: rule -> count."""
    match = re.search(r"Job stats:\n(.*?)\n\n", output, re.S)
    assert match, output[-3000:]
    rows = [line.split() for line in match.group(1).splitlines()[2:]]
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[0] != "total"}


def local_rules() -> set[str]:
    rules: set[str] = {"all"}
    for path in [REPO / "Snakefile", *(REPO / "rules").glob("*.smk")]:
        text = path.read_text()
        for names in re.findall(r"^localrules:\s*(.+)$", text, re.M):
            rules |= {n.strip() for n in names.split(",") if n.strip()}
        for name in re.findall(r"^rule (\w+):\n(?:    .*\n|\n)*?    localrule: True", text, re.M):
            rules.add(name)
    return rules


@pytest.mark.slow
def test_dry_run_with_profile_lists_every_rule_of_the_default_target(emulator, bucket, tmp_path):
    work = workdir(tmp_path)
    local = subprocess.run(
        [str(BIN / "snakemake"), "-n", "-d", str(work)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert local.returncode == 0, local.stderr[-3000:]
    cloud = snakemake(
        ["--profile", "gcp-batch", "-n", "-d", str(work)], cloud_env(emulator, bucket, tmp_path)
    )
    assert cloud.returncode == 0, (cloud.stdout + cloud.stderr)[-3000:]
    assert "gs://" + bucket + "/zetalab/" in cloud.stdout + cloud.stderr
    # the same jobs, plus the local copy of the reference table into the bucket
    expected = {**job_stats(local.stdout + local.stderr), "zeros_reference": 1}
    assert job_stats(cloud.stdout + cloud.stderr) == expected
    assert not read_records(tmp_path / "requests.jsonl"), "a dry run submitted a job"


TINY_ZEROS = """\
zeros:
  backend: flint
  chunk_size: 40
dataset:
  N: 100
  horizon: 5
"""


@pytest.mark.slow
def test_zero_stage_runs_with_gcs_default_storage(emulator, bucket, tmp_path, odlyzko):
    """Chunks are computed and uploaded; a second run, with no local copies left, builds the
    aggregate from the bucket's chunks; everything ends up in the emulated bucket."""
    work = workdir(tmp_path, TINY_ZEROS)
    total = 110
    target = f"data/zeros/flint/zeros_{total}.npy"
    storage = ["--default-storage-provider", "gcs", "--default-storage-prefix"]
    storage += [f"gcs://{bucket}/zl", "--storage-gcs-project", PROJECT]
    env = cloud_env(emulator, bucket, tmp_path)
    base = ["--cores", "2", "-d", str(work), *storage]

    # targets first: --storage-gcs-project takes several values
    first = snakemake([target, "--until", "zeros_chunk", *base], env)
    assert first.returncode == 0, first.stderr[-3000:]
    chunks = sorted(n for n in blobs(emulator, bucket) if re.search(r"/chunk_\d+_\d+\.npy$", n))
    assert len(chunks) == 3, sorted(blobs(emulator, bucket))
    assert not any(n.endswith(f"zeros_{total}.npy") for n in blobs(emulator, bucket))
    assert not (
        work / ".snakemake" / "storage" / "gcs" / bucket / "zl" / "data"
    ).exists() or not list(
        (work / ".snakemake" / "storage" / "gcs" / bucket / "zl" / "data").rglob("chunk_*.npy")
    ), "local chunk copies were kept: the second run would not read the bucket"

    second = snakemake([target, *base], env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "zeros_aggregate" in second.stderr and "zeros_chunk" not in job_stats(second.stderr)
    stored = blobs(emulator, bucket)
    key = f"zl/{target}"
    assert key in stored
    # the bucket's aggregate and manifest, read with the project's own reader (block references
    # plus float64 offsets, checksum verified)
    local = tmp_path / "fetched" / f"zeros_{total}.npy"
    local.parent.mkdir()
    local.write_bytes(stored[key].download_as_bytes())
    manifest = key.removesuffix(".npy") + ".manifest.json"
    local.with_name(f"zeros_{total}.manifest.json").write_bytes(
        stored[manifest].download_as_bytes()
    )
    aggregate = load_aggregate(local)
    assert aggregate.shape == (total,)
    np.testing.assert_allclose(aggregate, odlyzko[:total], atol=1e-8)


@pytest.fixture(scope="module")
def default_run(emulator, tmp_path_factory):
    """The whole default target through the zetalab-batch executor, with Batch replaced by the
    recorder (jobs 'succeed' and leave empty outputs in the bucket, so every rule's jobs get
    submitted); local rules run for real. Yields (records, dag job counts, bucket, process)."""
    tmp_path = tmp_path_factory.mktemp("default_run")
    bucket = f"zl-{uuid.uuid4().hex[:12]}"
    gcs(emulator).create_bucket(bucket)
    work = workdir(tmp_path)
    env = cloud_env(emulator, bucket, tmp_path, ZETALAB_BATCH_MATERIALIZE="1", ZETALAB_RUN="t1")
    proc = snakemake(
        ["--profile", "gcp-batch", "-d", str(work), "--seconds-between-status-checks", "0"], env
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    records = read_records(tmp_path / "requests.jsonl")
    return records, job_stats(proc.stderr + proc.stdout), bucket, proc


def _one_per_kind(records):
    seen = set()
    for record in records:
        kind = (record["rule"], expected_for(record["rule"], record["wildcards"]))
        if kind not in seen:
            seen.add(kind)
            yield record


def _command(record) -> str:
    """The job's command line as the entrypoint runs it (from the setup runnable)."""
    setup = record["request"]["job"]["taskGroups"][0]["taskSpec"]["runnables"][0]
    return setup["script"]["text"]


@pytest.mark.slow
def test_batch_requests_per_rule(default_run):
    """One request per job, each with the machine, GPU, memory, time limit, spot-ness, threads
    and image of the rule -> machine table."""
    records, dag, _, _ = default_run
    submitted = {r["rule"] for r in records}
    assert submitted == set(dag) - local_rules()
    assert len(records) == sum(n for rule, n in dag.items() if rule not in local_rules())
    assert {"train", "zeros_chunk", "spectral_train"} <= submitted
    # zetalab.cloud.images names both images after the hash of the sources (one per run)
    tags = {r["request"]["job"]["taskGroups"][0]["taskSpec"]["runnables"][-1]["container"][
        "imageUri"].rsplit(":", 1)[1] for r in records}  # fmt: skip
    assert len(tags) == 1, tags
    tag = tags.pop()
    assert re.fullmatch(r"src-[0-9a-f]{16}", tag)
    images = {"cpu": f"{IMAGE_REPO}/worker-cpu:{tag}", "gpu": f"{IMAGE_REPO}/worker-gpu:{tag}"}

    for record in _one_per_kind(records):
        rule, wildcards = record["rule"], record["wildcards"]
        machine, gpu, memory, duration, spot, cores, scratch = expected_for(rule, wildcards)
        request = record["request"]
        assert request["parent"] == f"projects/{PROJECT}/locations/europe-west4"
        job = request["job"]
        task = job["taskGroups"][0]["taskSpec"]
        instance = job["allocationPolicy"]["instances"][0]
        policy = instance["policy"]
        where = f"{rule} {wildcards}"
        assert policy["machineType"] == machine, where
        assert int(task["computeResource"]["memoryMib"]) == memory, where
        assert task["maxRunDuration"] == duration, where
        if cores is not None:  # threads = the machine's vCPUs
            assert record["threads"] == cores, where
        container = task["runnables"][-1]["container"]
        if gpu is None:
            assert not policy.get("accelerators"), where
            assert container["imageUri"] == images["cpu"], where
        else:
            accelerators = [(a["type"], int(a["count"])) for a in policy["accelerators"]]
            assert accelerators == [(gpu, 1)], where
            assert instance["installGpuDrivers"] is True, where
            assert container["imageUri"] == images["gpu"], where
        assert policy.get("provisioningModel", "PROVISIONING_MODEL_UNSPECIFIED") == (
            # plugin 0.5.1 sets provisioning model 3 = PREEMPTIBLE (the pre-Spot discount VMs)
            "PREEMPTIBLE" if spot else "PROVISIONING_MODEL_UNSPECIFIED"
        ), where
        assert policy["bootDisk"]["image"] == COS_IMAGE, where
        assert job["labels"]["app"] == "zetalab"
        assert job["allocationPolicy"]["labels"]["zetalab-run"] == "t1", where
        # scratch: a persistent disk, mounted as the container's working directory
        disks = [(d["deviceName"], d["newDisk"]["type"], int(d["newDisk"]["sizeGb"])) for d in
                 policy["disks"]]  # fmt: skip
        assert disks == [("scratch", "pd-balanced", scratch)], where
        assert {"deviceName": "scratch", "mountPath": "/mnt/disks/scratch"}.items() <= (
            task["volumes"][0].items()
        ), where
        assert container["volumes"] == ["/mnt/disks/scratch:/tmp/workdir"], where


def lifecycle_shape(records) -> dict:
    """Per recorded job: its retries and lifecycle policies, plus the run's job-id figures."""
    policies = [len(t.get("lifecyclePolicies", [])) for t in map(_task, records)]
    ids = [r["request"]["jobId"] for r in records]
    return {"policies_per_task": sorted(set(policies)), "jobs": len(ids),
            "distinct_ids": len(set(ids))}  # fmt: skip


def _task(record) -> dict:
    return record["request"]["job"]["taskGroups"][0]["taskSpec"]


@pytest.mark.slow
def test_only_preemptible_jobs_are_retried_and_only_on_preemption(default_run):
    """At most one lifecycle policy per task (the v1 API: "Currently we only support one
    lifecycle policy"): RETRY_TASK on the preemption code, bounded retries; every job id of
    the run distinct."""
    records, _, _, _ = default_run
    assert all(r["outcome"] == "created" for r in records)
    shape = lifecycle_shape(records)
    assert shape["policies_per_task"] in ([0, 1], [1], [0])
    assert shape["distinct_ids"] == shape["jobs"] == len(records)
    for record in records:
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,61}[a-z0-9]", record["request"]["jobId"])
    for record in _one_per_kind(records):
        rule, wildcards = record["rule"], record["wildcards"]
        spot = expected_for(rule, wildcards)[4]
        task = _task(record)
        where = f"{rule} {wildcards}"
        if not spot:
            assert task.get("maxRetryCount", 0) == 0, where
            assert not task.get("lifecyclePolicies"), where
            continue
        assert task["maxRetryCount"] == 3, where
        assert task["lifecyclePolicies"] == [
            {"action": "RETRY_TASK", "actionCondition": {"exitCodes": list(PREEMPTION_EXIT_CODES)}}
        ], where


@pytest.mark.slow
def test_job_environment_requires_cuda_on_gpu_machines_and_mirrors_checkpoints(default_run):
    records, _, bucket, _ = default_run
    for record in _one_per_kind(records):
        gpu = expected_for(record["rule"], record["wildcards"])[1]
        command = _command(record)
        assert ("ZETALAB_REQUIRE_CUDA=1" in command) == (gpu is not None), record["rule"]
        assert f"ZETALAB_CHECKPOINT_STORE=gs://{bucket}/zetalab/.checkpoints" in command
        assert f"ZETALAB_CHECKPOINT_PROJECT={PROJECT}" in command
        # the images hold the pinned storage plugin: no per-job install from PyPI
        assert "pip install" not in command, record["rule"]


@pytest.mark.slow
def test_entrypoint_exit_status_is_the_jobs(default_run, tmp_path):
    """Run the recorded setup script (scratch path moved to tmp), then its entrypoint with a
    `python` that fails: the entrypoint fails with the job's own status. The plugin's own
    entrypoint, for contrast, ends with two pip installs and reports success."""
    from snakemake_executor_plugin_googlebatch.command import COSWriter

    records, _, _, _ = default_run
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("python", "python3"):
        exe = fake_bin / name
        exe.write_text('#!/bin/bash\n[ "$2" = pip ] && exit 0\nexit 7\n')
        exe.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}

    scratch = tmp_path / "scratch"
    setup = _command(records[0]).replace("/mnt/disks/scratch", str(scratch))
    subprocess.run(["bash", "-c", setup], check=True, capture_output=True)
    ours = subprocess.run(["bash", str(scratch / "entrypoint.sh")], env=env, capture_output=True)
    assert ours.returncode == 7

    theirs_setup = COSWriter(command="python -m snakemake", snippets=None).setup()
    theirs_setup = theirs_setup.replace("/tmp/workdir", str(tmp_path / "plugin"))
    subprocess.run(["bash", "-c", theirs_setup], check=True, capture_output=True)
    theirs = subprocess.run(
        ["bash", str(tmp_path / "plugin" / "entrypoint.sh")], env=env, capture_output=True
    )
    assert theirs.returncode == 0  # plugin 0.5.1: the failed job would report SUCCEEDED


@pytest.mark.slow
def test_reference_table_travels_with_zeros_check(default_run, emulator):
    """zeros_reference ran on this machine and put the table into the bucket; zeros_check's
    request names it as an input, so the worker downloads it instead of skipping the check."""
    records, dag, bucket, _ = default_run
    assert dag.get("zeros_reference") == 1
    stored = blobs(emulator, bucket)
    key = "zetalab/data/reference/odlyzko_table.txt"
    assert stored[key].download_as_bytes() == ODLYZKO.read_bytes()
    assert "zeros_reference" not in {r["rule"] for r in records}  # a local rule
    log = default_run[3].stderr + default_run[3].stdout
    block = re.search(r"rule zeros_check:\n(.*?)\n\n", log, re.S)
    assert block, log[-3000:]
    inputs = re.search(r"input: (.*)", block.group(1)).group(1)
    assert f"gs://{bucket}/zetalab/data/reference/odlyzko_table.txt" in inputs


@pytest.mark.slow
def test_missing_variables_stop_before_anything_is_submitted(emulator, bucket, tmp_path):
    work = workdir(tmp_path)
    env = cloud_env(emulator, bucket, tmp_path, ZETALAB_BATCH_MATERIALIZE="1")
    for name in ("ZETALAB_GCP_PROJECT", "ZETALAB_GCP_REGION", "ZETALAB_GCS_BUCKET"):
        del env[name]
    proc = snakemake(["--profile", "gcp-batch", "-d", str(work)], env)
    assert proc.returncode != 0
    for name in ("ZETALAB_GCP_PROJECT", "ZETALAB_GCP_REGION", "ZETALAB_GCS_BUCKET"):
        assert f"{name} is not set" in proc.stderr
    assert not read_records(tmp_path / "requests.jsonl")
    assert not blobs(emulator, bucket), "something was uploaded"


@pytest.mark.slow
def test_missing_bucket_stops_before_anything_is_submitted(emulator, tmp_path):
    work = workdir(tmp_path)
    env = cloud_env(emulator, "zl-no-such-bucket", tmp_path)
    proc = snakemake(["--profile", "gcp-batch", "-d", str(work)], env)
    assert proc.returncode != 0
    assert "bucket gs://zl-no-such-bucket (from ZETALAB_GCS_BUCKET) does not exist" in proc.stderr
    assert not read_records(tmp_path / "requests.jsonl")
    assert "zl-no-such-bucket" not in {b.name for b in gcs(emulator).list_buckets()}


def test_executor_plugin_and_zetalab_agree_on_the_job_environment():
    """The plugin cannot import zetalab (see its docstring), so the names are written twice."""
    assert REQUIRE_CUDA_VAR == gpu.REQUIRE_CUDA_VAR
    assert CHECKPOINT_STORE_VAR == checkpoint_sync.STORE_VAR
    assert CHECKPOINT_PROJECT_VAR == checkpoint_sync.PROJECT_VAR


@pytest.mark.slow
def test_gpu_smoke_runs_one_job_per_gpu_machine_in_the_gpu_image(emulator, bucket, tmp_path):
    """`snakemake --profile gcp-batch gpu_smoke`: the smoke jobs it submits (the summary is a
    local rule and needs real reports, so the jobs' outputs are the targets here)."""
    work = workdir(tmp_path)
    env = cloud_env(emulator, bucket, tmp_path, ZETALAB_BATCH_MATERIALIZE="1")
    targets = [f"results/cloud/gpu_smoke/{machine}.json" for machine in gpu.GPU_MACHINES]
    proc = snakemake(
        [*targets, "--profile", "gcp-batch", "-d", str(work), "--seconds-between-status-checks",
         "0"], env)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    plan = snakemake(["gpu_smoke", "--profile", "gcp-batch", "-n", "-d", str(work)], env)
    assert job_stats(plan.stdout + plan.stderr) == {"gpu_smoke": 1}  # only the summary is left
    records = read_records(tmp_path / "requests.jsonl")
    assert sorted(r["wildcards"]["machine"] for r in records) == sorted(gpu.GPU_MACHINES)
    for record in records:
        machine = record["wildcards"]["machine"]
        accelerator, cores = gpu.GPU_MACHINES[machine]
        job = record["request"]["job"]
        policy = job["allocationPolicy"]["instances"][0]["policy"]
        task = job["taskGroups"][0]["taskSpec"]
        assert policy["machineType"] == machine
        assert [(a["type"], int(a["count"])) for a in policy["accelerators"]] == [(accelerator, 1)]
        assert "/worker-gpu:src-" in task["runnables"][-1]["container"]["imageUri"]
        assert record["threads"] == cores
        assert "ZETALAB_REQUIRE_CUDA=1" in _command(record)
        assert policy.get("provisioningModel", "PROVISIONING_MODEL_UNSPECIFIED") != "PREEMPTIBLE"


@pytest.mark.slow
def test_submission_errors_are_retried_and_a_failed_submission_fails_only_its_job(
    emulator, bucket, tmp_path
):
    """The first create_job calls answer 429, 503 and a lost deadline; the retries get every
    job through (the one whose answer was lost is found, not created twice), while the job
    the service refuses on every try fails alone and the others complete (--keep-going)."""
    work = workdir(tmp_path)
    env = cloud_env(
        emulator,
        bucket,
        tmp_path,
        ZETALAB_BATCH_MATERIALIZE="1",
        ZETALAB_BATCH_FAIL="429,503,deadline",
        ZETALAB_BATCH_REFUSE="a2-highgpu-1g",
    )
    targets = [f"results/cloud/gpu_smoke/{machine}.json" for machine in gpu.GPU_MACHINES]
    proc = snakemake(
        [*targets, "--profile", "gcp-batch", "-d", str(work), "--seconds-between-status-checks",
         "0", "--zetalab-batch-submit-attempts", "4", "--zetalab-batch-submit-backoff-seconds",
         "0.05"], env)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    records = read_records(tmp_path / "requests.jsonl")
    outcomes = [r["outcome"] for r in records]
    refused = [r for r in records if r["wildcards"]["machine"] == "a2-highgpu-1g"]
    assert [r["outcome"] for r in refused] == ["ServiceUnavailable"] * 4
    assert "could not be submitted in 4 tries" in out
    others = [r for r in records if r not in refused]
    assert sorted(o for o in (r["outcome"] for r in others) if o != "created") == sorted(
        ["ResourceExhausted", "ServiceUnavailable", "DeadlineExceeded", "AlreadyExists"]
    ), outcomes
    created = {r["request"]["jobId"] for r in records if r["created"]}
    assert len(created) == 2  # each good job exactly once, though one answer was lost
    stored = blobs(emulator, bucket)
    for machine in ("a2-ultragpu-1g", "g2-standard-8"):
        assert f"zetalab/results/cloud/gpu_smoke/{machine}.json" in stored
    assert "zetalab/results/cloud/gpu_smoke/a2-highgpu-1g.json" not in stored


@pytest.mark.slow
def test_first_run_retry_check_is_a_spot_job_that_fails_once(emulator, bucket, tmp_path):
    """The checklist's deliberately failing job: spot, 3 retries allowed, the one lifecycle
    policy, and a command that exits 1 (which Batch must not retry)."""
    work = workdir(tmp_path)
    env = cloud_env(emulator, bucket, tmp_path, ZETALAB_BATCH_MATERIALIZE="1")
    proc = snakemake(
        ["results/cloud/retry_check.txt", "--profile", "gcp-batch", "-d", str(work),
         "--seconds-between-status-checks", "0"], env)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]  # the recorder "succeeds"
    (record,) = read_records(tmp_path / "requests.jsonl")
    task = _task(record)
    policy = record["request"]["job"]["allocationPolicy"]["instances"][0]["policy"]
    assert policy["provisioningModel"] == "PREEMPTIBLE" and task["maxRetryCount"] == 3
    assert task["lifecyclePolicies"] == [
        {"action": "RETRY_TASK", "actionCondition": {"exitCodes": [50001]}}
    ]
    assert "--target-jobs" in _command(record) and "cloud_retry_check" in _command(record)
