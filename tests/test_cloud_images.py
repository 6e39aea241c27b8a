"""Worker images named after the sources they install, and the worker's refusal to run when
the installed package differs from the uploaded sources (zetalab.cloud.images)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from zetalab.cloud import images
from zetalab.errors import ZetalabError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of what the image hash covers: src/ and the build inputs."""
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in images.BUILD_INPUTS:
        shutil.copy(REPO / name, root / name)
    return root


def test_tag_follows_the_sources_and_the_build_inputs(checkout):
    before = images.image_tag(checkout)
    assert before.startswith("src-") and len(before) == 20
    assert images.image_tag(checkout) == before  # deterministic
    (checkout / "src" / "zetalab" / "cloud" / "gpu.py").write_text("# changed\n")
    after_code = images.image_tag(checkout)
    assert after_code != before
    with (checkout / "requirements.lock").open("a") as fh:
        fh.write("# a new pin\n")
    assert images.image_tag(checkout) not in (before, after_code)


def test_image_names_and_the_unset_repository():
    named = images.worker_images("europe-west4-docker.pkg.dev/p/zetalab/")
    tag = images.image_tag()
    assert named.cpu == f"europe-west4-docker.pkg.dev/p/zetalab/worker-cpu:{tag}"
    assert named.gpu == f"europe-west4-docker.pkg.dev/p/zetalab/worker-gpu:{tag}"
    assert images.worker_images("").cpu.startswith("$ZETALAB_IMAGE_REPO/")
    assert images.is_image_name(named.cpu) and images.is_image_name("python:3.11-slim")
    for bad in ("not an image", "Europe/Worker:1", "$ZETALAB_IMAGE_REPO/worker-cpu:src-1"):
        assert not images.is_image_name(bad)


def test_build_commands_build_the_cpu_stage_and_the_default_gpu_stage():
    named = images.worker_images("r.example/p")
    commands = images.build_commands(named)
    # Batch runs x86 VMs: both images are built for linux/amd64 whatever the build machine is
    amd64 = ["docker", "build", "--platform", "linux/amd64"]
    assert commands[0][:6] == [*amd64, "--target", "cpu"] and named.cpu in commands[0]
    assert commands[1] == ["docker", "push", named.cpu]
    assert commands[2][:4] == amd64 and "--target" not in commands[2] and named.gpu in commands[2]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "FROM ${CPU_IMAGE} AS cpu" in dockerfile
    assert dockerfile.rstrip().splitlines()[-1] == 'CMD ["bash"]'
    last_from = [line for line in dockerfile.splitlines() if line.startswith("FROM ")][-1]
    assert last_from == "FROM ${CUDA_IMAGE}"  # the GPU image is the default target


def test_worker_refuses_an_installed_package_that_differs(checkout, tmp_path):
    installed = tmp_path / "site-packages" / "zetalab"
    shutil.copytree(checkout / "src" / "zetalab", installed)
    images.check_installed_package(checkout / "src", installed)  # the same code: runs
    (installed / "cloud" / "gpu.py").write_text("# an older version\n")
    (installed / "old_module.py").write_text("x = 1\n")
    with pytest.raises(ZetalabError) as info:
        images.check_installed_package(checkout / "src", installed)
    text = str(info.value)
    assert "differs from the sources uploaded with the workflow in 2 file(s)" in text
    assert "cloud/gpu.py" in text and "old_module.py" in text
    assert "python -m zetalab.cloud.images build" in text


def test_installed_package_is_found_beside_the_sources(checkout, tmp_path, monkeypatch):
    """What `import zetalab` gives a rule script when the sources are not on its path."""
    site = tmp_path / "site-packages"
    shutil.copytree(checkout / "src" / "zetalab", site / "zetalab")
    monkeypatch.setattr(sys, "path", [str(checkout / "src"), str(site)])
    assert images.installed_package_dir(checkout / "src") == (site / "zetalab").resolve()
    monkeypatch.setattr(sys, "path", [str(checkout / "src")])
    assert images.installed_package_dir(checkout / "src") is None  # editable: one copy
