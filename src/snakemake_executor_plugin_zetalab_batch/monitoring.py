"""Status polling that Cloud Logging's rate limit cannot stall, and a cancel that is quick.

Why: plugin 0.5.1 downloads a finished job's log inside the status loop and, when Cloud
Logging answers 429 (its read quota: 60 requests a minute per project), sleeps 60 s right
there, so every other job's status waits; with a few hundred short jobs finishing together the
loop stands still for minutes. And on Ctrl-C it deletes the run's jobs one at a time, waiting
for each deletion to finish. Here a rate-limited log download is put off (the job stays in the
loop, every other job goes on being polled) with a backoff shared by all jobs, and deletions
are sent all at once and awaited together, with a report of what is left.
"""

import re
import time
from concurrent.futures import ThreadPoolExecutor, wait

from google.api_core import exceptions as api
from google.cloud import batch_v1

# Batch's own exit codes (https://cloud.google.com/batch/docs/troubleshooting#reserved-exit-codes)
BATCH_EXIT_CODES = {
    50000: "the task failed for a reason Batch does not classify",
    50001: "the Spot/preemptible VM was preempted",
    50002: "Batch stopped receiving updates from the VM",
    50003: "the VM rebooted while the task ran",
    50004: "the VM and the task stopped responding",
    50005: "the task ran past its max run duration",
    50006: "the VM was recreated while the task ran",
}
_EXIT_CODE = re.compile(r"exit code (\d+)")


def failure_exit_code(status) -> int | None:
    """The exit code of the failed task, from the job's status events (latest first)."""
    for event in reversed(list(status.status_events)):
        execution = getattr(event, "task_execution", None)
        if execution is not None and execution.exit_code:
            return int(execution.exit_code)
        match = _EXIT_CODE.search(event.description or "")
        if match and int(match.group(1)):
            return int(match.group(1))
    return None


def describe_exit_code(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    meaning = BATCH_EXIT_CODES.get(code)
    return f"exit code {code}" + (f": {meaning}" if meaning else " (the job's own)")


class JobLogs:
    """Saves finished jobs' Cloud Logging entries to their log files, never sleeping.

    save() answers whether the job may now be reported as finished: True when its log is
    written (or given up on), False when Cloud Logging's rate limit put it off to a later
    round. After a 429 no log is asked for until the shared backoff (first_delay doubling up
    to max_delay) has passed; a job waiting longer than give_up_after is reported anyway, its
    log file saying how to read the log later.
    """

    def __init__(self, project, warn, clock=time.monotonic, first_delay=5.0, max_delay=120.0,
                 give_up_after=600.0, page_size=1000):  # fmt: skip
        self.project = project
        self.warn = warn
        self.clock = clock
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.give_up_after = give_up_after
        self.page_size = page_size
        self.delay = first_delay
        self.blocked_until = float("-inf")
        self._client = None

    def _logger(self):
        if self._client is None:
            import google.cloud.logging  # looked up now: recordings replace the client class

            self._client = google.cloud.logging.Client(project=self.project)
        return self._client.logger("batch_task_logs")

    def save(self, job_info) -> bool:
        now = self.clock()
        aux = job_info.aux
        first_try = aux.setdefault("logs_first_try", now)
        uid = aux["batch_job"].uid
        if now < self.blocked_until:
            return self._give_up_if_overdue(job_info, now - first_try)
        try:
            entries = self._logger().list_entries(
                filter_=f"labels.job_uid={uid}", page_size=self.page_size
            )
            with open(aux["logfile"], "w", encoding="utf-8") as logfile:
                for entry in entries:
                    logfile.write(str(entry.payload) + "\n")
        except api.TooManyRequests:
            self.blocked_until = now + self.delay
            self.delay = min(self.max_delay, self.delay * 2)
            if not aux.get("logs_put_off"):
                aux["logs_put_off"] = True
                self.warn(
                    f"Cloud Logging's rate limit: the log of Batch job {uid} is fetched on a "
                    "later status round; the other jobs are polled meanwhile"
                )
            return self._give_up_if_overdue(job_info, now - first_try)
        except Exception as error:
            self.warn(f"Failed to retrieve logs for Batch job {uid}: {error}")
            return True
        self.delay = self.first_delay
        return True

    def _give_up_if_overdue(self, job_info, waited: float) -> bool:
        if waited < self.give_up_after:
            return False
        uid = job_info.aux["batch_job"].uid
        with open(job_info.aux["logfile"], "w", encoding="utf-8") as logfile:
            logfile.write(
                f"Cloud Logging kept refusing (rate limit) for {waited:.0f} s; read this job's "
                f"log with: gcloud logging read 'labels.job_uid={uid}' --project={self.project}\n"
            )
        self.warn(f"Gave up fetching the log of Batch job {uid} (Cloud Logging rate limit)")
        return True


def delete_jobs(client, names, timeout: float = 120.0, workers: int = 32) -> dict[str, str]:
    """Delete the jobs concurrently; return {name: why it may still exist} for those left.

    All delete requests are sent at once (up to `workers` in flight) and awaited together
    for at most `timeout` seconds, instead of one deletion after the other.
    """
    names = list(names)
    if not names:
        return {}

    def delete(name):
        request = batch_v1.DeleteJobRequest(name=name, reason="snakemake run cancelled")
        client.delete_job(request=request).result(timeout=timeout)

    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(names))))
    futures = {pool.submit(delete, name): name for name in names}
    done, pending = wait(futures, timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    left = {futures[f]: f"deletion not confirmed within {timeout:.0f} s" for f in pending}
    for future in done:
        error = future.exception()
        if error is not None and not isinstance(error, api.NotFound):
            left[futures[future]] = f"{type(error).__name__}: {error}"
    return left
