"""Preflight for `snakemake --profile gcp-batch`: catch a bad set-up before anything is submitted.

Why this exists: the profile takes the project, the region, the bucket and the worker image from
environment variables. Snakemake expands `$NAME` in profile values but leaves the text as it is
when the variable is unset, so a forgotten `export` becomes a bucket literally named
`$ZETALAB_GCS_BUCKET` or a Batch parent `projects/$ZETALAB_GCP_PROJECT/...`. The plugins then
fail late (after uploading the sources, or with a 404 from Batch), and the GCS plugin even
*creates* a bucket it cannot find, in a location nobody chose. These checks run when the
Snakefile is parsed on the main process (rules/cloud.smk), which is before the DAG is built,
before the source archive is uploaded and before the first job is submitted.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from zetalab.cloud.images import check_installed_package, installed_package_dir, is_image_name
from zetalab.errors import ZetalabError

PROJECT_VAR = "ZETALAB_GCP_PROJECT"
REGION_VAR = "ZETALAB_GCP_REGION"
BUCKET_VAR = "ZETALAB_GCS_BUCKET"
IMAGE_VAR = "ZETALAB_IMAGE_REPO"
BATCH_EXECUTORS = ("zetalab-batch", "googlebatch")

DOCS = "docs/cloud.md"
_UNEXPANDED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
# Google Cloud regions (where Batch runs jobs) as of 2026-12. A region Google opens later is
# refused until it is added here: a typo such as `mars-north1` or `europe-west` must not reach
# Batch, which answers it only after the sources were uploaded.
KNOWN_REGIONS = frozenset(
    """
    africa-south1 asia-east1 asia-east2 asia-northeast1 asia-northeast2 asia-northeast3
    asia-south1 asia-south2 asia-southeast1 asia-southeast2 australia-southeast1
    australia-southeast2 europe-central2 europe-north1 europe-north2 europe-southwest1
    europe-west1 europe-west2 europe-west3 europe-west4 europe-west6 europe-west8 europe-west9
    europe-west10 europe-west12 me-central1 me-central2 me-west1 northamerica-northeast1
    northamerica-northeast2 northamerica-south1 southamerica-east1 southamerica-west1
    us-central1 us-east1 us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4
    """.split()
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


@dataclass(frozen=True)
class CloudSettings:
    """The settings a cloud run depends on, as Snakemake will use them (after `$VAR` expansion)."""

    executor: str | None = None
    batch_project: str | None = None
    batch_region: str | None = None
    container_image: str | None = None
    rule_images: tuple[str, ...] = ()  # per-rule googlebatch_container (the GPU image)
    storage_provider: str | None = None
    storage_prefix: str | None = None
    storage_project: str | None = None

    @property
    def uses_batch(self) -> bool:
        return self.executor in BATCH_EXECUTORS

    @property
    def uses_gcs(self) -> bool:
        return self.storage_provider == "gcs"


def unexpanded_variable(value: str | None) -> str | None:
    """The name of a `$VAR` left in a setting because the variable was not set, else None."""
    if value is None:
        return None
    match = _UNEXPANDED.search(value)
    return match.group(1) if match else None


def split_prefix(prefix: str) -> tuple[str, str]:
    """(bucket, path) of a `gcs://bucket/path` or `gs://bucket/path` storage prefix."""
    parsed = urlparse(prefix)
    if parsed.scheme not in ("gs", "gcs") or not parsed.netloc:
        raise ZetalabError(
            f"default storage prefix {prefix!r} is not a GCS URL",
            f"set {BUCKET_VAR} to a bucket name such as `my-zetalab-bucket` (no `gs://`); "
            f"the profile makes the prefix gcs://${BUCKET_VAR}/zetalab",
        )
    return parsed.netloc, parsed.path.strip("/")


def _missing(name: str, what: str, example: str) -> str:
    return f"{name} is not set ({what}); export {name}={example}"


def setting_problems(settings: CloudSettings) -> list[str]:
    """Every problem with the settings alone (no network), each naming the variable to set."""
    problems: list[str] = []

    def check(value: str | None, var: str, what: str, example: str, pattern: re.Pattern | None):
        unset = unexpanded_variable(value)
        # An empty variable expands to "", which Snakemake's profile reader turns into the
        # profile's own directory (it resolves values that name an existing path).
        if value is None or value == "" or unset == var or Path(value).is_dir():
            problems.append(_missing(var, what, example))
        elif unset is not None:
            problems.append(_missing(unset, what, example))
        elif pattern is not None and not pattern.match(value):
            kind = what.removeprefix("the ")
            problems.append(f"{var}={value!r} is not a valid {kind}; e.g. {var}={example}")
        elif var == REGION_VAR and value not in KNOWN_REGIONS:
            problems.append(
                f"{var}={value!r} is not a Google Cloud region; e.g. {var}={example} "
                "(`gcloud batch locations list` lists them; a region newer than this check "
                "is added to KNOWN_REGIONS in src/zetalab/cloud/preflight.py)"
            )

    if settings.uses_batch:
        check(
            settings.batch_project,
            PROJECT_VAR,
            "the Google Cloud project id",
            "my-project",
            _PROJECT_ID,
        )
        check(settings.batch_region, REGION_VAR, "the Google Batch region", "europe-west4", _REGION)
        for image in (settings.container_image, *settings.rule_images):
            if image is not None and image.startswith("snakemake/snakemake"):
                image = None  # Snakemake's own default image: the worker image was never set
            before = len(problems)
            check(
                image,
                IMAGE_VAR,
                "the Artifact Registry repository of the worker images built from ./Dockerfile",
                "europe-west4-docker.pkg.dev/my-project/zetalab",
                None,
            )
            if len(problems) == before and not is_image_name(image):
                problems.append(
                    f"{image!r} is not a valid container image name (lower-case "
                    f"registry/path:tag, no spaces); check {IMAGE_VAR}, e.g. "
                    f"{IMAGE_VAR}=europe-west4-docker.pkg.dev/my-project/zetalab"
                )
        if not settings.uses_gcs:
            problems.append(
                "Google Batch workers share no file system with this machine: the default "
                "storage provider must be gcs (the gcp-batch profile sets it)"
            )
    if settings.uses_gcs:
        check(
            settings.storage_project,
            PROJECT_VAR,
            "the Google Cloud project id",
            "my-project",
            _PROJECT_ID,
        )
        prefix = settings.storage_prefix
        unset = unexpanded_variable(prefix)
        doubled = re.match(r"^gc?s://(gc?s):/*([^/]*)", prefix or "")
        if doubled:
            problems.append(
                f"{BUCKET_VAR} must be the bucket name alone, without {doubled.group(1)}:// "
                f"(the storage prefix came out as {prefix!r}); e.g. "
                f"export {BUCKET_VAR}={doubled.group(2) or 'my-zetalab-bucket'}"
            )
        elif not prefix or unset is not None or urlparse(prefix).netloc == "":
            problems.append(
                _missing(
                    unset or BUCKET_VAR, "the GCS bucket that holds all data", "my-zetalab-bucket"
                )
            )
        else:
            try:
                bucket, _ = split_prefix(prefix)
            except ZetalabError as error:
                problems.append(str(error.problem))
            else:
                if not _BUCKET.match(bucket):
                    problems.append(f"{bucket!r} (from {BUCKET_VAR}) is not a valid bucket name")
    # Several settings may name the same variable: report it once, in order.
    return list(dict.fromkeys(problems))


def check_bucket(bucket: str, project: str | None, timeout: float = 30.0) -> None:
    """Raise a ZetalabError unless `bucket` exists and these credentials can read it.

    The request is the GCS plugin's own first call (a bucket lookup billed to `project`), made
    once, without retries, so an unreachable endpoint fails in seconds instead of after the
    plugin's retry budget. Honours STORAGE_EMULATOR_HOST like the plugin does.
    """
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions
    from google.cloud import storage
    from requests import exceptions as http_exceptions

    where = os.environ.get("STORAGE_EMULATOR_HOST", "Google Cloud Storage")
    try:
        client = storage.Client(project=project)
    except auth_exceptions.DefaultCredentialsError as error:
        raise ZetalabError(
            f"no Google Cloud credentials found to reach gs://{bucket} ({error})",
            f"run `{CREDENTIALS_FIX}` (see {DOCS}, prerequisites)",
        ) from None
    try:
        exists = client.bucket(bucket, user_project=project).exists(timeout=timeout, retry=None)
    except api_exceptions.Forbidden as error:
        raise ZetalabError(
            f"bucket gs://{bucket} is not accessible with the current credentials ({error})",
            forbidden_advice(str(error), project),
        ) from None
    except (
        http_exceptions.ConnectionError,
        http_exceptions.Timeout,
        auth_exceptions.TransportError,
        api_exceptions.GoogleAPICallError,
    ) as error:
        raise ZetalabError(
            f"bucket gs://{bucket} is unreachable: cannot talk to {where} ({type(error).__name__})",
            "check the network (and STORAGE_EMULATOR_HOST if you use an emulator), then retry",
        ) from None
    if not exists:
        raise ZetalabError(
            f"bucket gs://{bucket} (from {BUCKET_VAR}) does not exist",
            f"create it in the Batch region: gcloud storage buckets create gs://{bucket} "
            f"--project=${PROJECT_VAR} --location=${REGION_VAR}",
        )


def forbidden_advice(message: str, project: str | None) -> str:
    """The roles to grant for a 403 from GCS, most specific first.

    The GCS plugin bills every request to the project (user_project), which needs
    serviceusage.services.use on the project, besides the bucket roles.
    """
    on_project = f"on project {project}" if project else "on the project"
    usage = (
        f"roles/serviceusage.serviceUsageConsumer {on_project} (the storage plugin bills each "
        "request to the project: serviceusage.services.use)"
    )
    bucket_roles = "roles/storage.objectAdmin and roles/storage.legacyBucketReader on the bucket"
    if "serviceusage" in message:
        return f"grant your account (and the workers' service account) {usage}"
    return (
        f"grant your account (and the workers' service account) {bucket_roles}, and {usage}; "
        f"or set {BUCKET_VAR} to a bucket you can use (docs/cloud.md, Prerequisites)"
    )


def reference_problems(config: dict, workdir: Path) -> list[str]:
    """The Odlyzko table must exist here: on Batch the workers get it only from this machine."""
    table = ((config or {}).get("zeros") or {}).get("odlyzko_table")
    if not table or (workdir / table).exists():
        return []
    return [
        f"zeros.odlyzko_table = {table!r} does not exist (relative to {workdir}); a cloud run "
        "copies it to the bucket for zeros_check, which would otherwise fail. Point it at the "
        "table (e.g. --config with an absolute path) or set it to a file you have"
    ]


def preflight(settings: CloudSettings, reach_bucket: bool = True) -> None:
    """Raise one ZetalabError listing every problem, or return when the cloud run can start."""
    if not (settings.uses_batch or settings.uses_gcs):
        return
    problems = setting_problems(settings)
    if problems:
        raise ZetalabError(
            "the Google Cloud set-up is incomplete, nothing was submitted:\n    - "
            + "\n    - ".join(problems),
            f"set the variables as in {DOCS} (Set-up), then run `snakemake --profile gcp-batch`",
        )
    if reach_bucket and settings.uses_gcs and settings.storage_prefix:
        bucket, _ = split_prefix(settings.storage_prefix)
        check_bucket(bucket, settings.storage_project)


CREDENTIALS_FIX = "gcloud auth application-default login"


def credentials_problem(environ=os.environ, find_credentials=None) -> str | None:
    """Why no Google credentials can be found here (None when they can, or when the run talks
    to a storage emulator, which needs none)."""
    if environ.get("STORAGE_EMULATOR_HOST"):
        return None
    if find_credentials is None:
        import google.auth

        find_credentials = google.auth.default
    from google.auth.exceptions import DefaultCredentialsError

    try:
        find_credentials()
    except DefaultCredentialsError as error:
        return str(error).split(". ")[0].rstrip(".")
    return None


def exit_without_credentials(stream=None) -> None:
    """Called by profiles/gcp-batch when Snakemake loads it, before the storage plugin starts.

    Without credentials the GCS plugin otherwise stops Snakemake with Google's 49-line
    DefaultCredentialsError traceback; this says it in one line, with the command to run.
    """
    problem = credentials_problem()
    if problem is None:
        return
    (stream or sys.stderr).write(
        f"zetalab: no Google Cloud credentials on this machine ({problem}). Run "
        f"`{CREDENTIALS_FIX}` (see {DOCS}, Prerequisites), then rerun the same command.\n"
    )
    raise SystemExit(1)


def _is_snakemake_cli(argv0: str) -> bool:
    path = Path(argv0)
    in_package = path.name == "__main__.py" and path.parent.name == "snakemake"
    return path.name == "snakemake" or in_package


def _batch_setting(args, name: str) -> str | None:
    """A Batch executor setting from the CLI/profile or its environment variable."""
    for plugin in ("zetalab_batch", "googlebatch"):
        value = _text(getattr(args, f"{plugin}_{name}", None))
        if value is not None:
            return value
    for plugin in ("ZETALAB_BATCH", "GOOGLEBATCH"):
        value = os.environ.get(f"SNAKEMAKE_{plugin}_{name.upper()}")
        if value:
            return value
    return None


def _rule_images(args) -> tuple[str, ...]:
    """The constant per-rule `googlebatch_container` values of --set-resources."""
    images = []
    for resources in (getattr(args, "set_resources", None) or {}).values():
        try:
            resource = resources.get("googlebatch_container")
        except AttributeError:
            continue
        if resource is None:
            continue
        try:
            value = ast.literal_eval(str(resource.raw))
        except (ValueError, SyntaxError):
            continue  # an expression of the wildcards: checked when the job is submitted
        if isinstance(value, str):
            images.append(value)
    return tuple(dict.fromkeys(images))


def settings_from_cli(argv: list[str], cwd: str | Path | None = None) -> CloudSettings | None:
    """The cloud settings of a `snakemake` command line, profiles and environment included.

    Snakemake parses the executor settings only after the Snakefile, so the Snakefile re-reads
    the command line the way Snakemake does (same parser, same profiles) to see them early.
    `cwd` is where the command was typed: a profile name is looked up there, and by the time
    the Snakefile runs Snakemake has moved into the working directory (`-d`).
    """
    from snakemake.cli import parse_args

    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            _, args = parse_args(argv)
    except (SystemExit, Exception):
        return None
    finally:
        os.chdir(here)
    storage_project = _text(getattr(args, "storage_gcs_project", None))
    if storage_project is None:
        storage_project = os.environ.get("SNAKEMAKE_STORAGE_GCS_PROJECT")
    return CloudSettings(
        executor=_text(args.executor),
        batch_project=_batch_setting(args, "project"),
        batch_region=_batch_setting(args, "region"),
        container_image=_batch_setting(args, "container") or _text(args.container_image),
        rule_images=_rule_images(args),
        storage_provider=_text(args.default_storage_provider),
        storage_prefix=_text(args.default_storage_prefix),
        storage_project=storage_project,
    )


def _text(value) -> str | None:
    """A CLI value as text; unset plugin settings come back as lists or dataclasses.MISSING."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def settings_from_workflow(workflow, argv: list[str] | None = None) -> CloudSettings:
    """Cloud settings of a running Snakemake: storage from the workflow, the rest from argv."""
    argv = sys.argv if argv is None else argv
    cli = None
    if argv and _is_snakemake_cli(argv[0]):
        # Where was `snakemake` typed? The shell's PWD, else the Snakefile's directory (the
        # documented place), else the working directory.
        for cwd in (os.environ.get("PWD"), workflow.basedir, os.getcwd()):
            if cwd and Path(cwd).is_dir():
                cli = settings_from_cli(argv[1:], cwd)
                if cli is not None:
                    break
    storage = workflow.storage_settings
    storage_project = cli.storage_project if cli else None
    tagged = (workflow.storage_provider_settings or {}).get("gcs")
    if tagged is not None and tagged.get_settings(None) is not None:
        storage_project = _text(tagged.get_settings(None).project) or storage_project
    return CloudSettings(
        executor=cli.executor if cli else None,
        batch_project=cli.batch_project if cli else None,
        batch_region=cli.batch_region if cli else None,
        container_image=cli.container_image if cli else None,
        rule_images=cli.rule_images if cli else (),
        storage_provider=storage.default_storage_provider,
        storage_prefix=storage.default_storage_prefix,
        storage_project=storage_project,
    )


def run_for_workflow(workflow) -> None:
    """Parse-time entry point (rules/cloud.smk): only on the main process, only for cloud runs."""
    from snakemake.settings.types import ExecMode

    if workflow.exec_mode == ExecMode.REMOTE:
        # A job on a worker: the main process has checked the set-up already; here the code
        # the scripts will import must be the code the rules came with.
        sources = Path(workflow.basedir) / "src"
        if (sources / "zetalab").is_dir():
            check_installed_package(sources, installed_package_dir(sources))
        return
    if workflow.exec_mode != ExecMode.DEFAULT:
        return
    settings = settings_from_workflow(workflow)
    preflight(settings)
    if settings.uses_gcs:
        problems = reference_problems(workflow.config, Path.cwd())
        if problems:
            raise ZetalabError(problems[0], f"see {DOCS} (the reference table)")
