"""Where a rule's script logs: the rule's `log:` file, one set-up and one format for every stage.

Every script under scripts/ starts with `log_to(snakemake.log[0])`. Besides routing logging
to the file, it makes sure that a job which fails leaves its reason where Snakemake points the
user ("see log"): the traceback, then a one-line reason as the last line. Without this an
exception raised outside a `try` only reaches stderr and the log stays empty.

A ZetalabError (bad input: a wrong setting, a damaged file) is the project's own message, so
stderr gets that message and the log's path instead of a raw traceback; any other exception
is a bug and keeps Python's traceback on stderr too.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

from zetalab.errors import ZetalabError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
log = logging.getLogger("zetalab.job")


def log_to(path: str | Path) -> None:
    """Send this job's logging (INFO and above) to `path` and record a failure there.

    The file is started afresh (an earlier attempt's lines would mislead); an uncaught
    exception is written to it by `record_failure`, installed as the process's excepthook.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    for noisy in ("matplotlib", "PIL", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        record_failure(exc)
        if isinstance(exc, ZetalabError):
            print(f"error: {one_line(exc)}\n  (details: {path})", file=sys.stderr)
        else:
            sys.__excepthook__(kind, exc, tb)

    sys.excepthook = hook


def record_failure(exc: BaseException) -> None:
    """Log the traceback of `exc`, then its one-line reason as the job's last log line."""
    log.error("job failed", exc_info=(type(exc), exc, exc.__traceback__))
    log.error("reason: %s", one_line(exc))
    for handler in logging.getLogger().handlers:
        handler.flush()


def one_line(exc: BaseException) -> str:
    """`exc` as one line: a ZetalabError's problem and fix, anything else as `Type: message`."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    if isinstance(exc, ZetalabError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
