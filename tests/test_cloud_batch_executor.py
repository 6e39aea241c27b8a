"""The zetalab-batch executor's submission, status and cancel paths, against fake Batch and
Cloud Logging clients that fail the way the services do (429, 503, deadlines, "already exists",
Cloud Logging's rate limit). Fast: no Snakemake run; tests/test_cloud_workflow.py drives the
same paths through a whole run."""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from types import SimpleNamespace

import pytest
from google.api_core import exceptions as api
from google.cloud import batch_v1
from snakemake_executor_plugin_googlebatch.executor import GoogleBatchExecutor

import snakemake_executor_plugin_zetalab_batch as plugin
from snakemake_executor_plugin_zetalab_batch.monitoring import (
    JobLogs,
    delete_jobs,
    describe_exit_code,
    failure_exit_code,
)
from snakemake_executor_plugin_zetalab_batch.submission import (
    RetryingBatchClient,
    SubmissionFailed,
    backoff_delays,
    batch_job_id,
    run_token,
)

JOB_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")  # CreateJobRequest.job_id's rule
PARENT = "projects/p/locations/europe-west4"


def test_job_ids_of_a_2000_chunk_run_are_distinct_and_valid():
    run = run_token(now=1_790_000_000, pid=4242)
    ids = [batch_job_id("zeros_chunk", run, n) for n in range(2000)]
    assert len(set(ids)) == 2000
    assert all(JOB_ID.match(i) and len(i) <= 63 for i in ids)
    assert ids[7] == f"zeros-chunk-{run}-7-1"
    # plugin 0.5.1's `<rule>-<6 hex>`: the chance of a clash in the same run (birthday bound)
    assert 1 - math.exp(-2000 * 1999 / 2 / 16**6) == pytest.approx(0.112, abs=0.001)


def test_job_ids_keep_the_unique_part_and_the_attempt():
    run = run_token(now=0, pid=0)
    long_rule = "a_" + "very_long_rule_name" * 5
    first, second = (batch_job_id(long_rule, run, 12345, attempt) for attempt in (1, 2))
    assert first != second and first.endswith(f"-{run}-12345-1") and len(first) <= 63
    assert JOB_ID.match(first) and JOB_ID.match(batch_job_id("9lives", run, 1))
    group = batch_job_id("g", run, "8d3c3f1e-0a4f-4c4e-9a57-2c0a5b7f1d2e")  # a group job's id
    assert JOB_ID.match(group) and len(group) <= 63
    assert run_token(now=5, pid=1) != run_token(now=5, pid=2) != run_token(now=6, pid=2)
    assert len(run_token()) == 9


class FakeBatch:
    """create_job fails with the queued errors first; remembers the jobs it created."""

    def __init__(self, errors=(), create_despite=(api.DeadlineExceeded,)):
        self.errors = list(errors)
        self.create_despite = create_despite
        self.created: dict[str, batch_v1.Job] = {}
        self.calls: list[str] = []

    def create_job(self, request=None, **kwargs):
        name = f"{request.parent}/jobs/{request.job_id}"
        self.calls.append(request.job_id)
        if name in self.created:
            raise api.AlreadyExists(f"{name} already exists")
        error = self.errors.pop(0) if self.errors else None
        if error is None or isinstance(error, self.create_despite):
            self.created[name] = batch_v1.Job(name=name, uid=f"uid-{request.job_id}")
        if error is not None:
            raise error
        return self.created[name]

    def get_job(self, request=None, **kwargs):
        return self.created[request.name]


def request(job_id="train-abc-3-1"):
    return batch_v1.CreateJobRequest(parent=PARENT, job_id=job_id, job=batch_v1.Job())


def retrying(fake, attempts=6):
    sleeps, warnings = [], []
    client = RetryingBatchClient(
        fake, attempts=attempts, backoff=2.0, sleep=sleeps.append, warn=warnings.append
    )
    return client, sleeps, warnings


def test_transient_errors_are_retried_with_growing_waits():
    fake = FakeBatch([api.ResourceExhausted("quota"), api.ServiceUnavailable("down")])
    client, sleeps, warnings = retrying(fake)
    job = client.create_job(request())
    assert job.name == f"{PARENT}/jobs/train-abc-3-1" and len(fake.calls) == 3
    assert len(sleeps) == 2 and 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 4.0
    assert "ResourceExhausted 429" in warnings[0] and "try 2 of 6" in warnings[0]
    waits = backoff_delays(8, 2.0, rng=lambda: 1.0)
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]  # doubling, capped at 60 s


def test_a_job_created_before_its_answer_was_lost_is_adopted_not_duplicated():
    fake = FakeBatch([api.DeadlineExceeded("answer lost")])
    client, _, _ = retrying(fake)
    job = client.create_job(request())
    assert fake.calls == ["train-abc-3-1", "train-abc-3-1"]  # the retry met AlreadyExists
    assert job.uid == "uid-train-abc-3-1" and len(fake.created) == 1


def test_an_id_held_by_another_run_gets_a_fresh_one():
    fake = FakeBatch()
    fake.created[f"{PARENT}/jobs/train-abc-3-1"] = batch_v1.Job(name="other run's")
    client, _, _ = retrying(fake)
    job = client.create_job(request())
    assert fake.calls == ["train-abc-3-1", "train-abc-3-1-x1"]
    assert job.name.endswith("/train-abc-3-1-x1")
    long_id = "a" + "b" * 62
    fake.created[f"{PARENT}/jobs/{long_id}"] = batch_v1.Job()
    assert JOB_ID.match(client.create_job(request(long_id)).name.rsplit("/", 1)[1])


def test_a_submission_that_keeps_failing_names_the_job_and_the_error():
    fake = FakeBatch([api.ServiceUnavailable("down")] * 10)
    client, sleeps, _ = retrying(fake, attempts=4)
    with pytest.raises(SubmissionFailed, match=r"train-abc-3-1 could not be submitted in 4 "
                       r"tries; the last error: ServiceUnavailable 503"):  # fmt: skip
        client.create_job(request())
    assert len(fake.calls) == 4 and len(sleeps) == 3 and not fake.created


def test_a_refused_request_is_not_retried():
    fake = FakeBatch([api.InvalidArgument("machine type unknown")])
    client, sleeps, _ = retrying(fake)
    with pytest.raises(SubmissionFailed, match="refused job train-abc-3-1: 400"):
        client.create_job(request())
    assert len(fake.calls) == 1 and not sleeps


def test_a_failed_submission_is_that_jobs_failure_and_the_run_goes_on(monkeypatch):
    """Executor.run_job reports the job as failed instead of raising, which would make
    Snakemake's scheduler cancel every job of the run."""

    def submit(self, job):
        raise SubmissionFailed("Google Batch job j could not be submitted in 6 tries")

    monkeypatch.setattr(GoogleBatchExecutor, "run_job", submit)
    executor = object.__new__(plugin.Executor)
    reported = []
    executor.report_job_error = lambda info, msg=None, **kw: reported.append((info.job, msg))
    executor.run_job("job-1")
    assert reported == [("job-1", "Google Batch job j could not be submitted in 6 tries. ")]


def test_spot_tasks_get_one_lifecycle_policy_that_retries_preemption_only():
    executor = object.__new__(plugin.Executor)
    executor.get_param = lambda job, param: None  # no bucket: the plugin adds no volume
    executor.get_container = lambda job: None
    spot = batch_v1.TaskSpec(max_retry_count=3)
    executor.add_storage("job", spot)
    assert len(spot.lifecycle_policies) == 1
    policy = spot.lifecycle_policies[0]
    assert policy.action == batch_v1.LifecyclePolicy.Action.RETRY_TASK
    assert list(policy.action_condition.exit_codes) == [50001]
    on_demand = batch_v1.TaskSpec(max_retry_count=0)
    executor.add_storage("job", on_demand)
    assert not on_demand.lifecycle_policies


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeLogging:
    """Cloud Logging client whose first `limited` list_entries calls answer 429."""

    def __init__(self, limited=0):
        self.limited = limited
        self.calls = 0

    def logger(self, name):
        return self

    def list_entries(self, **kwargs):
        self.calls += 1
        if self.limited:
            self.limited -= 1
            raise api.ResourceExhausted("logging read quota")
        return [SimpleNamespace(payload=f"line of {kwargs['filter_']}")]


def job_info(tmp_path, uid):
    aux = {"batch_job": batch_v1.Job(uid=uid), "logfile": str(tmp_path / f"{uid}.log")}
    return SimpleNamespace(aux=aux, external_jobid=f"{PARENT}/jobs/{uid}", job=uid)


def test_the_logging_rate_limit_puts_logs_off_without_sleeping(tmp_path):
    clock, warnings = Clock(), []
    logs = JobLogs("p", warn=warnings.append, clock=clock, first_delay=5, give_up_after=600)
    logs._client = FakeLogging(limited=1)
    first, second = job_info(tmp_path, "a"), job_info(tmp_path, "b")
    started = time.monotonic()
    assert logs.save(first) is False  # 429: put off, no sleep
    assert logs.save(second) is False  # within the shared backoff: not even asked
    assert logs._client.calls == 1 and time.monotonic() - started < 0.5
    clock.now += 5
    assert logs.save(first) and logs.save(second)
    assert (tmp_path / "a.log").read_text() == "line of labels.job_uid=a\n"
    assert len(warnings) == 1 and "later status round" in warnings[0]


def test_a_log_that_stays_rate_limited_is_given_up_with_the_command_to_read_it(tmp_path):
    clock = Clock()
    logs = JobLogs("p", warn=lambda m: None, clock=clock, first_delay=5, give_up_after=60)
    logs._client = FakeLogging(limited=100)
    info = job_info(tmp_path, "c")
    assert logs.save(info) is False
    clock.now += 61
    assert logs.save(info) is True
    assert "gcloud logging read 'labels.job_uid=c' --project=p" in (tmp_path / "c.log").read_text()


class StatusBatch:
    def __init__(self, answers):
        self.answers = answers  # name -> list of Job or exception, consumed in order

    def get_job(self, request=None, **kwargs):
        answer = self.answers[request.name].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def job_in(state, *descriptions):
    events = [batch_v1.StatusEvent(description=d) for d in descriptions]
    status = batch_v1.JobStatus(state=getattr(batch_v1.JobStatus.State, state),
                                status_events=events)  # fmt: skip
    return batch_v1.Job(status=status)


def test_status_polling_keeps_jobs_through_errors_and_rate_limits(tmp_path):
    """A failed status request keeps the job for the next round; a rate-limited log keeps a
    finished job active without holding up the others; a failure names its exit code."""
    executor = object.__new__(plugin.Executor)
    messages, success, errors = [], [], []
    logger = SimpleNamespace(warning=messages.append, info=messages.append)
    executor.logger = logger
    executor.report_job_success = lambda info: success.append(info.job)
    executor.report_job_error = lambda info, msg=None, **kw: errors.append((info.job, msg))
    clock = Clock()
    executor.job_logs = JobLogs("p", warn=messages.append, clock=clock)
    executor.job_logs._client = FakeLogging(limited=1)
    a, b, c = (job_info(tmp_path, uid) for uid in "abc")
    failed = "Task state is updated from RUNNING to FAILED on zones/z/instances/i with exit code 1."
    executor.batch = StatusBatch({
        a.external_jobid: [api.ServiceUnavailable("503"), job_in("RUNNING")],
        b.external_jobid: [job_in("SUCCEEDED")],
        c.external_jobid: [job_in("FAILED", "Job state is set from RUNNING to FAILED", failed)],
    })  # fmt: skip

    def one_round(jobs):
        async def collect():
            return [j async for j in executor.check_active_jobs(jobs)]

        return asyncio.run(collect())

    still = one_round([a, b, c])
    assert [j.job for j in still] == ["a", "b", "c"]  # a: no status; b: log put off; c: blocked
    assert not success and not errors
    clock.now += 5
    still = one_round(still)
    assert [j.job for j in still] == ["a"] and success == ["b"]
    assert errors == [("c", f"Google Batch job '{c.external_jobid}' failed (exit code 1 (the "
                            "job's own)). ")]  # fmt: skip


def test_exit_codes_are_read_from_the_status_events():
    status = job_in("FAILED", "VM preempted ... with exit code 50001.").status
    assert failure_exit_code(status) == 50001
    assert describe_exit_code(50001) == "exit code 50001: the Spot/preemptible VM was preempted"
    assert describe_exit_code(None) == "exit code unknown"


class SlowDeletes:
    """delete_job whose operations take `seconds`; some names fail or never finish."""

    def __init__(self, seconds, fail=(), missing=(), hang=()):
        self.seconds, self.fail, self.missing, self.hang = seconds, fail, missing, hang
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()

    def delete_job(self, request=None, **kwargs):
        name = request.name
        if name in self.fail:
            raise api.PermissionDenied("batch.jobs.delete denied")
        outer = self

        class Operation:
            def result(self, timeout=None):
                with outer.lock:
                    outer.in_flight += 1
                    outer.peak = max(outer.peak, outer.in_flight)
                time.sleep(timeout + 1 if name in outer.hang else outer.seconds)
                with outer.lock:
                    outer.in_flight -= 1
                if name in outer.missing:
                    raise api.NotFound("already gone")

        return Operation()


def test_cancel_deletes_all_jobs_at_once_and_names_what_is_left():
    names = [f"{PARENT}/jobs/j{i}" for i in range(12)]
    client = SlowDeletes(0.3, fail={names[0]}, missing={names[1]}, hang={names[2]})
    started = time.monotonic()
    left = delete_jobs(client, names, timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0  # one after the other: 12 x 0.3 s plus a hung one
    assert client.peak >= 10
    assert set(left) == {names[0], names[2]}  # NotFound: already gone, not "left"
    assert "PermissionDenied" in left[names[0]] and "not confirmed" in left[names[2]]
    assert delete_jobs(client, []) == {}
