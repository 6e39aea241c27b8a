"""Mirror a training checkpoint in the bucket while the job runs, so a preempted run resumes.

Why: on Google Batch a job's files live on its VM until the job succeeds, when Snakemake
uploads the declared outputs; the checkpoint is not an output. A spot VM stopped after 20 hours
(or at the 24-hour cap of preemptible VMs) therefore took its checkpoint with it, and Batch's
retry started the run from epoch 0. With the hook below, every new version of the checkpoint
file is copied to the bucket (at most once per `ZETALAB_CHECKPOINT_SYNC_SECONDS`, default 120 s;
the trainer writes one every `train.checkpoint_every` epochs), and a retried job first copies it
back, so the trainer's own resume logic continues from there.

The hook is one line before the trainer first reads its checkpoint (zetalab.learning.loop):

    attach(paths.checkpoint)  # restore from the bucket, mirror every new version, push at exit

or, where a block is clearer, `with mirrored(paths.checkpoint): ...`. It does nothing unless
ZETALAB_CHECKPOINT_STORE is set (the zetalab-batch executor sets it to
gs://<bucket>/<prefix>/.checkpoints for every job), so local and SLURM runs, whose checkpoints
already sit on a lasting file system, are unchanged. STORAGE_EMULATOR_HOST is honoured (tests).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlparse

from zetalab.errors import ZetalabError

STORE_VAR = "ZETALAB_CHECKPOINT_STORE"
PROJECT_VAR = "ZETALAB_CHECKPOINT_PROJECT"
INTERVAL_VAR = "ZETALAB_CHECKPOINT_SYNC_SECONDS"
DEFAULT_INTERVAL = 120.0

log = logging.getLogger("zetalab.cloud.checkpoint_sync")


def object_key(local: Path, cwd: Path | None = None) -> str:
    """Where `local` goes under the store: its path in the workflow, not on this VM.

    Inside a Batch job the outputs (and the checkpoint beside them) live in Snakemake's local
    copy of the bucket, .snakemake/storage/gcs/<bucket>/<path>; the key keeps only <path>, so
    every retry, on whichever VM, maps the same run to the same object.
    """
    cwd = Path.cwd() if cwd is None else cwd
    path = Path(os.path.abspath(local))
    try:
        parts = path.relative_to(os.path.abspath(cwd)).parts
    except ValueError:
        parts = path.parts[1:]
    if parts[:2] == (".snakemake", "storage") and len(parts) > 4:
        parts = parts[4:]  # .snakemake/storage/<provider>/<bucket>/...
    return "/".join(parts)


class CheckpointMirror:
    """One local checkpoint file and its copy at gs://<bucket>/<prefix>/<object_key>."""

    def __init__(
        self,
        local: Path,
        store: str,
        project: str | None = None,
        interval: float = DEFAULT_INTERVAL,
    ):
        parsed = urlparse(store)
        if parsed.scheme not in ("gs", "gcs") or not parsed.netloc:
            raise ZetalabError(
                f"{STORE_VAR}={store!r} is not a gs://bucket/prefix URL",
                f"unset {STORE_VAR}, or set it to e.g. gs://my-bucket/zetalab/.checkpoints",
            )
        self.local = Path(local)
        self.bucket_name = parsed.netloc
        prefix = parsed.path.strip("/")
        key = object_key(self.local)
        self.key = f"{prefix}/{key}" if prefix else key
        self.project = project
        self.interval = interval
        self._pushed: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"gs://{self.bucket_name}/{self.key}"

    def _blob(self):
        from google.cloud import storage

        client = storage.Client(project=self.project)
        return client.bucket(self.bucket_name, user_project=self.project).blob(self.key)

    def restore(self) -> bool:
        """Copy the bucket's checkpoint here if there is none locally; True if one was copied."""
        if self.local.exists():
            return False
        blob = self._blob()
        if not blob.exists():
            return False
        self.local.parent.mkdir(parents=True, exist_ok=True)
        partial = self.local.with_name(self.local.name + ".download")
        blob.download_to_filename(str(partial))
        partial.replace(self.local)  # the trainer never sees half a file
        self._pushed = self._version()
        log.info("restored checkpoint %s from %s", self.local, self.url)
        return True

    def _version(self) -> tuple[int, int] | None:
        try:
            stat = self.local.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def push(self) -> bool:
        """Upload the checkpoint if it changed since the last upload; True if uploaded."""
        with self._lock:
            version = self._version()
            if version is None or version == self._pushed:
                return False
            # The trainer replaces the file atomically, so this reads one whole version.
            self._blob().upload_from_filename(str(self.local))
            self._pushed = version
            log.info("checkpoint %s mirrored to %s", self.local, self.url)
            return True

    def discard(self) -> None:
        """Remove the bucket's copy (the run finished and removed its checkpoint)."""
        blob = self._blob()
        if blob.exists():
            blob.delete()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.push()
            except Exception as error:  # a failed upload must not kill the training
                log.warning("could not mirror checkpoint to %s: %s", self.url, error)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="checkpoint-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        """Stop watching; upload the last version (or drop the copy if the file is gone)."""
        self.stop()
        try:
            if self.local.exists():
                self.push()
            else:
                self.discard()
        except Exception as error:
            log.warning("could not mirror checkpoint to %s: %s", self.url, error)


def mirror_from_env(
    local: str | Path, environ: Mapping[str, str] | None = None
) -> CheckpointMirror | None:
    """The mirror configured by the job's environment, or None where there is none."""
    env = os.environ if environ is None else environ
    store = env.get(STORE_VAR)
    if not store:
        return None
    interval = float(env.get(INTERVAL_VAR) or DEFAULT_INTERVAL)
    return CheckpointMirror(Path(local), store, env.get(PROJECT_VAR) or None, interval)


@contextlib.contextmanager
def mirrored(
    local: str | Path, environ: Mapping[str, str] | None = None
) -> Iterator[CheckpointMirror | None]:
    """Restore `local` from the bucket, mirror each new version while the body runs.

    On success the last version is uploaded, or the bucket's copy removed if the run removed
    its checkpoint; on failure the last version is uploaded so the retry resumes from it.
    """
    mirror = mirror_from_env(local, environ)
    if mirror is None:
        yield None
        return
    mirror.restore()
    mirror.start()
    try:
        yield mirror
    finally:
        mirror.close()


_ATTACHED: dict[Path, CheckpointMirror] = {}


def attach(local: str | Path, environ: Mapping[str, str] | None = None) -> CheckpointMirror | None:
    """Restore `local` from the bucket and mirror it until the process exits (the loop's hook).

    For a hook that must stay one line inside the trainer: the final upload runs at exit.
    Attaching the same file twice returns the running mirror.
    """
    mirror = mirror_from_env(local, environ)
    if mirror is None:
        return None
    where = Path(os.path.abspath(mirror.local))
    if where in _ATTACHED:
        return _ATTACHED[where]
    mirror.restore()
    mirror.start()
    if not _ATTACHED:
        atexit.register(close_all)
    _ATTACHED[where] = mirror
    return mirror


def close_all() -> None:
    """Close every attached mirror (at exit; a test calls it to end a simulated VM)."""
    while _ATTACHED:
        _, mirror = _ATTACHED.popitem()
        mirror.close()
