"""The SLURM profile (profiles/slurm) through Snakemake's own SLURM executor plugin, offline.

Every command the pinned plugin (snakemake-executor-plugin-slurm 2.8.0 and its jobstep 0.6.1)
calls is a stub on PATH: sbatch, squeue, sacct, scontrol, scancel, sinfo, sacctmgr, sshare and
srun. The stubs record each call; `sbatch` starts the wrapped job in the background on this
machine as SLURM would on a node (with SLURM_JOB_ID, and CUDA_VISIBLE_DEVICES when the job
asked for a GPU), `sacct`/`squeue` report its state, and `srun` runs the job step. So the real
plugin code builds every request, and the tests check what each rule asks the cluster for and
that a workflow completes through the executor.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ODLYZKO = REPO.parent / "shared" / "data" / "odlyzko_zeros1.txt"
COMMANDS = ("sbatch", "squeue", "sacct", "scontrol", "scancel", "sinfo", "sacctmgr", "sshare")
COMMANDS += ("srun",)

STUB = r'''#!PYTHON
"""Stub of one SLURM command (the name it is called by); state under $STUB_SLURM_STATE."""
import json, os, shlex, signal, subprocess, sys, time
from pathlib import Path

STATE = Path(os.environ["STUB_SLURM_STATE"])
NAME = Path(sys.argv[0]).name
ARGS = sys.argv[1:]


def record(**extra):
    with open(STATE / "calls.jsonl", "a") as fh:
        fh.write(json.dumps({"command": NAME, "args": ARGS, **extra}) + "\n")


def options(args):
    """--key value / --key=value / -k value -> {key: value}; --wrap's value kept whole."""
    found, i = {}, 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            found[key] = value
        elif arg.startswith("-") and i + 1 < len(args) and not args[i + 1].startswith("-"):
            found[arg.lstrip("-")] = args[i + 1]
            i += 1
        elif arg.startswith("-"):
            found[arg.lstrip("-")] = True
        i += 1
    return found


def jobs():
    return {p.stem: json.loads(p.read_text()) for p in (STATE / "jobs").glob("*.json")}


def set_state(jobid, **fields):
    path = STATE / "jobs" / f"{jobid}.json"
    job = json.loads(path.read_text())
    job.update(fields)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(job))
    tmp.replace(path)


def gpu_env(opts, env):
    """What SLURM's gres plugin sets for a job or step granted GPUs."""
    asked = str(opts.get("gres", "")) + str(opts.get("gpus", ""))
    if "gpu" in asked or opts.get("gpus"):
        env["CUDA_VISIBLE_DEVICES"] = "0"
        env["SLURM_JOB_GPUS"] = "0"
    return env


if ARGS[:1] == ["--stub-run"]:  # the job itself, started in the background by sbatch
    jobid, command = ARGS[1], ARGS[2]
    set_state(jobid, state="RUNNING", pid=os.getpid())
    code = subprocess.call(["bash", "-c", command])
    set_state(jobid, state="COMPLETED" if code == 0 else "FAILED", exit=code)
elif NAME == "sbatch":
    opts = options(ARGS)
    (STATE / "jobs").mkdir(exist_ok=True)
    job = {"name": opts.get("job-name"), "state": "PENDING", "comment": opts.get("comment")}
    jobid = 1000
    while True:  # a new job id, even when two submissions race
        try:
            fd = os.open(STATE / "jobs" / f"{jobid}.json", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            break
        except FileExistsError:
            jobid += 1
    jobid = str(jobid)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(job))
    record(options=opts, jobid=jobid)
    if os.environ.get("STUB_SLURM_OUTPUTS"):  # requests only: the job just makes its outputs
        spec = shlex.split(opts["wrap"])
        target = spec[spec.index("--target-jobs") + 1]
        outputs = json.loads(Path(os.environ["STUB_SLURM_OUTPUTS"]).read_text())[target]
        dirs = " ".join(shlex.quote(str(Path(o).parent)) for o in outputs)
        files = " ".join(shlex.quote(o) for o in outputs)
        opts["wrap"] = f"sleep 1 && mkdir -p {dirs} && touch {files}"
    log = str(opts.get("output", "slurm-%j.out")).replace("%j", jobid)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    env = gpu_env(opts, dict(os.environ, SLURM_JOB_ID=jobid, SLURM_JOBID=jobid,
                             SLURM_CPUS_PER_TASK=str(opts.get("cpus-per-task", 1))))
    with open(log, "w") as out:
        subprocess.Popen([sys.executable, sys.argv[0], "--stub-run", jobid, opts["wrap"]],
                         cwd=opts.get("D") or os.getcwd(), env=env, stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    print(jobid)
elif NAME in ("sacct", "squeue"):
    opts = options(ARGS)
    if NAME == "sacct" and "o" in opts:  # the account guess: sacct -nu USER -o Account%256
        record()
        print("zetalab")
        sys.exit(0)
    record()
    for jobid, job in sorted(jobs().items()):
        if job["name"] == opts.get("name"):
            print(f"{jobid}|{job['state']}")
elif NAME == "scontrol":
    record()
    print("MinJobAge               = 300 sec\nMaxArraySize            = 1001")
elif NAME == "sinfo":  # -h: no header; the default partition carries a `*`
    record()
    partitions = os.environ.get("STUB_SLURM_PARTITIONS", "cpu*,gpu,gpu-large").split(",")
    print("\n".join(([] if "-h" in ARGS else ["PARTITION"]) + partitions))
elif NAME in ("sacctmgr", "sshare"):
    record()
    accounts = os.environ.get("STUB_SLURM_ACCOUNTS", "zetalab").split(",")
    if any(a.lower() == "format=defaultaccount" for a in ARGS):
        print(os.environ.get("STUB_SLURM_DEFAULT_ACCOUNT", accounts[0]))
    else:
        print("\n".join(accounts))
elif NAME == "scancel":
    record()
    for jobid in ARGS:
        if jobid.isdigit() and (STATE / "jobs" / f"{jobid}.json").exists():
            set_state(jobid, state="CANCELLED")
elif NAME == "srun":
    rest, opts = list(ARGS), {}
    while rest and rest[0].startswith("-"):
        opts.update(options([rest.pop(0)]))
    record(options=opts)
    env = gpu_env(opts, dict(os.environ))
    os.execvpe(rest[0], rest, env)
'''


@pytest.fixture
def cluster(tmp_path):
    """A directory of SLURM stubs to put first on PATH, and their state/record directory."""
    bin_dir, state = tmp_path / "slurm-bin", tmp_path / "slurm-state"
    bin_dir.mkdir()
    state.mkdir()
    source = STUB.replace("PYTHON", sys.executable, 1)
    for name in COMMANDS:
        exe = bin_dir / name
        exe.write_text(source)
        exe.chmod(0o755)
    return bin_dir, state


def calls(state: Path, command: str) -> list[dict]:
    path = state / "calls.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [c for c in map(json.loads, lines) if c["command"] == command]


def fast_profile(tmp_path: Path) -> Path:
    """profiles/slurm with the plugin's waiting cut to a second (the stubs answer at once)."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    text = (REPO / "profiles" / "slurm" / "config.yaml").read_text()
    text = text.replace("seconds-between-status-checks: 30", "seconds-between-status-checks: 1")
    text += "slurm-init-seconds-before-status-checks: 1\nlatency-wait: 5\n"
    (profile / "config.yaml").write_text(text)
    return profile


# The cluster's names as a user sets them (README); a test drops one by passing it as None.
CLUSTER_SETTINGS = {
    "ZETALAB_SLURM_ACCOUNT": "zetalab",
    "ZETALAB_SLURM_CPU_PARTITION": "cpu",
    "ZETALAB_SLURM_GPU_PARTITION": "gpu",
    "ZETALAB_SLURM_GPU_LARGE_PARTITION": "gpu-large",
    "ZETALAB_SLURM_A100_GRES": "gpu:a100:1",
    "ZETALAB_SLURM_GPU_LARGE_GRES": "gpu:a100_80g:1",
}


def run(args: list[str], cluster, tmp_path: Path, timeout: int = 240, **env_extra):
    bin_dir, state = cluster
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZETALAB_", "SNAKEMAKE_"))}
    env = {k: v for k, v in env.items() if not k.startswith("SLURM_")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        STUB_SLURM_STATE=str(state),
    )
    env.update({**CLUSTER_SETTINGS, **env_extra})
    env = {k: v for k, v in env.items() if v is not None}
    cmd = [str(Path(sys.executable).parent / "snakemake"), "--profile", str(fast_profile(tmp_path))]
    return subprocess.run(
        [*cmd, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def workdir(tmp_path: Path, **sections) -> Path:
    work = tmp_path / "work"
    (work / "config").mkdir(parents=True)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.setdefault("zeros", {})["odlyzko_table"] = str(ODLYZKO)
    for key, value in sections.items():
        config.setdefault(key, {}).update(value)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return work


def sbatch_request(call: dict) -> dict:
    """The parts of one sbatch call that say what the job asks the cluster for."""
    o = call["options"]
    rule = re.match(r"rule_([A-Za-z0-9_]+?)(_wildcards_|$)", o["comment"]).group(1)
    return {
        "rule": rule,
        "comment": o["comment"],
        "partition": o.get("p") or o.get("partition"),
        "account": o.get("A") or o.get("account"),
        "minutes": int(o["t"]) if "t" in o else None,
        "mem_mb": int(o["mem"]) if "mem" in o else None,
        "cpus": int(o.get("cpus-per-task") or o.get("cpus-per-gpu") or 0),
        "gres": o.get("gres"),
        "workdir": o.get("D"),
    }


# rule -> (partition, gres, threads, mem_mb, minutes): the cloud table, as cluster requests
CPU_DEFAULT = ("cpu", None, 1, 4000, 60)
EXPECTED = {
    "zeros_chunk": ("cpu", None, 2, 6000, 120),
    "zeros_aggregate": ("cpu", None, 4, 14000, 240),
    "zeros_check": ("cpu", None, 4, 14000, 120),
    "graph_build": ("cpu", None, 8, 58000, 240),
    "graph_partition": ("cpu", None, 16, 120000, 720),
    "baseline": ("cpu", None, 8, 28000, 240),
    "evaluate": ("cpu", None, 8, 28000, 120),
    "spectral_data": ("gpu", "gpu:a100:1", 12, 76000, 60),
    "spectral_train": ("gpu", "gpu:a100:1", 12, 76000, 240),
    "spectral_validate": ("gpu", "gpu:a100:1", 12, 76000, 60),
    "spectral_benchmark": ("gpu", "gpu:a100:1", 12, 76000, 60),
}


def expected_request(rule: str, comment: str) -> tuple:
    if rule == "train":
        fullbatch = "variant~fullbatch" in comment or "_fullbatch" in comment
        sweep = "sweep-" in comment and "sweep-championship" not in comment
        partition, gres = ("gpu-large", "gpu:a100_80g:1") if fullbatch else ("gpu", "gpu:1")
        return (partition, gres, 12 if fullbatch else 8, 160000 if fullbatch else 28000,
                360 if sweep else 1440)  # fmt: skip
    return EXPECTED.get(rule, CPU_DEFAULT)


@pytest.mark.slow
def test_each_rule_asks_the_cluster_for_its_machine_class(cluster, tmp_path):
    """The default target's jobs, submitted by the real plugin to the stub sbatch (the jobs
    only touch their outputs: the request is what is checked here)."""
    work = workdir(tmp_path)
    plan = run(["-d", str(work), "-n"], cluster, tmp_path)
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-3000:]
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(planned_outputs(plan.stdout + plan.stderr)))
    proc = run(["-d", str(work), "-k"], cluster, tmp_path, STUB_SLURM_OUTPUTS=str(outputs))
    submitted = [sbatch_request(c) for c in calls(cluster[1], "sbatch")]
    assert submitted, (proc.stdout + proc.stderr)[-3000:]
    seen = set()
    for request in submitted:
        rule = request["rule"]
        partition, gres, threads, mem_mb, minutes = expected_request(rule, request["comment"])
        where = request["comment"]
        assert request["partition"] == partition, where
        assert request["gres"] == gres, where
        assert request["cpus"] == threads, where
        assert request["mem_mb"] == mem_mb, where
        assert request["minutes"] == minutes, where
        assert request["account"] == "zetalab", where
        assert request["workdir"] == str(work), where
        seen.add(rule)
    assert seen >= {"zeros_chunk", "zeros_aggregate", "zeros_check", "graph_partition"}
    assert seen >= {"train", "baseline", "evaluate", "spectral_train", "spectral_benchmark"}


def planned_outputs(dry_run: str) -> dict[str, list[str]]:
    """--target-jobs spec ('rule:k=v,k=v') -> output and benchmark files, read off a dry run."""
    jobs = {}
    for block in re.findall(r"^rule (\w+):\n((?:    .*\n)+)", dry_run, re.M):
        rule, body = block
        fields = dict(re.findall(r"^    (\w+): (.*)$", body, re.M))
        if "output" not in fields:
            continue
        wildcards = fields.get("wildcards", "").replace(", ", ",")
        files = fields["output"].split(", ")
        if "benchmark" in fields:
            files.append(fields["benchmark"])
        jobs[f"{rule}:{wildcards}"] = files
    return jobs


TINY = {"zeros": {"backend": "flint", "chunk_size": 110}, "dataset": {"N": 100, "horizon": 5}}


@pytest.mark.slow
def test_a_small_workflow_completes_through_the_executor(cluster, tmp_path, odlyzko):
    """The zero stage of a tiny config: a chunk job, the aggregate and its check, each an
    sbatch job whose step runs through srun, all on the shared (here: local) file system."""
    work = workdir(tmp_path, **TINY)
    target = "results/zeros/check_flint_110.json"
    proc = run([target, "-d", str(work)], cluster, tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    report = json.loads((work / target).read_text())
    assert report["passed"] and report["odlyzko"]["found"] and report["odlyzko"]["overlap"] == 110
    assert report["odlyzko"]["max_abs_error"] < 3.1e-9  # the zeros the cluster computed
    rules = [sbatch_request(c)["rule"] for c in calls(cluster[1], "sbatch")]
    assert sorted(rules) == ["zeros_aggregate", "zeros_check", "zeros_chunk"]
    steps = calls(cluster[1], "srun")
    assert len(steps) == 3  # each job's rule ran as a job step
    assert all(s["options"].get("cpus-per-task") for s in steps)
    assert calls(cluster[1], "sacct") or calls(cluster[1], "squeue")  # status was polled


@pytest.mark.slow
def test_gpu_rule_without_cuda_fails_clearly_on_the_cluster(cluster, tmp_path):
    """A GPU job on a node where torch sees no CUDA (this machine): the smoke job fails with
    the reason instead of running on the CPU. No partition and no account are set here: the
    job goes to the partition sinfo marks as the default, under the account sacctmgr names as
    the user's default (not the plugin's broken sacct guess), with the generic gres."""
    work = workdir(tmp_path)
    target = "results/cloud/gpu_smoke/g2-standard-8.json"
    unset = {name: None for name in CLUSTER_SETTINGS if name != "ZETALAB_SLURM_A100_GRES"}
    proc = run(
        [target, "-d", str(work)],
        cluster,
        tmp_path,
        **unset,
        STUB_SLURM_PARTITIONS="short,long*,gpu",
        STUB_SLURM_ACCOUNTS="proj-a,proj-b",
        STUB_SLURM_DEFAULT_ACCOUNT="proj-b",
    )
    assert proc.returncode != 0
    request = sbatch_request(calls(cluster[1], "sbatch")[0])
    assert (request["partition"], request["gres"], request["cpus"]) == ("long", "gpu:1", 8)
    assert request["account"] == "proj-b"
    log = (work / "logs/cloud/gpu_smoke/g2-standard-8.log").read_text()
    assert "torch sees no CUDA device" in log
    assert not (work / target).exists()


def _plan_refused(proc, cluster) -> str:
    """The run stopped before any sbatch, with zetalab's message; returns the output."""
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "nothing was submitted" in out, out[-3000:]
    assert not calls(cluster[1], "sbatch"), "a job was submitted"
    assert "Traceback" not in out, out[-3000:]
    return out


@pytest.mark.slow
def test_gpu_class_without_gres_and_unknown_partition_stop_before_any_job(cluster, tmp_path):
    """Study S needs an A100-class GPU: without ZETALAB_SLURM_A100_GRES the run names that
    variable; a partition sinfo does not list is named with the ones it does list."""
    work = workdir(tmp_path)
    targets = ["results/cloud/gpu_smoke/a2-highgpu-1g.json"]
    proc = run(
        [*targets, "-d", str(work)],
        cluster,
        tmp_path,
        ZETALAB_SLURM_A100_GRES=None,
        ZETALAB_SLURM_GPU_PARTITION="gpu-a100",
    )
    out = _plan_refused(proc, cluster)
    assert "rules gpu_smoke_device need a GPU of a specific class" in out
    assert "ZETALAB_SLURM_A100_GRES is not set" in out
    assert "partition 'gpu-a100' (rules gpu_smoke_device) is not one that sinfo lists" in out
    assert "(cpu, gpu, gpu-large): set ZETALAB_SLURM_GPU_PARTITION" in out


@pytest.mark.slow
def test_several_accounts_and_no_default_stop_before_any_job(cluster, tmp_path):
    work = workdir(tmp_path)
    target = "results/cloud/gpu_smoke/g2-standard-8.json"
    proc = run(
        [target, "-d", str(work)],
        cluster,
        tmp_path,
        ZETALAB_SLURM_ACCOUNT=None,
        STUB_SLURM_ACCOUNTS="proj-a,proj-b",
        STUB_SLURM_DEFAULT_ACCOUNT="",
    )
    out = _plan_refused(proc, cluster)
    assert "several SLURM accounts (proj-a, proj-b) and no default one" in out
    assert "export ZETALAB_SLURM_ACCOUNT=" in out


def test_every_stubbed_command_is_one_the_plugin_calls():
    """The stub list is the plugin's: each name appears in its source as a command it runs."""
    import snakemake_executor_plugin_slurm as slurm
    import snakemake_executor_plugin_slurm_jobstep as jobstep

    sources = "".join(
        p.read_text() for mod in (slurm, jobstep) for p in Path(mod.__file__).parent.glob("*.py")
    )
    for name in COMMANDS:
        assert re.search(rf"[\"'\s]{name}[\s\"']", sources), name
    assert shlex.split("sacct -X")  # (shlex is what the plugin uses to split its commands)


def fake_cluster(answers: dict[str, str | None]):
    """A runner for zetalab.cloud.slurm: the answer of the first key found in the command."""

    def run(command):
        text = " ".join(command)
        return next((out for key, out in answers.items() if key in text), None)

    return run


def test_account_is_the_users_default_else_their_only_one():
    from zetalab.cloud.slurm import find_account

    assert find_account(fake_cluster({"DefaultAccount": "grp\n"}), "u") == "grp"
    only = {"DefaultAccount": "\n", "associations": "proj-a\nproj-a\n"}
    assert find_account(fake_cluster(only), "u") == "proj-a"
    several = {"DefaultAccount": "", "associations": "proj-a\nproj-b\n"}
    assert find_account(fake_cluster(several), "u") is None
    assert find_account(fake_cluster({}), "u") is None  # no sacctmgr: no accounting


def test_plan_problems_name_the_variable_to_set():
    from zetalab.cloud.plan import slurm_problems

    requests = [
        ("spectral_train", {"gres": "$ZETALAB_SLURM_A100_GRES", "slurm_partition": "gpu"}),
        ("train", {"gres": "gpu:1", "slurm_partition": "gpu"}),
        ("zeros_chunk", {"slurm_partition": ""}),  # the cluster's default partition
    ]
    problems = slurm_problems(requests, {"cpu", "gpu"}, lambda: ["a"])
    assert problems == [
        "rules spectral_train need a GPU of a specific class, and ZETALAB_SLURM_A100_GRES is "
        'not set: export ZETALAB_SLURM_A100_GRES=<gres>, e.g. gpu:a100:1 (`sinfo -o "%P %G"` '
        "lists the cluster's gres)"
    ]
    assert (
        "partition 'gpu' (rules spectral_train, train)"
        in slurm_problems(requests, {"cpu"}, lambda: [])[1]
    )
    assert len(slurm_problems(requests, None, lambda: [])) == 1  # sinfo unavailable: unchecked
    accounted = [("train", {"gres": "gpu:1", "slurm_account": "a"})]
    assert slurm_problems(accounted, None, lambda: ["a", "b"]) == []
    ambiguous = slurm_problems([("train", {"gres": "gpu:1"})], None, lambda: ["a", "b"])
    assert ambiguous and "several SLURM accounts (a, b)" in ambiguous[0]
    assert slurm_problems([("train", {})], None, lambda: ["a", "b"], no_account=True) == []
