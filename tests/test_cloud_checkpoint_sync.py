"""Training checkpoints mirrored to the bucket while a Batch job runs, so a preempted run
resumes from the bucket on another VM (zetalab.cloud.checkpoint_sync), against a local GCS
emulator (gcp-storage-emulator through STORAGE_EMULATOR_HOST)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from zetalab.cloud import checkpoint_sync
from zetalab.cloud.checkpoint_sync import CheckpointMirror, mirrored, object_key
from zetalab.errors import ZetalabError

PROJECT = "zl-test-project"


@pytest.fixture
def store(emulator, monkeypatch):
    """A fresh bucket; the environment a zetalab-batch job gets (store, project, interval)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator)
    bucket = f"zl-{uuid.uuid4().hex[:12]}"
    client = storage.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": emulator},
    )
    client.create_bucket(bucket)
    monkeypatch.setenv(checkpoint_sync.STORE_VAR, f"gs://{bucket}/zetalab/.checkpoints")
    monkeypatch.setenv(checkpoint_sync.PROJECT_VAR, PROJECT)
    monkeypatch.setenv(checkpoint_sync.INTERVAL_VAR, "0.05")
    return client.bucket(bucket)


def test_object_key_drops_the_vm_specific_storage_prefix(tmp_path):
    local = tmp_path / ".snakemake/storage/gcs/zl-b/zetalab/results/runs/ab/f/seed0/checkpoint.pt"
    assert object_key(local, tmp_path) == "zetalab/results/runs/ab/f/seed0/checkpoint.pt"
    assert object_key(tmp_path / "results/x/checkpoint.pt", tmp_path) == "results/x/checkpoint.pt"


def test_bad_store_url_is_named():
    with pytest.raises(ZetalabError, match="ZETALAB_CHECKPOINT_STORE='bucket/x'"):
        CheckpointMirror(Path("c.pt"), "bucket/x")


def test_no_store_no_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv(checkpoint_sync.STORE_VAR, raising=False)
    with mirrored(tmp_path / "checkpoint.pt") as mirror:
        assert mirror is None
    assert checkpoint_sync.attach(tmp_path / "checkpoint.pt") is None


def test_each_new_version_reaches_the_bucket_and_comes_back(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    local = Path("run/checkpoint.pt")
    local.parent.mkdir()
    with mirrored(local) as mirror:
        assert mirror.url == f"gs://{store.name}/zetalab/.checkpoints/run/checkpoint.pt"
        local.write_bytes(b"epoch 3")
        deadline = time.monotonic() + 10
        blob = store.blob("zetalab/.checkpoints/run/checkpoint.pt")
        while not blob.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the watcher uploads while the body is still running
        assert blob.download_as_bytes() == b"epoch 3"
        local.write_bytes(b"epoch 6")
    assert blob.download_as_bytes() == b"epoch 6"  # the last version, uploaded on exit

    local.unlink()  # a new VM: nothing local
    with mirrored(local):
        assert local.read_bytes() == b"epoch 6"
        local.unlink()  # the run removed its checkpoint
    assert not blob.exists()  # so the bucket's copy goes too


def test_preempted_training_resumes_from_the_bucket_on_another_vm(store, tmp_path, monkeypatch):
    """VM 1 trains 5 of 8 epochs (checkpoint at epoch 3) and is stopped; VM 2 starts with an
    empty disk, gets the checkpoint from the bucket and resumes at epoch 3."""
    from test_training import paths, tiny

    from zetalab.learning.dataset import zero_data
    from zetalab.learning.loop import TrainingInterrupted
    from zetalab.learning.run import train_run

    table = Path(__file__).resolve().parents[2] / "shared" / "data" / "odlyzko_zeros1.txt"
    if not table.exists():
        pytest.skip(f"reference table missing: {table}")
    import numpy as np

    zeros = zero_data(np.loadtxt(table, max_rows=640))
    for vm in ("vm1", "vm2"):
        (tmp_path / vm / "run").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "vm1")
    with pytest.raises(TrainingInterrupted):
        train_run(tiny("fullbatch", max_epochs=8), zeros, 1, "t", paths(Path("run")),
                  interrupt_after_epoch=5)  # fmt: skip
    checkpoint_sync.close_all()  # the VM is gone; what the bucket holds is what counts
    assert store.blob("zetalab/.checkpoints/run/checkpoint.pt").exists()

    monkeypatch.chdir(tmp_path / "vm2")
    metrics = train_run(tiny("fullbatch", max_epochs=8), zeros, 1, "t", paths(Path("run")))
    checkpoint_sync.close_all()
    assert metrics["resumed_from_epoch"] == 3 and metrics["epochs_run"] == 8
    on_disk = json.loads((tmp_path / "vm2" / "run" / "metrics.json").read_text())
    assert on_disk["resumed_from_epoch"] == 3
