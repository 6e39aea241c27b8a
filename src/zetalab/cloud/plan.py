"""Checks on the jobs a cluster or cloud run is about to submit, before the first one goes out.

Why: some mistakes only show in the jobs themselves. A GPU rule whose gres was never set, a
partition `sinfo` does not list, or a Batch region that does not offer the GPU a rule asks for
would each be refused by the scheduler only when that job is submitted, which for a training
job is hours into a run. rules/cloud.smk calls check_plan from Snakemake's `onstart` hook:
after the DAG is known (only the jobs that will run are checked, so a zeros-only run never
needs the A100 settings) and before the scheduler submits anything. A dry run (`-n`) submits
nothing and runs no hooks, so it is not checked.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable

from zetalab.cloud import slurm
from zetalab.cloud.preflight import BATCH_EXECUTORS, REGION_VAR, settings_from_workflow
from zetalab.errors import ZetalabError

# How profiles/slurm marks a GPU class whose gres the user has not named: the variable itself.
UNSET_PREFIX = "$"
SLURM_PARTITION_VARS = (
    "ZETALAB_SLURM_CPU_PARTITION",
    "ZETALAB_SLURM_GPU_PARTITION",
    "ZETALAB_SLURM_GPU_LARGE_PARTITION",
)
Request = tuple[str, dict]  # (rule, the resources that decide where the job goes)
_RESOURCES = ("slurm_partition", "slurm_account", "gres", "nvidia_gpu")


def planned_requests(workflow) -> list[Request]:
    """(rule, resources) of every job this run will submit (local rules run here)."""
    requests = []
    for job in workflow.dag.needrun_jobs():
        if job.is_local:
            continue
        resources = {name: job.resources.get(name) for name in _RESOURCES}
        requests.append((job.rule.name, resources))
    return requests


def _rules(names: Iterable[str]) -> str:
    return ", ".join(sorted(set(names)))


def slurm_problems(
    requests: list[Request],
    partitions: set[str] | None,
    accounts: Callable[[], list[str]],
    no_account: bool = False,
) -> list[str]:
    """Unset GPU gres, partitions sinfo does not list, and an ambiguous account."""
    problems = []
    unset_gres: dict[str, list[str]] = defaultdict(list)
    by_partition: dict[str, list[str]] = defaultdict(list)
    for rule, resources in requests:
        gres = str(resources.get("gres") or "")
        if gres.startswith(UNSET_PREFIX):
            unset_gres[gres[len(UNSET_PREFIX) :]].append(rule)
        if resources.get("slurm_partition"):
            by_partition[str(resources["slurm_partition"])].append(rule)
    for variable, rules in sorted(unset_gres.items()):
        problems.append(
            f"rules {_rules(rules)} need a GPU of a specific class, and {variable} is not set: "
            f'export {variable}=<gres>, e.g. gpu:a100:1 (`sinfo -o "%P %G"` lists the '
            "cluster's gres)"
        )
    if partitions is not None:
        for partition, rules in sorted(by_partition.items()):
            if partition in partitions:
                continue
            named_by = [v for v in SLURM_PARTITION_VARS if os.environ.get(v) == partition]
            problems.append(
                f"partition {partition!r} (rules {_rules(rules)}) is not one that sinfo lists "
                f"({', '.join(sorted(partitions)) or 'none'}): set "
                f"{' / '.join(named_by) or 'the partition'} to one of them, or unset it to use "
                "the cluster's default partition"
            )
    has_account = any(resources.get("slurm_account") for _, resources in requests)
    if requests and not has_account and not no_account:
        choices = accounts()  # asked only when the profile found no account to use
        if len(choices) > 1:
            problems.append(
                f"you have several SLURM accounts ({', '.join(choices)}) and no default one: "
                f"export {slurm.ACCOUNT_VAR}=<one of them>"
            )
    return problems


def accelerator_zones(project: str, accelerator: str, session=None) -> set[str]:
    """The zones where the project can use `accelerator` (Compute Engine acceleratorTypes)."""
    if session is None:
        import google.auth
        from google.auth.transport.requests import AuthorizedSession

        scope = "https://www.googleapis.com/auth/cloud-platform"
        credentials, _ = google.auth.default(scopes=[scope])
        session = AuthorizedSession(credentials)
    url = (
        f"https://compute.googleapis.com/compute/v1/projects/{project}/aggregated/acceleratorTypes"
    )
    params = {"filter": f'name = "{accelerator}"', "returnPartialSuccess": "true"}
    zones: set[str] = set()
    while True:
        response = session.get(url, params=params, timeout=30)
        response.raise_for_status()
        data = response.json()
        for scope_name, scoped in (data.get("items") or {}).items():
            if scoped.get("acceleratorTypes"):
                zones.add(scope_name.removeprefix("zones/"))
        if not data.get("nextPageToken"):
            return zones
        params = {**params, "pageToken": data["nextPageToken"]}


def _region(zone: str) -> str:
    return zone.rsplit("-", 1)[0]


def batch_problems(
    requests: list[Request], region: str, zones_of: Callable[[str], set[str]]
) -> list[str]:
    """A GPU that a planned job asks for and the Batch region does not offer."""
    rules_by_gpu: dict[str, list[str]] = defaultdict(list)
    for rule, resources in requests:
        if resources.get("nvidia_gpu"):
            rules_by_gpu[str(resources["nvidia_gpu"])].append(rule)
    if not rules_by_gpu:
        return []
    problems = []
    offered = {gpu: zones_of(gpu) for gpu in rules_by_gpu}
    everywhere = set.intersection(*({_region(z) for z in zones} for zones in offered.values()))
    for gpu, rules in sorted(rules_by_gpu.items()):
        if any(_region(zone) == region for zone in offered[gpu]):
            continue
        elsewhere = sorted({_region(zone) for zone in offered[gpu]})
        suggestion = sorted(everywhere)[:6] if everywhere else elsewhere[:6]
        problems.append(
            f"{gpu} (rules {_rules(rules)}) is not offered in {REGION_VAR}={region} (regions "
            f"that have it: {', '.join(elsewhere) or 'none for this project'}); choose a region "
            f"with every GPU the run needs, e.g. {', '.join(suggestion) or 'see docs/cloud.md'}"
        )
    return problems


def check_plan(workflow, warn: Callable[[str], None] | None = None) -> None:
    """Raise a ZetalabError listing every problem of the planned jobs (warn what cannot be
    checked)."""
    from snakemake.logging import logger
    from snakemake.settings.types import ExecMode

    warn = warn or logger.warning
    plugin = workflow.executor_plugin
    if workflow.exec_mode != ExecMode.DEFAULT or plugin is None:
        return
    if plugin.name == "slurm":
        requests = planned_requests(workflow)
        settings = workflow.executor_settings
        problems = slurm_problems(
            requests,
            slurm.listed_partitions(),
            slurm.associated_accounts,
            no_account=bool(getattr(settings, "no_account", False)),
        )
        where = "the SLURM set-up (README, 'Running on a SLURM cluster')"
    elif plugin.name in BATCH_EXECUTORS:
        settings = settings_from_workflow(workflow)
        if os.environ.get("STORAGE_EMULATOR_HOST") or not settings.batch_region:
            return  # an offline run against the emulator: no Compute Engine to ask
        requests = planned_requests(workflow)
        try:
            zones = {}

            def zones_of(gpu: str) -> set[str]:
                zones[gpu] = zones.get(gpu) or accelerator_zones(settings.batch_project, gpu)
                return zones[gpu]

            problems = batch_problems(requests, settings.batch_region, zones_of)
        except Exception as error:
            warn(
                f"Could not check which GPUs {settings.batch_region} offers ({error}); "
                "roles/compute.viewer on the project lets the preflight check it"
            )
            return
        where = "docs/cloud.md (Prerequisites: quotas and regions)"
    else:
        return
    if problems:
        raise ZetalabError(
            "the planned jobs cannot run as set up, nothing was submitted:\n    - "
            + "\n    - ".join(problems),
            f"fix the settings named above (see {where}), then rerun the same command",
        )
