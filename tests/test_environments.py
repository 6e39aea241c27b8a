"""The pinned environments agree with pyproject.toml: envs/*.yaml (for --sdm conda) and the
worker container recipe (Dockerfile). Neither conda nor docker runs here, so pip's own resolver
is run offline against this venv (where every pin is installed) to prove the pins are consistent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("zeros", "learning", "spectral")
# What each family's rules import (beyond the standard library); the env must pin them.
FAMILY_NEEDS = {
    "zeros": {"numpy", "scipy", "numba", "python-flint", "mpmath", "jsonschema", "pyyaml"},
    "learning": {
        "numpy",
        "finufft",
        "torch",
        "torch-geometric",
        "pymetis",
        "optuna",
        "pandas",
        "matplotlib",
    },
    "spectral": {
        "numpy",
        "scipy",
        "scikit-learn",
        "torch",
        "torchdiffeq",
        "onnx",
        "onnxscript",
        "matplotlib",
    },
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


TORCH_CUDA_INDEX = "--extra-index-url https://download.pytorch.org/whl/cu126"


def pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = {}
    for requirement in data["project"]["dependencies"]:
        match = PIN.match(requirement)
        assert match, f"pyproject.toml dependency is not an exact pin: {requirement}"
        pins[_norm(match.group(1))] = match.group(2)
    return pins


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if match := PIN.match(line.strip()):
            pins[_norm(match.group(1))] = match.group(2)
    return pins


def requires_python() -> str:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    match = re.fullmatch(r"==(\d+\.\d+)\.\*", data["project"]["requires-python"])
    assert match, "requires-python should be ==X.Y.*"
    return match.group(1)


def load_env(family: str) -> dict:
    return yaml.safe_load((REPO / "envs" / f"{family}.yaml").read_text())


def env_pip_section(env: dict) -> list[str]:
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "one pip section expected"
    return sections[0]


def pip_resolves_offline(args: list[str]) -> subprocess.CompletedProcess:
    """pip's resolver against the installed pins only: no index, no build isolation."""
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index"]
    cmd += ["--no-build-isolation", "--quiet", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)


def test_pyproject_and_lock_agree():
    lock = lock_pins()
    for name, version in pyproject_pins().items():
        assert lock.get(name) == version, f"{name}: pyproject {version}, lock {lock.get(name)}"


def _lock_text() -> str:
    return (REPO / "requirements.lock").read_text()


@pytest.mark.parametrize("family", FAMILIES)
def test_env_is_pinned_and_consistent_with_pyproject(family):
    env = load_env(family)
    assert env["channels"] == ["conda-forge", "nodefaults"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert f"python={requires_python()}" in conda
    assert any(re.fullmatch(r"pip=\d+(\.\d+)+", d) for d in conda), "pip must be pinned"
    allowed = {**lock_pins(), **pyproject_pins()}
    pinned = {}
    for entry in env_pip_section(env):
        if entry.startswith("-e ") or entry == TORCH_CUDA_INDEX:
            continue
        match = PIN.match(entry)
        assert match, f"envs/{family}.yaml: {entry!r} is not an exact pin"
        name, version = _norm(match.group(1)), match.group(2)
        assert name in allowed, f"envs/{family}.yaml: {name} is not a dependency of zetalab"
        assert version == allowed[name], (
            f"envs/{family}.yaml: {name}=={version}, pinned {allowed[name]}"
        )
        pinned[name] = version
    missing = FAMILY_NEEDS[family] - set(pinned)
    assert not missing, f"envs/{family}.yaml lacks {sorted(missing)}"
    # an env with torch takes the GPU image's CUDA build (cu126), not PyPI's CUDA 13 wheel
    assert (TORCH_CUDA_INDEX in env_pip_section(env)) == ("torch" in pinned), family


@pytest.mark.parametrize("family", FAMILIES)
def test_env_installs_the_repository_for_the_scripts(family):
    """Snakemake copies the env file to <workdir>/.snakemake/conda/; the editable line must
    point from there back to the repository root, so `import zetalab` works in the scripts."""
    editable = [e for e in env_pip_section(load_env(family)) if e.startswith("-e ")]
    assert len(editable) == 1
    target = (REPO / ".snakemake" / "conda" / editable[0][3:].strip()).resolve()
    assert target == REPO
    assert (target / "pyproject.toml").exists() and (target / "src" / "zetalab").is_dir()


@pytest.mark.parametrize("family", FAMILIES)
def test_env_pins_resolve_with_the_project(family, tmp_path):
    """pip resolves the env's pins together with zetalab's own: a pin that disagrees with
    pyproject.toml (or with another pin) makes the resolver fail."""
    lines = [e for e in env_pip_section(load_env(family)) if not e.startswith("-e ")]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join([*lines, f"-e {REPO}"]) + "\n")
    proc = pip_resolves_offline(["-r", str(requirements)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- Dockerfile --------------------------------------------------------------------------------


def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


def docker_arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", dockerfile(), re.M)
    assert match, f"Dockerfile lacks ARG {name}"
    return match.group(1)


def test_dockerfile_base_python_and_torch_match_pyproject():
    assert re.search(r"^FROM \$\{CUDA_IMAGE\}$", dockerfile(), re.M)
    image = docker_arg("CUDA_IMAGE")
    cuda = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.\d+-base-ubuntu[\d.]+", image)
    assert cuda, image
    # torch's wheel variant is the base image's CUDA (cu126 <-> 12.6), the one the docs name
    assert docker_arg("TORCH_CUDA") == f"cu{cuda.group(1)}{cuda.group(2)}" == "cu126"
    assert docker_arg("PYTHON_VERSION") == requires_python()
    assert docker_arg("TORCH_VERSION") == pyproject_pins()["torch"]
    makefile_pip = re.search(r"pip==([\d.]+)", (REPO / "Makefile").read_text()).group(1)
    assert docker_arg("PIP_VERSION") == makefile_pip


def _docker_commands() -> list[str]:
    """The shell commands of the RUN instructions (continuations joined, split at &&)."""
    text = dockerfile().replace("\\\n", " ")
    runs = re.findall(r"^RUN (.+)$", text, re.M)
    return [part.strip() for run in runs for part in run.split("&&")]


def test_dockerfile_installs_only_pinned_packages():
    installs = [c for c in _docker_commands() if re.search(r"\bpip install\b", c)]
    assert installs, "no pip install in the Dockerfile"
    for command in installs:
        args = command.split("pip install", 1)[1].split()
        i = 0
        while i < len(args):
            arg = args[i].strip("\"'")
            if arg == "-c":
                assert args[i + 1] == "/tmp/constraints.txt"
                i += 2
                continue
            if arg == "--index-url":  # torch only, from PyTorch's CPU or the GPU stage's CUDA index
                assert args[i + 1].strip("\"'") in (
                    "https://download.pytorch.org/whl/cpu",
                    "https://download.pytorch.org/whl/${TORCH_CUDA}",
                )
                assert args[i + 2 :] == ['"torch==${TORCH_VERSION}"'], command
                i += 2
                continue
            assert arg == "." or re.fullmatch(r"[A-Za-z0-9._-]+==\S+", arg), (
                f"unpinned install in Dockerfile: {command}"
            )
            i += 1
    project = [c for c in installs if c.endswith(" .")]
    assert project and "-c /tmp/constraints.txt" in project[0]
    assert "pip check" in " ".join(_docker_commands())


def test_dockerfile_constraints_pin_exactly_the_pyproject_versions(tmp_path):
    """Run the Dockerfile's own constraint step on requirements.lock, then let pip resolve
    `pip install -c constraints .` (offline, against the installed pins), as the build does."""
    step = next(c for c in _docker_commands() if "/tmp/constraints.txt" in c and "pip" not in c)
    step = step.replace("/tmp/constraints.txt", str(tmp_path / "constraints.txt"))
    env = {**os.environ, "TORCH_VERSION": docker_arg("TORCH_VERSION")}
    subprocess.run(["bash", "-c", step], check=True, cwd=REPO, env=env)
    constraints = (tmp_path / "constraints.txt").read_text().splitlines()
    assert not [c for c in constraints if "@" in c], "a file/URL requirement is left"
    pinned = {_norm(m.group(1)): m.group(2) for c in constraints if (m := PIN.match(c))}
    for name, version in pyproject_pins().items():
        assert pinned.get(name) == version, f"container would install {name}=={pinned.get(name)}"
    proc = pip_resolves_offline(["-c", str(tmp_path / "constraints.txt"), str(REPO)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
