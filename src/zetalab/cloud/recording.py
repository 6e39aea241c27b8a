"""A stand-in for Google Batch's API client: records each job request instead of sending it.

Why: what a rule costs and where it runs is decided by the CreateJobRequest that the googlebatch
plugin builds from the profile (machine type, GPU, memory, time limit, spot, container). This
client takes the real client's place at its API boundary (`batch_v1.BatchServiceClient`, plus
Cloud Logging, which the plugin reads after each job), so the whole Snakemake run goes through
the real plugin and only the calls to Google are replaced. Each request is appended as one JSON
line to a file; every job reports SUCCEEDED at once; optionally each job's declared outputs are
written to the (emulated) bucket as empty placeholders so the next jobs of the DAG get submitted
too. The offline tests use it; `docs/cloud.md` shows how to review a run's requests with it.

Activate it in a Snakemake process with `install()` (e.g. from a sitecustomize.py):
`ZETALAB_BATCH_RECORD=<file>` names the record file, `ZETALAB_BATCH_MATERIALIZE=1` the
placeholders.

It also plays the service's refusals, so the executor's submission retries run against the
real plugin: a job id that was created before is refused with AlreadyExists (as Batch does),
`ZETALAB_BATCH_FAIL=429,503,deadline` makes the first create_job calls fail in that order (429
and 503 create nothing; `deadline` creates the job and then loses the answer), and every job
whose id or output path contains `ZETALAB_BATCH_REFUSE` is refused (503) on every try. Each try
is a record, with its `outcome` ("created" or the error's name) and whether it `created` a job.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

RECORD_VAR = "ZETALAB_BATCH_RECORD"
MATERIALIZE_VAR = "ZETALAB_BATCH_MATERIALIZE"
FAIL_VAR = "ZETALAB_BATCH_FAIL"
REFUSE_VAR = "ZETALAB_BATCH_REFUSE"
_LOCK = threading.Lock()


def _submitted_job():
    """The Snakemake job being submitted: a local `job` of the plugin's run_job(job) frame."""
    frame = sys._getframe(2)
    while frame is not None:
        job = frame.f_locals.get("job")
        if job is not None and hasattr(job, "output") and hasattr(job, "rule"):
            return job
        frame = frame.f_back
    return None


def _storage_queries(job) -> list[tuple[str, bool]]:
    """(gs:// query, is_directory) of every file the job declares: outputs, log, benchmark."""
    files = [*job.output, *job.log]
    if job.benchmark is not None:
        files.append(job.benchmark)
    queries = []
    for f in files:
        storage_object = getattr(f, "storage_object", None)
        if storage_object is not None:
            queries.append((storage_object.query, f.is_directory))
    return queries


def _materialize(job) -> None:
    from google.cloud import storage

    client = storage.Client()
    for query, is_directory in _storage_queries(job):
        parsed = urlparse(query)
        key = parsed.path.lstrip("/")
        if is_directory:
            key = f"{key.rstrip('/')}/.placeholder"
        client.bucket(parsed.netloc).blob(key).upload_from_string(b"")


class RecordingBatchClient:
    """Drop-in for google.cloud.batch_v1.BatchServiceClient (create/get/delete job)."""

    def __init__(self, *args, **kwargs):
        self.record = Path(os.environ.get(RECORD_VAR, "batch-requests.jsonl"))
        self.materialize = os.environ.get(MATERIALIZE_VAR) == "1"
        self.failures = [f for f in os.environ.get(FAIL_VAR, "").split(",") if f.strip()]
        self.refuse = os.environ.get(REFUSE_VAR) or None
        self.created: set[str] = set()

    def create_job(self, request=None, **kwargs):
        from google.api_core import exceptions
        from google.cloud import batch_v1

        name = f"{request.parent}/jobs/{request.job_id}"
        job = _submitted_job()
        with _LOCK:
            if name in self.created:
                error = exceptions.AlreadyExists(f"Job {name} already exists")
            elif self._refused(request, job):
                error = exceptions.ServiceUnavailable("The service is unavailable (recorded)")
            else:
                planned = self.failures.pop(0).strip() if self.failures else None
                error = {
                    "429": exceptions.ResourceExhausted("Job creation quota exceeded (recorded)"),
                    "503": exceptions.ServiceUnavailable("The service is unavailable (recorded)"),
                    "deadline": exceptions.DeadlineExceeded("Answer lost (recorded)"),
                }.get(planned)
            created = error is None or isinstance(error, exceptions.DeadlineExceeded)
            if created:
                self.created.add(name)
        entry = {
            "rule": job.rule.name if job is not None else None,
            "wildcards": dict(job.wildcards_dict) if job is not None else {},
            "threads": job.threads if job is not None else None,
            "outcome": "created" if error is None else type(error).__name__,
            "created": created,
            "request": json.loads(
                batch_v1.CreateJobRequest.to_json(request, use_integers_for_enums=False)
            ),
        }
        with _LOCK, self.record.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
        if created and self.materialize and job is not None:
            _materialize(job)
        if error is not None:
            raise error
        return batch_v1.Job(name=name, uid=request.job_id)

    def _refused(self, request, job) -> bool:
        """Whether ZETALAB_BATCH_REFUSE names this job (a part of its id or of an output)."""
        if not self.refuse:
            return False
        outputs = [str(f) for f in job.output] if job is not None else []
        return any(self.refuse in text for text in [request.job_id, *outputs])

    def get_job(self, request=None, **kwargs):
        from google.cloud import batch_v1

        status = batch_v1.JobStatus(state=batch_v1.JobStatus.State.SUCCEEDED)
        uid = request.name.rsplit("/", 1)[-1]
        return batch_v1.Job(name=request.name, uid=uid, status=status)

    def delete_job(self, request=None, **kwargs):
        class _Done:
            def result(self, timeout=None):
                return None

        return _Done()


class _NoLogs:
    """Cloud Logging client whose job logs are empty (the plugin fetches them per job)."""

    def __init__(self, *args, **kwargs):
        pass

    def logger(self, name):
        return self

    def list_entries(self, **kwargs):
        return []


def install() -> None:
    """Replace the Batch and Logging clients in this process (before Snakemake uses them)."""
    import google.cloud.logging
    from google.cloud import batch_v1

    batch_v1.BatchServiceClient = RecordingBatchClient
    google.cloud.logging.Client = _NoLogs


def read_records(path: Path) -> list[dict]:
    """The recorded requests (every try, with its outcome), in submission order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def recorded_environment(
    endpoint: str, bucket: str, project: str, site: Path, record: Path, **extra: str
) -> dict[str, str]:
    """The environment of the README's cloud set-up pointed at a storage emulator, with Batch
    replaced by this recorder (installed by a sitecustomize.py written into `site`, which goes
    first on PYTHONPATH beside this checkout's package)."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "from zetalab.cloud.recording import install\ninstall()\n"
    )
    src = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZETALAB_", "SNAKEMAKE_"))}
    env.update(
        STORAGE_EMULATOR_HOST=endpoint,
        ZETALAB_GCP_PROJECT=project,
        ZETALAB_GCP_REGION="europe-west4",
        ZETALAB_GCS_BUCKET=bucket,
        ZETALAB_IMAGE_REPO=f"europe-west4-docker.pkg.dev/{project}/zetalab",
        ZETALAB_BATCH_RECORD=str(record),
        PYTHONPATH=os.pathsep.join([str(site), str(src)]),
    )
    env.update(extra)
    return env
