"""Send a rule script's logging (and its traceback, if it fails) to the rule's log file."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def logging_to(path: str | Path) -> Iterator[logging.Logger]:
    """Log INFO and above to `path` for the duration of a job; record a failure's traceback."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        yield logging.getLogger("zetalab.sweeps")
    except Exception:
        logging.getLogger("zetalab.sweeps").exception("job failed")
        raise
    finally:
        root.removeHandler(handler)
        handler.close()
