"""Preflight of the gcp-batch profile: each missing variable or bad bucket gets a message that
names it, read from the same command line Snakemake parses (profiles and environment included)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zetalab.cloud import preflight
from zetalab.cloud.preflight import CloudSettings, settings_from_cli
from zetalab.errors import ZetalabError

REPO = Path(__file__).resolve().parents[1]
VARS = {
    "ZETALAB_GCP_PROJECT": "zl-test-project",
    "ZETALAB_GCP_REGION": "europe-west4",
    "ZETALAB_GCS_BUCKET": "zl-bucket",
    "ZETALAB_WORKER_IMAGE": "europe-west4-docker.pkg.dev/zl-test-project/zetalab/worker:0.1.0",
}


@pytest.fixture
def cloud_env(monkeypatch):
    """All four variables set; tests delete the one they are about."""
    monkeypatch.chdir(REPO)  # `--profile gcp-batch` is found in the working directory
    for name in ("SNAKEMAKE_GOOGLEBATCH_PROJECT", "SNAKEMAKE_GOOGLEBATCH_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SNAKEMAKE_STORAGE_GCS_PROJECT", raising=False)
    for name, value in VARS.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def profile_settings() -> CloudSettings:
    settings = settings_from_cli(["--profile", "gcp-batch", "-n"])
    assert settings is not None
    return settings


def problems_text(settings: CloudSettings) -> str:
    with pytest.raises(ZetalabError) as info:
        preflight.preflight(settings, reach_bucket=False)
    return str(info.value)


def test_profile_resolves_every_setting_from_the_environment(cloud_env):
    settings = profile_settings()
    assert settings == CloudSettings(
        executor="googlebatch",
        batch_project="zl-test-project",
        batch_region="europe-west4",
        container_image=VARS["ZETALAB_WORKER_IMAGE"],
        storage_provider="gcs",
        storage_prefix="gcs://zl-bucket/zetalab",
        storage_project="zl-test-project",
    )
    preflight.preflight(settings, reach_bucket=False)  # complete: no problem


@pytest.mark.parametrize(
    ("variable", "said"),
    [
        ("ZETALAB_GCP_PROJECT", "the Google Cloud project id"),
        ("ZETALAB_GCP_REGION", "the Google Batch region"),
        ("ZETALAB_GCS_BUCKET", "the GCS bucket that holds all data"),
        ("ZETALAB_WORKER_IMAGE", "the worker container built from ./Dockerfile"),
    ],
)
def test_each_missing_variable_is_named(cloud_env, variable, said):
    cloud_env.delenv(variable)
    text = problems_text(profile_settings())
    assert f"{variable} is not set ({said})" in text
    assert "nothing was submitted" in text
    others = set(VARS) - {variable}
    assert not any(f"{other} is not set" in text for other in others)


@pytest.mark.parametrize("variable", ["ZETALAB_GCP_REGION", "ZETALAB_GCS_BUCKET"])
def test_empty_variable_counts_as_missing(cloud_env, variable):
    cloud_env.setenv(variable, "")
    assert f"{variable} is not set" in problems_text(profile_settings())


def test_malformed_values_are_named(cloud_env):
    cloud_env.setenv("ZETALAB_GCP_REGION", "Europe West")
    cloud_env.setenv("ZETALAB_GCP_PROJECT", "My_Project")
    text = problems_text(profile_settings())
    assert "ZETALAB_GCP_REGION='Europe West' is not a valid Google Batch region" in text
    assert "ZETALAB_GCP_PROJECT='My_Project' is not a valid Google Cloud project id" in text


def test_bucket_given_as_url_is_explained(cloud_env):
    cloud_env.setenv("ZETALAB_GCS_BUCKET", "gs://zl-bucket")
    text = problems_text(profile_settings())
    assert "not a valid bucket name" in text or "is not a GCS URL" in text


def test_batch_without_gcs_storage_is_refused():
    settings = CloudSettings(
        executor="googlebatch",
        batch_project="zl-test-project",
        batch_region="europe-west4",
        container_image=VARS["ZETALAB_WORKER_IMAGE"],
    )
    assert "default storage provider must be gcs" in problems_text(settings)


def test_default_snakemake_image_is_not_a_worker():
    settings = CloudSettings(
        executor="googlebatch",
        batch_project="zl-test-project",
        batch_region="europe-west4",
        container_image="snakemake/snakemake:v9.27.1",
        storage_provider="gcs",
        storage_prefix="gcs://zl-bucket/zetalab",
        storage_project="zl-test-project",
    )
    assert "ZETALAB_WORKER_IMAGE is not set" in problems_text(settings)


def test_local_runs_are_not_checked():
    preflight.preflight(CloudSettings(executor="local"))  # no cloud in use: nothing to check


def test_unreachable_storage_endpoint_fails_fast(monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(ZetalabError) as info:
        preflight.check_bucket("zl-bucket", "zl-test-project", timeout=5)
    assert "bucket gs://zl-bucket is unreachable" in str(info.value)
    assert time.monotonic() - start < 30


def test_settings_from_cli_sees_command_line_overrides(cloud_env):
    settings = settings_from_cli(
        ["--profile", "gcp-batch", "--googlebatch-region", "us-central1", "-n"]
    )
    assert settings.batch_region == "us-central1"


def test_root_symlink_is_the_profile():
    link = REPO / "gcp-batch"
    assert link.is_symlink() and link.resolve() == (REPO / "profiles" / "gcp-batch").resolve()
    assert (link / "config.yaml").is_file()


def test_preflight_is_wired_into_the_snakefile():
    snakefile = (REPO / "Snakefile").read_text()
    common = snakefile.index('include: "rules/common.smk"')
    assert common < snakefile.index('include: "rules/cloud.smk"') < snakefile.index("rule all")
    proc = subprocess.run(
        [sys.executable, "-c", "import zetalab.cloud.preflight as p; print(p.BUCKET_VAR)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == "ZETALAB_GCS_BUCKET"
