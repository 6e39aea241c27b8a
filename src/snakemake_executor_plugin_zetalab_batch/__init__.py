"""Snakemake executor plugin `zetalab-batch`: the googlebatch plugin (0.5.1) with five fixes.

Why a subclass: each fix below is a few lines in the plugin's own hooks, none is reachable
through a setting, and the plugin is pinned, so a thin subclass registered as its own plugin
(Snakemake finds executor plugins by module name, snakemake_executor_plugin_<name>) is the
deepest place that is ours to change. It is selected by `executor: zetalab-batch` in
profiles/gcp-batch/config.yaml. It imports nothing from zetalab: Snakemake imports every
plugin when it starts, and the Snakefile must stay free to import zetalab from the sources it
was deployed with. Everything else (the request, Cloud Logging, status
polling, cancellation) is the pinned plugin's code, unchanged. What it fixes, in plugin 0.5.1:

1. Exit status. The plugin writes the job's command into /tmp/workdir/entrypoint.sh followed
   by two `pip install`s (command.py, `write_entrypoint`), so the script's status is the last
   pip's: a failed job reports SUCCEEDED, and a pip failure (no internet, a conflict) turns a
   finished job into FAILED. Here the entrypoint is the job's command alone: its status is
   the job's.
2. Retries. The plugin retries every job `retry_count` times (default 1) on any exit code and
   sets `preemptible-retries` on the task after copying it into the job, so they are lost.
   Here only jobs of `preemptible-rules` are retried (`preemptible-retries` times), and a
   lifecycle policy fails the task at once on every exit code the job itself can return
   (1-255): only Batch's own codes (50001 preempted, 50002 VM lost) lead to a retry.
3. Scratch. On Container-Optimized OS /tmp is in RAM, and the plugin runs the job in the
   host's /tmp/workdir. Here a persistent disk (`googlebatch_scratch_disk_gb`, pd-balanced) is
   attached and mounted at /mnt/disks/scratch, which the container sees as /tmp/workdir.
4. Plugin deployment. The plugin makes every job `pip install` the newest
   snakemake-storage-plugin-gcs from PyPI before it starts; the worker images already hold the
   pinned one, so that step (and the workers' need for internet) is dropped.
5. Job environment. GPU jobs (an `nvidia_gpu` resource) run with ZETALAB_REQUIRE_CUDA=1, so the
   device pickers fail instead of training on the CPU; every job learns where to mirror
   training checkpoints (ZETALAB_CHECKPOINT_STORE, see zetalab.cloud.checkpoint_sync).

tests/test_cloud_workflow.py checks each fix on the requests this executor sends.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

from google.cloud import batch_v1
from snakemake_executor_plugin_googlebatch import ExecutorSettings as GoogleBatchSettings
from snakemake_executor_plugin_googlebatch import common_settings as googlebatch_common
from snakemake_executor_plugin_googlebatch.command import COSWriter
from snakemake_executor_plugin_googlebatch.executor import GoogleBatchExecutor

# The job environment zetalab reads (tests check these match zetalab.cloud.gpu/checkpoint_sync).
REQUIRE_CUDA_VAR = "ZETALAB_REQUIRE_CUDA"
CHECKPOINT_STORE_VAR = "ZETALAB_CHECKPOINT_STORE"
CHECKPOINT_PROJECT_VAR = "ZETALAB_CHECKPOINT_PROJECT"
SCRATCH_DEVICE = "scratch"
SCRATCH_HOST = "/mnt/disks/scratch"
WORKDIR = "/tmp/workdir"  # where the plugin's container runs the job (its -w and commands)
# Batch's own exit codes: 50001 the VM was preempted, 50002 Batch lost the VM.
PREEMPTION_EXIT_CODES = (50001, 50002)
JOB_EXIT_CODES = tuple(range(1, 256))

ENTRYPOINT = """
#!/bin/bash
# zetalab-batch: the entrypoint is the job's command alone, so its exit status is the job's.
mkdir -p {scratch}
cat <<EOF > {scratch}/entrypoint.sh
{command}
EOF
chmod +x {scratch}/entrypoint.sh
cat {scratch}/entrypoint.sh
"""


@dataclass
class ExecutorSettings(GoogleBatchSettings):
    """The googlebatch settings (as --zetalab-batch-*), plus the scratch disk."""

    # No `from __future__ import annotations` here: Snakemake's CLI builder calls the type.
    scratch_disk_gb: Optional[int] = field(  # noqa: UP045
        default=50,
        metadata={
            "help": "Size (GB) of the persistent disk mounted as the job's working directory "
            "(per rule: resource googlebatch_scratch_disk_gb)",
            "env_var": False,
            "required": False,
        },
    )


# The images hold the pinned storage plugin: no per-job `pip install` of it (fix 4).
common_settings = dataclasses.replace(
    googlebatch_common, auto_deploy_default_storage_provider=False
)


class ScratchCOSWriter(COSWriter):
    """Writes the entrypoint and the Snakefile onto the scratch disk, without trailing pips."""

    def setup(self):
        return ENTRYPOINT.format(scratch=SCRATCH_HOST, command=self.command)


class Executor(GoogleBatchExecutor):
    """GoogleBatchExecutor with the fixes listed in the module docstring."""

    def get_param(self, job, param):
        if param == "retry_count":  # fix 2: retries only where a job may be preempted
            retries = self.workflow.remote_execution_settings.preemptible_retries
            return int(retries or 0) if self.is_preemptible(job) else 0
        return super().get_param(job, param)

    def get_command_writer(self, job):
        if "batch-cos" not in self.get_param(job, "image_family"):
            return super().get_command_writer(job)  # no container: the plugin's own writer
        return ScratchCOSWriter(  # fixes 1 and 3
            command=self.format_job_exec(job),
            snakefile=self.read_snakefile(),
            snippets=self.get_param(job, "snippets"),
            snakefile_path=f"{SCRATCH_HOST}/Snakefile",
            settings=self.workflow.executor_settings,
            resources=job.resources,
        )

    def get_job_exec_prefix(self, job):
        """fix 5: what the job's command exports before Snakemake starts."""
        exports = []
        if job.resources.get("nvidia_gpu"):
            exports.append(f"{REQUIRE_CUDA_VAR}=1")
        store = self.checkpoint_store()
        if store:
            exports.append(f"{CHECKPOINT_STORE_VAR}={store}")
            project = self.get_param(job, "project")
            if project:
                exports.append(f"{CHECKPOINT_PROJECT_VAR}={project}")
        return f"export {' '.join(exports)}" if exports else ""

    def checkpoint_store(self) -> str | None:
        """gs:// prefix under the workflow's storage prefix where checkpoints are mirrored."""
        prefix = self.workflow.storage_settings.default_storage_prefix
        if not prefix:
            return None
        scheme, _, rest = str(prefix).partition("://")
        if scheme not in ("gcs", "gs"):
            return None
        return f"gs://{rest.rstrip('/')}/.checkpoints"

    def get_container(self, job, entrypoint=None, commands=None):
        container = super().get_container(job, entrypoint, commands)
        if container is not None:  # fix 3: the job's working directory is the scratch disk
            container.volumes = [f"{SCRATCH_HOST}:{WORKDIR}"]
        return container

    def add_storage(self, job, task):
        """Called on the task before the plugin copies it into the job: fixes 2 and 3."""
        super().add_storage(job, task)
        if self.get_container(job) is not None:
            volume = batch_v1.Volume(device_name=SCRATCH_DEVICE, mount_path=SCRATCH_HOST)
            task.volumes = [*task.volumes, volume]
        if task.max_retry_count > 0:
            task.lifecycle_policies = [
                batch_v1.LifecyclePolicy(
                    action=batch_v1.LifecyclePolicy.Action.FAIL_TASK,
                    action_condition=batch_v1.LifecyclePolicy.ActionCondition(
                        exit_codes=list(JOB_EXIT_CODES)
                    ),
                ),
                batch_v1.LifecyclePolicy(
                    action=batch_v1.LifecyclePolicy.Action.RETRY_TASK,
                    action_condition=batch_v1.LifecyclePolicy.ActionCondition(
                        exit_codes=list(PREEMPTION_EXIT_CODES)
                    ),
                ),
            ]

    def get_allocation_policy(self, job):
        policy = super().get_allocation_policy(job)
        # The job's labels on its VMs and disks too: the billing export itemises those, so the
        # cost of one run (label zetalab-run) or one rule (snakemake-job) can be summed.
        policy.labels = self.get_labels(job)
        if self.get_container(job) is None:
            return policy
        size = int(self.get_param(job, "scratch_disk_gb") or 50)
        disk = batch_v1.AllocationPolicy.AttachedDisk(
            new_disk=batch_v1.AllocationPolicy.Disk(type_="pd-balanced", size_gb=size),
            device_name=SCRATCH_DEVICE,
        )
        instances = list(policy.instances)
        instance = instances[0]
        instance_policy = instance.policy
        instance_policy.disks = [*instance_policy.disks, disk]
        instance.policy = instance_policy
        policy.instances = [instance, *instances[1:]]
        return policy
