"""Snakemake executor plugin `zetalab-batch`: the googlebatch plugin (0.5.1) with seven fixes.

Why a subclass: each fix below is a few lines in the plugin's own hooks, none is reachable
through a setting, and the plugin is pinned, so a thin subclass registered as its own plugin
(Snakemake finds executor plugins by module name, snakemake_executor_plugin_<name>) is the
deepest place that is ours to change. It is selected by `executor: zetalab-batch` in
profiles/gcp-batch/config.yaml. It imports nothing from zetalab: Snakemake imports every
plugin when it starts, and the Snakefile must stay free to import zetalab from the sources it
was deployed with. Everything else (the request, the calls to the Batch and Logging clients)
is the pinned plugin's code, unchanged. What it fixes, in plugin 0.5.1:

1. Exit status. The plugin writes the job's command into /tmp/workdir/entrypoint.sh followed
   by two `pip install`s (command.py, `write_entrypoint`), so the script's status is the last
   pip's: a failed job reports SUCCEEDED, and a pip failure (no internet, a conflict) turns a
   finished job into FAILED. Here the entrypoint is the job's command alone: its status is
   the job's.
2. Retries. The plugin retries every job `retry_count` times (default 1) on any exit code and
   sets `preemptible-retries` on the task after copying it into the job, so they are lost.
   Here only jobs of `preemptible-rules` get `max_retry_count` (`preemptible-retries`, 0 to
   10), with one lifecycle policy, RETRY_TASK on Batch's preemption exit code 50001: by the
   RETRY_TASK action's documented semantics every other exit code fails the task at once
   (docs/cloud.md quotes the two passages of the API docs and says which one this relies on).
3. Scratch. On Container-Optimized OS /tmp is in RAM, and the plugin runs the job in the
   host's /tmp/workdir. Here a persistent disk (`googlebatch_scratch_disk_gb`, pd-balanced) is
   attached and mounted at /mnt/disks/scratch, which the container sees as /tmp/workdir.
4. Plugin deployment. The plugin makes every job `pip install` the newest
   snakemake-storage-plugin-gcs from PyPI before it starts; the worker images already hold the
   pinned one, so that step (and the workers' need for internet) is dropped.
5. Job environment. GPU jobs (an `nvidia_gpu` resource) run with ZETALAB_REQUIRE_CUDA=1, so the
   device pickers fail instead of training on the CPU; every job learns where to mirror
   training checkpoints (ZETALAB_CHECKPOINT_STORE, see zetalab.cloud.checkpoint_sync).
6. Submission. Job ids derive from the run and Snakemake's job number (no random suffix to
   clash), create_job is retried with backoff on 429/5xx/deadlines, and a job whose
   submission still fails is that job's failure: the run goes on (submission.py).
7. Status and cancel. Cloud Logging's rate limit puts a job's log download off instead of
   sleeping 60 s inside the status loop; a failed status request keeps the job for the next
   round; Ctrl-C deletes all jobs at once and names those left (monitoring.py).

tests/test_cloud_workflow.py checks each fix on the requests this executor sends, and
tests/test_cloud_batch_executor.py drives the submission, status and cancel paths with fake
Batch and Logging clients.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

from google.cloud import batch_v1
from snakemake_executor_plugin_googlebatch import ExecutorSettings as GoogleBatchSettings
from snakemake_executor_plugin_googlebatch import common_settings as googlebatch_common
from snakemake_executor_plugin_googlebatch.command import COSWriter
from snakemake_executor_plugin_googlebatch.executor import GoogleBatchExecutor
from snakemake_interface_common.exceptions import WorkflowError
from snakemake_interface_executor_plugins.executors.base import SubmittedJobInfo

from snakemake_executor_plugin_zetalab_batch.monitoring import (
    JobLogs,
    delete_jobs,
    describe_exit_code,
    failure_exit_code,
)
from snakemake_executor_plugin_zetalab_batch.submission import (
    TRANSIENT,
    RetryingBatchClient,
    SubmissionFailed,
    batch_job_id,
    run_token,
)

# The job environment zetalab reads (tests check these match zetalab.cloud.gpu/checkpoint_sync).
REQUIRE_CUDA_VAR = "ZETALAB_REQUIRE_CUDA"
CHECKPOINT_STORE_VAR = "ZETALAB_CHECKPOINT_STORE"
CHECKPOINT_PROJECT_VAR = "ZETALAB_CHECKPOINT_PROJECT"
SCRATCH_DEVICE = "scratch"
SCRATCH_HOST = "/mnt/disks/scratch"
WORKDIR = "/tmp/workdir"  # where the plugin's container runs the job (its -w and commands)
# The exit code Batch documents for a preempted VM ("VM preemption", troubleshooting page,
# reserved exit codes); the only one that is retried (docs/cloud.md, "Retries").
PREEMPTION_EXIT_CODES = (50001,)
MAX_RETRY_COUNT = 10  # TaskSpec.max_retry_count: "The valid value range is [0, 10]"

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
    submit_attempts: Optional[int] = field(  # noqa: UP045
        default=6,
        metadata={
            "help": "Tries of each job submission before the job counts as failed (429, 5xx "
            "and deadlines are retried with exponential backoff)",
            "env_var": False,
            "required": False,
        },
    )
    submit_backoff_seconds: Optional[float] = field(  # noqa: UP045
        default=2.0,
        metadata={
            "help": "First wait between submission tries; it doubles with each try (cap 60 s)",
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

    def __post_init__(self):
        super().__post_init__()
        retries = int(self.workflow.remote_execution_settings.preemptible_retries or 0)
        if not 0 <= retries <= MAX_RETRY_COUNT:
            raise WorkflowError(
                f"preemptible-retries is {retries}; Google Batch accepts 0 to {MAX_RETRY_COUNT} "
                "retries per task (set it in profiles/gcp-batch/config.yaml or on the command line)"
            )
        settings = self.workflow.executor_settings
        self.run_token = run_token()  # fix 6: job ids of this run
        backoff = settings.submit_backoff_seconds
        self.batch = RetryingBatchClient(
            self.batch,
            attempts=settings.submit_attempts or 6,
            backoff=2.0 if backoff is None else backoff,
            warn=self.logger.warning,
        )
        self.job_logs = JobLogs(settings.project, warn=self.logger.warning)  # fix 7

    def get_param(self, job, param):
        if param == "retry_count":  # fix 2: retries only where a job may be preempted
            retries = self.workflow.remote_execution_settings.preemptible_retries
            return int(retries or 0) if self.is_preemptible(job) else 0
        return super().get_param(job, param)

    def generate_jobid(self, job):
        """fix 6: unique within the run by construction (Snakemake's job number and attempt)."""
        return batch_job_id(job.name, self.run_token, job.jobid, getattr(job, "attempt", 1))

    def run_job(self, job):
        """fix 6: a submission that fails for good fails this job only (--keep-going goes on)."""
        try:
            super().run_job(job)
        except SubmissionFailed as error:
            self.report_job_error(SubmittedJobInfo(job), msg=f"{error}. ")

    async def check_active_jobs(self, active_jobs):
        """fix 7: the plugin's status loop, without its 60 s sleep on Cloud Logging's limit."""
        for job_info in active_jobs:
            state = job_info.aux.get("final_state")
            if state is None:
                state = self._poll(job_info)
                if state not in ("FAILED", "SUCCEEDED"):
                    yield job_info
                    continue
            if not self.job_logs.save(job_info):
                yield job_info  # its log on a later round; the other jobs are not held up
                continue
            if state == "SUCCEEDED":
                self.report_job_success(job_info)
            else:
                code = describe_exit_code(job_info.aux.get("exit_code"))
                msg = f"Google Batch job '{job_info.external_jobid}' failed ({code}). "
                self.report_job_error(job_info, msg=msg, aux_logs=[job_info.aux["logfile"]])

    def _poll(self, job_info) -> str | None:
        """The job's state now (None when Batch could not say); logs its new status events."""
        request = batch_v1.GetJobRequest(name=job_info.external_jobid)
        try:
            response = self.batch.get_job(request=request)
        except TRANSIENT as error:
            self.logger.warning(
                f"No status for {job_info.external_jobid} this round ({type(error).__name__}); "
                "asking again on the next one"
            )
            return None
        events = list(response.status.status_events)
        for event in events[job_info.aux.get("events_seen", 0) :]:
            self.logger.info(f"{event.type_}: {event.description}")
        job_info.aux["events_seen"] = len(events)
        state = response.status.state.name
        if state in ("FAILED", "SUCCEEDED"):
            job_info.aux["final_state"] = state
            job_info.aux["exit_code"] = failure_exit_code(response.status)
        return state

    def cancel_jobs(self, active_jobs):
        """fix 7: delete every job of the run at once, then say which may still exist."""
        names = [job_info.external_jobid for job_info in active_jobs]
        left = delete_jobs(self.batch, names)
        self.logger.info(f"Deleted {len(names) - len(left)} of {len(names)} Google Batch jobs.")
        if left:
            region = self.workflow.executor_settings.region
            listing = "\n".join(f"  {name}: {why}" for name, why in sorted(left.items()))
            self.logger.warning(
                f"{len(left)} Google Batch job(s) may still exist:\n{listing}\nDelete each with "
                f"`gcloud batch jobs delete NAME --location={region}`."
            )
        self.shutdown()

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
        if task.max_retry_count > 0:  # one policy: Batch supports only one per task
            task.lifecycle_policies = [
                batch_v1.LifecyclePolicy(
                    action=batch_v1.LifecyclePolicy.Action.RETRY_TASK,
                    action_condition=batch_v1.LifecyclePolicy.ActionCondition(
                        exit_codes=list(PREEMPTION_EXIT_CODES)
                    ),
                )
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
