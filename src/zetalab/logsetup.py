"""Where a rule's script logs: the rule's `log:` file, one format for every stage."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to(path: str | Path) -> None:
    """Send this job's logging (INFO and above) to `path`, replacing any earlier set-up."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=path, level=logging.INFO, format=FORMAT, force=True)
    for noisy in ("matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def logging_to(path: str | Path) -> Iterator[None]:
    """`log_to(path)` for the block, recording a failure's traceback in the log before it rises."""
    log_to(path)
    try:
        yield
    except Exception:
        logging.getLogger("zetalab").exception("job failed")
        raise
