"""Job ids that cannot clash within a run, and job creation that survives transient errors.

Why: plugin 0.5.1 names each Batch job `<rule>-<6 random hex digits>`; with 2,000 chunk jobs
in one run the chance that two draw the same suffix is about 11 % (birthday bound), and the
second one is refused with "already exists". It also calls `create_job` once: a 429 (the
project's job-creation quota), a 503 or a deadline ends the submission with an exception, and
Snakemake then cancels the whole run. Here the id is derived from the run and Snakemake's own
job number (unique within a run), and `create_job` is retried with exponential backoff; a job
whose submission still fails is reported as that job's failure (see Executor.run_job).
"""

import hashlib
import os
import random
import re
import time

from google.api_core import exceptions as api
from google.cloud import batch_v1

MAX_JOB_ID = 63  # CreateJobRequest.job_id: at most 63 of [a-z0-9-], a letter first, no '-' last
_NOT_ID = re.compile(r"[^a-z0-9]+")
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
# Errors after which the request may simply be sent again. A 429 is a refusal (nothing was
# created); after a 5xx or a deadline the job may exist although the answer was lost.
REFUSED = (api.TooManyRequests,)  # ResourceExhausted (gRPC 429) is a subclass
AMBIGUOUS = (api.ServiceUnavailable, api.DeadlineExceeded, api.InternalServerError)
TRANSIENT = REFUSED + AMBIGUOUS


class SubmissionFailed(Exception):
    """create_job did not succeed within the attempts: the job fails, the run goes on."""


def _base36(number: int, width: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = _B36[digit] + digits
    return digits.rjust(width, "0")[-width:]


def run_token(now: float | None = None, pid: int | None = None) -> str:
    """9 characters naming one `snakemake` invocation: its start second and process id.

    Two runs would need the same second and the same pid (modulo 36**3) to share it; jobs
    within one run are told apart by Snakemake's job number, not by chance.
    """
    now = time.time() if now is None else now
    pid = os.getpid() if pid is None else pid
    return _base36(int(now), 6) + _base36(pid, 3)


def _slug(text: str) -> str:
    return _NOT_ID.sub("-", str(text).lower()).strip("-")


def batch_job_id(rule: str, run: str, jobid, attempt: int = 1) -> str:
    """`<rule>-<run>-<job number>-<attempt>` within Batch's 63 characters of [a-z0-9-].

    The attempt keeps a job that Snakemake restarts (--retries) from meeting its own earlier
    Batch job; the rule name is shortened, never the unique part.
    """
    number = _slug(jobid)
    if len(number) > 16:  # a group job's uuid: a digest keeps it unique and short
        number = hashlib.sha256(number.encode()).hexdigest()[:12]
    suffix = f"-{_slug(run)}-{number}-{int(attempt)}"
    stem = _slug(rule) or "job"
    if not stem[0].isalpha():
        stem = f"j-{stem}"
    return stem[: MAX_JOB_ID - len(suffix)].rstrip("-") + suffix


def backoff_delays(attempts: int, base: float, cap: float = 60.0, rng=random.random):
    """The waits between `attempts` tries: base, 2 base, 4 base ... capped, with jitter."""
    return [min(cap, base * 2**i) * (0.5 + rng() / 2) for i in range(attempts - 1)]


class RetryingBatchClient:
    """BatchServiceClient whose create_job retries transient errors; all else passes through.

    It wraps whatever client the plugin made, so zetalab.cloud.recording (which replaces the
    client class) still sees, and records, every single attempt.
    """

    def __init__(self, client, attempts: int = 6, backoff: float = 2.0, sleep=time.sleep,
                 warn=None):  # fmt: skip
        self._client = client
        self.attempts = max(1, int(attempts))
        self.backoff = float(backoff)
        self.sleep = sleep
        self.warn = warn or (lambda message: None)

    def __getattr__(self, name):
        return getattr(self._client, name)

    def create_job(self, request=None, **kwargs):
        delays = backoff_delays(self.attempts, self.backoff)
        may_exist = False  # an earlier try may have created the job although it failed
        problem = None
        for attempt in range(1, self.attempts + 1):
            try:
                return self._client.create_job(request, **kwargs)
            except api.AlreadyExists as error:
                if may_exist:
                    adopted = self._existing(request)
                    if adopted is not None:
                        return adopted
                else:  # the id is another run's: take a fresh one (within 63 characters)
                    request.job_id = f"{request.job_id[: MAX_JOB_ID - 3].rstrip('-')}-x{attempt}"
                problem = error
            except TRANSIENT as error:
                may_exist = may_exist or isinstance(error, AMBIGUOUS)
                problem = error
            except api.GoogleAPICallError as error:  # 400, 403, 404: another try cannot help
                raise SubmissionFailed(
                    f"Google Batch refused job {request.job_id}: {error}"
                ) from error
            if attempt < self.attempts:
                delay = delays[attempt - 1]
                self.warn(
                    f"Submitting Batch job {request.job_id} failed ({_describe(problem)}); "
                    f"try {attempt + 1} of {self.attempts} in {delay:.1f} s"
                )
                self.sleep(delay)
        raise SubmissionFailed(
            f"Google Batch job {request.job_id} could not be submitted in {self.attempts} "
            f"tries; the last error: {_describe(problem)}"
        )

    def _existing(self, request):
        """The job an earlier, seemingly failed, try created (None if it cannot be read now)."""
        name = f"{request.parent}/jobs/{request.job_id}"
        try:
            return self._client.get_job(request=batch_v1.GetJobRequest(name=name))
        except TRANSIENT:
            return None


def _describe(error) -> str:
    code = getattr(error, "code", None)
    name = f"{type(error).__name__} {int(code)}" if code else type(error).__name__
    return f"{name}: {getattr(error, 'message', error)}"
