"""Worker images named after the sources they hold, and the worker's check that they match.

Why: on Google Batch the rules come from the source archive Snakemake uploads with each run,
but the scripts import the zetalab package installed in the worker image. With a fixed tag
(worker:0.1.0) a code change without an image rebuild silently ran new rules with old code.
So the tag is a hash of what the image installs (src/, pyproject.toml, requirements.lock and
the Dockerfile): the profile computes it from the checkout (profiles/gcp-batch/config.yaml),
`python -m zetalab.cloud.images build` builds and pushes exactly those tags, and a worker
whose installed package differs from the uploaded sources refuses to run
(`check_installed_package`, called by rules/cloud.smk on every Batch job).

Two images: a slim CPU image (python:3.11-slim, CPU torch) for every CPU rule, and the CUDA
image for the GPU rules (`googlebatch_container` per rule in the profile), so the thousands of
small zero-chunk and run-config jobs do not each pull several GB of CUDA libraries.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from zetalab.errors import ZetalabError

REPO_VAR = "ZETALAB_IMAGE_REPO"
ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "zetalab"
# What `pip install .` in the Dockerfile turns into the installed package and its libraries.
BUILD_INPUTS = ("pyproject.toml", "requirements.lock", "Dockerfile")
TARGETS = ("cpu", "gpu")
# Batch runs x86 VMs; a build on an ARM machine (Apple silicon) must not push an arm64 image.
PLATFORM = "linux/amd64"
# <registry host>/<path...>[:tag]: lower-case path components, as Docker requires.
_IMAGE = re.compile(
    r"^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"
)


def is_image_name(name: str) -> bool:
    """Whether `name` is a well-formed container image reference (no spaces, lower case)."""
    return bool(_IMAGE.match(name))


def _package_files(package_dir: Path) -> dict[str, bytes]:
    """The package's Python sources by path relative to it (what both sides must agree on)."""
    return {
        path.relative_to(package_dir).as_posix(): path.read_bytes()
        for path in sorted(package_dir.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _digest(files: dict[str, bytes]) -> str:
    sha = hashlib.sha256()
    for name in sorted(files):
        sha.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return sha.hexdigest()


def source_hash(root: Path = ROOT) -> str:
    """Hash of everything the images install: src/ (Python files) plus the build inputs."""
    files = {f"src/{k}": v for k, v in _package_files(root / "src").items()}
    for name in BUILD_INPUTS:
        files[name] = (root / name).read_bytes()
    return _digest(files)


def image_tag(root: Path = ROOT) -> str:
    return f"src-{source_hash(root)[:16]}"


@dataclass(frozen=True)
class WorkerImages:
    cpu: str
    gpu: str


def worker_images(repo: str | None = None, root: Path = ROOT) -> WorkerImages:
    """The two image names for this checkout, under `repo` (default: $ZETALAB_IMAGE_REPO).

    When the variable is unset the names keep `$ZETALAB_IMAGE_REPO` in them, so the
    preflight reports the variable by name instead of a run pulling a nonsense image.
    """
    repo = os.environ.get(REPO_VAR, "") if repo is None else repo
    repo = repo.rstrip("/") or f"${REPO_VAR}"
    tag = image_tag(root)
    return WorkerImages(cpu=f"{repo}/worker-cpu:{tag}", gpu=f"{repo}/worker-gpu:{tag}")


def installed_package_dir(exclude: Path) -> Path | None:
    """Where `import zetalab` finds the package when `exclude` (the sources) is not on the path.

    That is what the rule scripts import in a worker image (the sources are only on the
    Snakefile's path); None when the sources are the only copy (an editable install).
    """
    search = [p for p in sys.path if p and Path(p).resolve() != exclude.resolve()]
    spec = importlib.machinery.PathFinder.find_spec(PACKAGE, search)
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations))).resolve()
    return None if found == (exclude / PACKAGE).resolve() else found


def check_installed_package(sources: Path, installed: Path | None) -> None:
    """Raise a ZetalabError if the installed package differs from the uploaded sources."""
    if installed is None:
        return
    ours = _package_files(sources / PACKAGE)
    theirs = _package_files(installed)
    if ours == theirs:
        return
    differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    shown = ", ".join(differ[:5]) + (f" and {len(differ) - 5} more" if len(differ) > 5 else "")
    raise ZetalabError(
        f"the zetalab package installed in this worker image ({installed}) differs from the "
        f"sources uploaded with the workflow in {len(differ)} file(s): {shown}; the job would "
        "run new rules with old code",
        "rebuild and push the worker images from this checkout "
        "(`python -m zetalab.cloud.images build`, docs/cloud.md), then rerun; the profile "
        "names the images after a hash of src/, so a rebuilt image is picked up by itself",
    )


def build_commands(images: WorkerImages, push: bool = True) -> list[list[str]]:
    """`docker build` (and push) of both targets of ./Dockerfile, for linux/amd64, under their
    hashed names."""
    commands = []
    for target in TARGETS:
        name = getattr(images, target)
        # the GPU image is the Dockerfile's last (default) stage; the CPU image is stage `cpu`
        stage = ["--target", target] if target == "cpu" else []
        commands.append(["docker", "build", "--platform", PLATFORM, *stage, "-t", name, str(ROOT)])
        if push:
            commands.append(["docker", "push", name])
    return commands


def main(argv: list[str] | None = None) -> int:
    """`python -m zetalab.cloud.images [names|build]`: print the names, or build and push."""
    argv = sys.argv[1:] if argv is None else argv
    images = worker_images()
    if not argv or argv[0] == "names":
        print(f"cpu {images.cpu}\ngpu {images.gpu}")
        return 0
    if argv[0] == "build":
        if images.cpu.startswith("$"):
            print(f"{REPO_VAR} is not set (e.g. europe-west4-docker.pkg.dev/my-project/zetalab)")
            return 2
        for command in build_commands(images, push="--no-push" not in argv):
            print("+", " ".join(command), flush=True)
            subprocess.run(command, check=True)
        return 0
    print("usage: python -m zetalab.cloud.images [names|build [--no-push]]")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
