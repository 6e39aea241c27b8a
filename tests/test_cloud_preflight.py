"""Preflight of the gcp-batch profile: each missing variable or bad bucket gets a message that
names it, read from the same command line Snakemake parses (profiles and environment included)."""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zetalab.cloud import preflight
from zetalab.cloud.images import worker_images
from zetalab.cloud.preflight import CloudSettings, settings_from_cli
from zetalab.errors import ZetalabError

REPO = Path(__file__).resolve().parents[1]
IMAGE_REPO = "europe-west4-docker.pkg.dev/zl-test-project/zetalab"
VARS = {
    "ZETALAB_GCP_PROJECT": "zl-test-project",
    "ZETALAB_GCP_REGION": "europe-west4",
    "ZETALAB_GCS_BUCKET": "zl-bucket",
    "ZETALAB_IMAGE_REPO": IMAGE_REPO,
}
IMAGES = worker_images(IMAGE_REPO)
COMPLETE = CloudSettings(
    executor="zetalab-batch",
    batch_project="zl-test-project",
    batch_region="europe-west4",
    container_image=IMAGES.cpu,
    rule_images=(IMAGES.gpu,),
    storage_provider="gcs",
    storage_prefix="gcs://zl-bucket/zetalab",
    storage_project="zl-test-project",
)


# What `gcloud auth application-default login` leaves behind (no network needed to load it).
ADC = (
    '{"type": "authorized_user", "client_id": "zl-test.apps.googleusercontent.com", '
    '"client_secret": "zl-test", "refresh_token": "zl-test"}'
)


@pytest.fixture
def cloud_env(monkeypatch, tmp_path):
    """All four variables set, and credentials; tests delete the one they are about."""
    monkeypatch.chdir(REPO)  # `--profile gcp-batch` is found in the working directory
    (tmp_path / "adc.json").write_text(ADC)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "adc.json"))
    for plugin in ("GOOGLEBATCH", "ZETALAB_BATCH"):
        for name in ("PROJECT", "REGION"):
            monkeypatch.delenv(f"SNAKEMAKE_{plugin}_{name}", raising=False)
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
    # the CPU image for all rules, the GPU image for GPU rules, both tagged with the source hash
    tag = worker_images(IMAGE_REPO).cpu.rsplit(":", 1)[1]
    assert re.fullmatch(r"src-[0-9a-f]{16}", tag)
    assert settings.container_image == f"{IMAGE_REPO}/worker-cpu:{tag}"
    assert settings.rule_images == (f"{IMAGE_REPO}/worker-gpu:{tag}",)
    assert dataclasses.replace(settings, container_image=None, rule_images=()) == (
        dataclasses.replace(COMPLETE, container_image=None, rule_images=())
    )
    preflight.preflight(settings, reach_bucket=False)  # complete: no problem


@pytest.mark.parametrize(
    ("variable", "said"),
    [
        ("ZETALAB_GCP_PROJECT", "the Google Cloud project id"),
        ("ZETALAB_GCP_REGION", "the Google Batch region"),
        ("ZETALAB_GCS_BUCKET", "the GCS bucket that holds all data"),
        (
            "ZETALAB_IMAGE_REPO",
            "the Artifact Registry repository of the worker images built from ./Dockerfile",
        ),
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


@pytest.mark.parametrize("value", ["gs://zl-bucket", "gs://zl-bucket/", "gcs://zl-bucket"])
def test_bucket_given_as_url_is_explained(cloud_env, value):
    cloud_env.setenv("ZETALAB_GCS_BUCKET", value)
    text = problems_text(profile_settings())
    assert "ZETALAB_GCS_BUCKET must be the bucket name alone, without" in text
    assert "export ZETALAB_GCS_BUCKET=zl-bucket" in text
    assert "is not a valid bucket name" not in text


def test_unknown_region_is_refused(cloud_env):
    cloud_env.setenv("ZETALAB_GCP_REGION", "mars-north1")
    text = problems_text(profile_settings())
    assert "ZETALAB_GCP_REGION='mars-north1' is not a Google Cloud region" in text


def test_invalid_image_name_is_refused(cloud_env):
    cloud_env.setenv("ZETALAB_IMAGE_REPO", "not an image")
    text = problems_text(profile_settings())
    assert "'not an image/worker-cpu:src-" in text and "is not a valid container image name" in text
    settings = dataclasses.replace(COMPLETE, container_image="not an image")
    assert "'not an image' is not a valid container image name" in problems_text(settings)


def test_a_stale_or_unset_gpu_image_is_refused():
    settings = dataclasses.replace(COMPLETE, rule_images=("$ZETALAB_IMAGE_REPO/worker-gpu:src-0",))
    assert "ZETALAB_IMAGE_REPO is not set" in problems_text(settings)


def test_batch_without_gcs_storage_is_refused():
    settings = CloudSettings(
        executor="zetalab-batch",
        batch_project="zl-test-project",
        batch_region="europe-west4",
        container_image=IMAGES.cpu,
    )
    assert "default storage provider must be gcs" in problems_text(settings)


def test_default_snakemake_image_is_not_a_worker():
    settings = dataclasses.replace(COMPLETE, container_image="snakemake/snakemake:v9.27.1")
    assert "ZETALAB_IMAGE_REPO is not set" in problems_text(settings)


def test_local_runs_are_not_checked():
    """The same broken settings stop a Batch run and pass untouched on a local run."""
    broken = dataclasses.replace(
        COMPLETE, batch_region="mars-north1", container_image="not an image"
    )
    assert "mars-north1" in problems_text(broken)
    preflight.preflight(dataclasses.replace(broken, executor="local", storage_provider=None))


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
        ["--profile", "gcp-batch", "--zetalab-batch-region", "us-central1", "-n"]
    )
    assert settings.batch_region == "us-central1"


def test_root_symlink_is_the_profile():
    link = REPO / "gcp-batch"
    assert link.is_symlink() and link.resolve() == (REPO / "profiles" / "gcp-batch").resolve()
    assert (link / "config.yaml").is_file()


def test_preflight_is_included_before_any_rule():
    snakefile = (REPO / "Snakefile").read_text()
    common = snakefile.index('include: "rules/common.smk"')
    assert common < snakefile.index('include: "rules/cloud.smk"') < snakefile.index("rule all")


def plan_with_profile(env: dict, workdir: Path) -> subprocess.CompletedProcess:
    """`snakemake --profile gcp-batch -n`, typed in the repository root."""
    snakemake = Path(sys.executable).parent / "snakemake"
    return subprocess.run(
        [str(snakemake), "--profile", "gcp-batch", "-n", "-d", str(workdir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_snakemake_with_the_profile_stops_at_parse_time_on_a_bad_region(tmp_path):
    """`snakemake --profile gcp-batch` itself runs the preflight when it reads the Snakefile:
    a bad region stops it with the preflight's message, before any DAG or upload."""
    with socket.socket() as sock:  # the storage plugin needs an endpoint, never reached
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZETALAB_", "SNAKEMAKE_"))}
    env.update(
        VARS, ZETALAB_GCP_REGION="mars-north1", STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{port}"
    )
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text((REPO / "config" / "config.yaml").read_text())
    proc = plan_with_profile(env, tmp_path)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "ZETALAB_GCP_REGION='mars-north1' is not a Google Cloud region" in output
    assert "nothing was submitted" in output


@pytest.mark.parametrize(
    ("message", "advice"),
    [
        (
            "caller does not have serviceusage.services.use access to the Google Cloud project",
            ["roles/serviceusage.serviceUsageConsumer on project zl-test-project"],
        ),
        (
            "does not have storage.buckets.get access",
            [
                "roles/storage.objectAdmin and roles/storage.legacyBucketReader on the bucket",
                "roles/serviceusage.serviceUsageConsumer",
            ],
        ),
    ],
)
def test_forbidden_bucket_names_the_roles_to_grant(monkeypatch, message, advice):
    """A 403 from GCS (raised by the storage client itself, at its API boundary)."""
    from google.api_core import exceptions
    from google.cloud import storage

    def forbidden(self, *args, **kwargs):
        raise exceptions.Forbidden(message)

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    monkeypatch.setattr(storage.Bucket, "exists", forbidden)
    with pytest.raises(ZetalabError) as info:
        preflight.check_bucket("zl-bucket", "zl-test-project")
    text = str(info.value)
    assert "bucket gs://zl-bucket is not accessible" in text
    for role in advice:
        assert role in text


def test_no_credentials_is_one_message_naming_the_command(tmp_path):
    """Without Google credentials `snakemake --profile gcp-batch -n` used to end in the GCS
    plugin's 49-line DefaultCredentialsError traceback; the profile now stops first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZETALAB_", "SNAKEMAKE_"))}
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "CLOUDSDK_CONFIG"):
        env.pop(name, None)
    env.update(VARS, HOME=str(tmp_path))  # no gcloud application-default credentials here
    proc = plan_with_profile(env, tmp_path)
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 1
    assert "Traceback" not in output and len(output.splitlines()) <= 2, output
    assert "zetalab: no Google Cloud credentials on this machine" in output
    assert "Run `gcloud auth application-default login`" in output


def test_credentials_check_names_googles_reason_and_spares_emulated_runs():
    from google.auth.exceptions import DefaultCredentialsError

    def missing():
        raise DefaultCredentialsError("File /x.json was not found. More text")

    assert preflight.credentials_problem({}, missing) == "File /x.json was not found"
    assert preflight.credentials_problem({"STORAGE_EMULATOR_HOST": "h"}, missing) is None
    assert preflight.credentials_problem({}, lambda: ("creds", "p")) is None


def test_missing_reference_table_is_refused_for_cloud_runs(tmp_path):
    config = {"zeros": {"odlyzko_table": "../shared/data/odlyzko_zeros1.txt"}}
    problems = preflight.reference_problems(config, tmp_path)
    assert len(problems) == 1 and "zeros.odlyzko_table" in problems[0]
    (tmp_path / "table.txt").write_text("14.134725142\n")
    assert preflight.reference_problems({"zeros": {"odlyzko_table": "table.txt"}}, tmp_path) == []


class FakeCompute:
    """Compute Engine's aggregated acceleratorTypes list, two pages."""

    def __init__(self, zones_by_gpu):
        self.zones_by_gpu = zones_by_gpu
        self.calls = []

    def get(self, url, params=None, timeout=None):
        self.calls.append(params)
        gpu = params["filter"].split('"')[1]
        zones = self.zones_by_gpu.get(gpu, [])
        page = int(params.get("pageToken", 0))
        chunk = zones[page : page + 2]
        items = {f"zones/{z}": {"acceleratorTypes": [{"name": gpu}]} for z in chunk}
        items["zones/xx-none1-a"] = {"warning": {"code": "NO_RESULTS_ON_PAGE"}}
        data = {"items": items}
        if page + 2 < len(zones):
            data["nextPageToken"] = str(page + 2)

        class Response:
            def raise_for_status(self):
                return None

            def json(self):
                return data

        return Response()


def test_batch_region_without_a_planned_gpu_is_named_with_regions_that_have_it():
    from zetalab.cloud.plan import accelerator_zones, batch_problems

    compute = FakeCompute({
        "nvidia-l4": ["europe-west4-a", "europe-west1-b", "us-central1-a"],
        "nvidia-a100-80gb": ["us-central1-c", "europe-west4-a"],
    })  # fmt: skip
    assert accelerator_zones("p", "nvidia-l4", compute) == {
        "europe-west4-a", "europe-west1-b", "us-central1-a"
    }  # fmt: skip
    assert len(compute.calls) == 2  # followed the page token

    def zones_of(gpu):
        return accelerator_zones("p", gpu, compute)

    requests = [
        ("train", {"nvidia_gpu": "nvidia-a100-80gb"}),
        ("train", {"nvidia_gpu": "nvidia-l4"}),
        ("zeros_chunk", {}),
    ]
    assert batch_problems(requests, "europe-west4", zones_of) == []
    problems = batch_problems(requests, "europe-west1", zones_of)
    assert problems == [
        "nvidia-a100-80gb (rules train) is not offered in ZETALAB_GCP_REGION=europe-west1 "
        "(regions that have it: europe-west4, us-central1); choose a region with every GPU the "
        "run needs, e.g. europe-west4, us-central1"
    ]
    assert batch_problems([("zeros_chunk", {})], "mars-north1", zones_of) == []
    # a zone of europe-west10 is not one of europe-west1
    west10 = batch_problems(
        [("train", {"nvidia_gpu": "g"})], "europe-west1", lambda g: {"europe-west10-a"}
    )
    assert len(west10) == 1 and "(regions that have it: europe-west10)" in west10[0]
