"""The Batch requests of two recorded runs, the figures of issue 21: requests, lifecycle
policies per task, distinct job ids, submission tries; and the dry-run times of both profiles.

    .venv/bin/python benchmarks/cloud_requests.py               # default target + 2,000 chunks
    .venv/bin/python benchmarks/cloud_requests.py --chunks 0    # default target only

Each run is `snakemake --profile gcp-batch` from the repository root, with Google Batch replaced
at its API boundary by zetalab.cloud.recording (jobs "succeed" and leave empty outputs) and the
bucket by a local GCS emulator, as in tests/test_cloud_workflow.py. The 2,000-chunk run is the
100-million-zero configuration (profiles/gcp-batch/zeros-100M.yaml) up to its chunk jobs.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

from zetalab.cloud.recording import recorded_environment

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROJECT = "zl-test-project"
ODLYZKO = REPO.parent / "shared" / "data" / "odlyzko_zeros1.txt"


def start_emulator() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [str(BIN / "gcp-storage-emulator"), "start", "--port", str(port), "-H", "127.0.0.1"]
    proc = subprocess.Popen([*cmd, "--in-memory", "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    return proc, f"http://127.0.0.1:{port}"


def new_bucket(endpoint: str) -> str:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    name = f"zl-{uuid.uuid4().hex[:12]}"
    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": endpoint})  # fmt: skip
    client.create_bucket(name)
    return name


def environment(endpoint: str, bucket: str, tmp: Path, record: Path) -> dict[str, str]:
    return recorded_environment(
        endpoint, bucket, PROJECT, tmp / "site", record, ZETALAB_BATCH_MATERIALIZE="1"
    )


def workdir(tmp: Path) -> Path:
    work = tmp / "work"
    (work / "config").mkdir(parents=True)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["zeros"]["odlyzko_table"] = str(ODLYZKO)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return work


def shape(record: Path) -> dict:
    entries = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    created = [e for e in entries if e["created"]]
    tasks = [e["request"]["job"]["taskGroups"][0]["taskSpec"] for e in created]
    policies = [len(t.get("lifecyclePolicies", [])) for t in tasks]
    ids = [e["request"]["jobId"] for e in created]
    return {
        "tries": len(entries),
        "jobs": len(created),
        "max policies/task": max(policies, default=0),
        "tasks with 1 policy": policies.count(1),
        "distinct job ids": len(set(ids)),
        "longest id": max(map(len, ids), default=0),
    }


def recorded_run(name: str, args: list[str], endpoint: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="zl-requests-") as tmp_name:
        tmp = Path(tmp_name)
        record = tmp / "requests.jsonl"
        env = environment(endpoint, new_bucket(endpoint), tmp, record)
        cmd = [str(BIN / "snakemake"), *args, "--profile", "gcp-batch", "-d", str(workdir(tmp)),
               "--seconds-between-status-checks", "0", "--quiet", "rules"]  # fmt: skip
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode:
            sys.exit(f"{name}: snakemake failed\n{(proc.stdout + proc.stderr)[-3000:]}")
        return {"run": name, **shape(record), "seconds": round(seconds)}


def dry_run_seconds(profile: str, endpoint: str) -> float:
    with tempfile.TemporaryDirectory(prefix="zl-dry-") as tmp_name:
        tmp = Path(tmp_name)
        env = environment(endpoint, new_bucket(endpoint), tmp, tmp / "requests.jsonl")
        cmd = [str(BIN / "snakemake"), "--profile", profile, "-n", "-d", str(workdir(tmp))]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{profile} -n failed\n{(proc.stdout + proc.stderr)[-3000:]}")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, choices=(0, 2000))
    args = parser.parse_args()
    emulator, endpoint = start_emulator()
    try:
        rows = [recorded_run("default target", [], endpoint)]
        if args.chunks:
            target = "data/zeros/rs/zeros_100000000.npy"
            config = "profiles/gcp-batch/zeros-100M.yaml"
            run = [target, "--configfile", str(REPO / config), "--until", "zeros_chunk"]
            rows.append(recorded_run("2,000-chunk zero run", run, endpoint))
        dry = {p: dry_run_seconds(p, endpoint) for p in ("gcp-batch", "profiles/slurm")}
    finally:
        emulator.terminate()
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    for profile, seconds in dry.items():
        print(f"snakemake --profile {profile} -n: {seconds:.1f} s")


if __name__ == "__main__":
    main()
