"""The `file` backend: import a published one-zero-per-line table (line k is γ_k).

Odlyzko's tables and LMFDB text exports have this shape. A table is validated before any
chunk is written: every line a finite number, strictly increasing, and each line's unfolded
position N0(γ_k) within a few units of k − ½ (|S(t)| stays below ~3 at these heights), so a
dropped or duplicated line, which shifts every later index by one, is caught where it happens.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.unfold import smooth_count

# δ_k = N0(γ_k) − (k − ½) ≈ −S(γ_k) stays within ±3 for such tables, and its mean over 50
# consecutive zeros within ±0.05 (Odlyzko's first 100,000: max 0.03). A dropped or repeated
# line shifts every later δ by exactly ±1, which moves those means far beyond this limit.
DELTA_LIMIT = 3.0
WINDOW = 50
WINDOW_MEAN_LIMIT = 0.4


def read_table(source: str | os.PathLike[str], first_index: int = 1) -> np.ndarray:
    """Parse and validate a table from a path or a URL (file://, http(s)://)."""
    text, name = _read_source(str(source))
    values = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        token = line.split()[-1] if len(line.split()) > 1 else line
        try:
            values.append(float(token))
        except ValueError:
            raise ZetalabError(
                f"zeros table {name}, line {lineno}: {raw.strip()[:40]!r} is not a number",
                "give one zero per line (optionally 'index value')",
            ) from None
    gammas = np.asarray(values, dtype=np.float64)
    validate_table(gammas, name, first_index)
    return gammas


def validate_table(gammas: np.ndarray, name: str, first_index: int = 1) -> None:
    """Refuse NaN, order errors and missing/duplicated lines, naming the line and zero index."""
    if gammas.size == 0:
        raise ZetalabError(f"zeros table {name} is empty", "point zeros.table at a zeros table")
    bad = np.flatnonzero(~np.isfinite(gammas) | (gammas <= 0))
    if bad.size:
        k = int(bad[0])
        raise ZetalabError(
            f"zeros table {name}: zero #{first_index + k} is {gammas[k]} (not a positive number)",
            "fix or re-download the table",
        )
    steps = np.diff(gammas)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        k = int(bad[0])
        raise ZetalabError(
            f"zeros table {name}: out of order at zeros #{first_index + k} and "
            f"#{first_index + k + 1} ({float(gammas[k])!r} then {float(gammas[k + 1])!r})",
            "the table must list zeros in increasing order, one per line",
        )
    index = np.arange(first_index, first_index + gammas.size, dtype=np.float64)
    delta = smooth_count(gammas) - (index - 0.5)
    far = np.flatnonzero(np.abs(delta) > DELTA_LIMIT)
    if far.size:
        k = int(far[0])
        raise ZetalabError(
            f"zeros table {name}: zero #{first_index + k} = {gammas[k]!r} is far from where "
            f"zero #{first_index + k} lies (unfolded offset {delta[k]:+.2f}); a line is "
            f"missing or repeated before it",
            "re-download the table; line k must hold γ_k",
        )
    width = min(WINDOW, gammas.size)
    n_windows = gammas.size // width
    means = delta[: n_windows * width].reshape(n_windows, width).mean(axis=1)
    # the incomplete last window is checked as the last `width` zeros (overlapping)
    tail = min(20, gammas.size)
    means = np.append(means, [delta[-width:].mean(), delta[-tail:].mean()])
    shifted = np.flatnonzero(np.abs(means) > WINDOW_MEAN_LIMIT)
    if shifted.size:
        w = int(shifted[0])
        w_start = w * width if w < n_windows else gammas.size - (width if w == n_windows else tail)
        lo = first_index + max(0, w_start - width)
        hi = first_index + min(gammas.size, w_start + width) - 1
        raise ZetalabError(
            f"zeros table {name}: unfolded zeros shift by {means[w]:+.2f} from zero "
            f"#{first_index + w_start} on; a line is missing or repeated between zeros "
            f"#{lo} and #{hi}",
            "re-download the table; line k must hold γ_k",
        )


def _read_source(source: str) -> tuple[str, str]:
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https", "file", "ftp"):
        try:
            with urllib.request.urlopen(source, timeout=60) as response:
                return response.read().decode("utf-8", errors="replace"), source
        except OSError as exc:
            raise ZetalabError(
                f"cannot read zeros table {source} ({exc})",
                "check the URL, or download it and set zeros.table to the local path",
            ) from exc
    path = Path(source)
    if not path.exists():
        raise ZetalabError(
            f"zeros table {path} does not exist", "set zeros.table to an existing file or URL"
        )
    return path.read_text(), str(path)


def slice_table(gammas: np.ndarray, start: int, end: int, name: str) -> np.ndarray:
    """γ_start..γ_end from a validated table, refusing a range the table does not cover."""
    if end > gammas.size:
        raise ZetalabError(
            f"zeros table {name} holds {gammas.size} zeros; zeros {start}..{end} requested",
            "use a longer table, or a smaller dataset.N / horizon, or another backend",
        )
    return np.array(gammas[start - 1 : end], dtype=np.float64)
