"""The `file` backend: import a published one-zero-per-line table (line k is γ_k).

Odlyzko's tables and LMFDB text exports have this shape. A table is validated before any
chunk is written, in two stages.

The whole table, when it is read (`read_table`): every line a finite number written with the
table's number of decimals (a line cut mid-number, e.g. the last line of a copy cut short, has
fewer), strictly increasing, and each line's unfolded position N0(γ_k) within a few units of
k − ½ (|S(t)| stays below ~3 at these heights), so a dropped or duplicated line, which shifts
every later index by one, is caught where it happens.

The values a chunk takes, when they are sliced out (`slice_table` → `check_values`): each value
must bracket a sign change of Hardy's Z, evaluated a quarter of the smaller neighbouring gap
either side of it by the rs engine's own kernel (signs certified by its error bound, else by
Arb). The brackets are disjoint, so each holds at least one zero; Arb's exact counts N(T) at
both ends and at sampled points between values then show that each holds exactly one, i.e.
every value is its zero to within a quarter gap. A value moved by a third of a gap, or two
values replaced by midpoints between zeros, has Z of one sign on both sides and is refused.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from zetalab.errors import ZetalabError
from zetalab.unfold import smooth_count
from zetalab.zeros.counting import count_zeros_upto

# δ_k = N0(γ_k) − (k − ½) ≈ −S(γ_k) stays within ±3 for such tables, and its mean over 50
# consecutive zeros within ±0.05 (Odlyzko's first 100,000: max 0.03). A dropped or repeated
# line shifts every later δ by exactly ±1, which moves those means far beyond this limit.
DELTA_LIMIT = 3.0
WINDOW = 50
WINDOW_MEAN_LIMIT = 0.4
# Z is evaluated this fraction of the smaller neighbouring gap either side of each value: far
# enough out that the sign of Z is decided there, near enough that the brackets of neighbours
# are disjoint and that a value moved by a third of a gap falls outside its zero's bracket.
BRACKET_FRACTION = 0.25
# N(T) between consecutive values is checked at about this many points per chunk (and at both
# ends): each count is exact (Arb), so a miscount anywhere shows as a wrong count after it.
COUNT_SAMPLES = 16
# Values per reference frame of the kernel: the kernel's error bound grows with the offset from
# the frame's t0, so long slices are split.
FRAME_BLOCK = 4096


def read_table(source: str | os.PathLike[str], first_index: int = 1) -> np.ndarray:
    """Parse and validate a table from a path or a URL (file://, http(s)://)."""
    text, name = _read_source(str(source))
    values = []
    decimals = []
    linenos = []
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
        decimals.append(_decimals(token))
        linenos.append(lineno)
    check_digits(np.asarray(decimals), linenos, name, text)
    gammas = np.asarray(values, dtype=np.float64)
    validate_table(gammas, name, first_index)
    return gammas


def _decimals(token: str) -> int:
    """Digits after the decimal point of a number as written (0 without a point)."""
    mantissa = token.lower().split("e")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def check_digits(decimals: np.ndarray, linenos: list[int], name: str, text: str) -> None:
    """Every line keeps the table's number of decimals (the most common one).

    A published table writes every zero to the same precision, so a line with fewer digits
    was cut (a partial download, a copy cut short mid-number); one with more was edited in.
    """
    if decimals.size == 0:
        return
    counts = np.bincount(decimals)
    usual = int(np.argmax(counts))
    odd = np.flatnonzero(decimals != usual)
    if odd.size:
        k = int(odd[0])
        line = text.splitlines()[linenos[k] - 1].strip()
        cut = "cut short (a partial download or copy?)" if decimals[k] < usual else "edited"
        raise ZetalabError(
            f"zeros table {name}, line {linenos[k]}: {line[:40]!r} has {decimals[k]} decimals "
            f"where the table's zeros have {usual}; the line looks {cut}"
            + (f" ({odd.size} such lines)" if odd.size > 1 else ""),
            "re-download the table (every line must hold its zero to the table's precision)",
        )


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


def too_short(name: str, size: int, start: int, end: int) -> ZetalabError:
    """The error for a table that ends before zero `end`, with every way out."""
    return ZetalabError(
        f"zeros table {name} holds {size} zeros; zeros {start}..{end} requested",
        "use a longer table; or a smaller zeros.chunk_size (chunks are aligned to it, so the "
        "last chunk can reach beyond the zeros the dataset needs); or a smaller dataset.N / "
        "horizon; or another zeros.backend",
    )


def slice_table(gammas: np.ndarray, start: int, end: int, name: str) -> np.ndarray:
    """γ_start..γ_end from a validated table, refusing a range the table does not cover, and
    refusing values that are not zeros of Z (`check_values`)."""
    if end > gammas.size:
        raise too_short(name, gammas.size, start, end)
    values = np.array(gammas[start - 1 : end], dtype=np.float64)
    after = float(gammas[end]) if end < gammas.size else None
    before = float(gammas[start - 2]) if start >= 2 else None
    check_values(values, start, name, before, after)
    return values


def table_length(source: str | os.PathLike[str]) -> int | None:
    """Lines holding a zero in a local table (None for a URL: it is not fetched to count)."""
    parsed = urllib.parse.urlparse(str(source))
    if parsed.scheme in ("http", "https", "ftp"):
        return None
    path = Path(parsed.path if parsed.scheme == "file" else source)
    if not path.exists():
        raise ZetalabError(
            f"zeros table {path} does not exist", "set zeros.table to an existing file or URL"
        )
    with open(path, encoding="utf-8", errors="replace") as fh:
        return sum(1 for line in fh if line.strip() and not line.lstrip().startswith("#"))


def check_table_covers(source: str | os.PathLike[str], end: int) -> None:
    """Refuse, before any chunk job starts, a table shorter than the last chunk's end."""
    size = table_length(source)
    if size is not None and size < end:
        raise too_short(str(source), size, 1, end)


def check_values(
    values: np.ndarray,
    start: int,
    name: str,
    before: float | None = None,
    after: float | None = None,
) -> None:
    """Each value brackets a sign change of Z and N(T) holds at sampled points.

    `before`/`after` are the table's neighbouring values (if any), which bound the first and
    last brackets. Raises ZetalabError naming the first value that fails.
    """
    n = values.size
    if n == 0:
        return
    gaps = np.diff(values)
    left = np.concatenate([[values[0] - before if before is not None else np.inf], gaps])
    right = np.concatenate([gaps, [after - values[-1] if after is not None else np.inf]])
    near = np.minimum(left, right)
    if not np.isfinite(near).all():  # a one-value table: use the mean spacing there
        near = np.where(np.isfinite(near), near, 2 * np.pi / np.log(values / (2 * np.pi)))
    eps = BRACKET_FRACTION * near
    lo_side, hi_side = _z_signs(values - eps), _z_signs(values + eps)
    bad = np.flatnonzero(lo_side * hi_side >= 0)
    if bad.size:
        k = int(bad[0])
        raise ZetalabError(
            f"zeros table {name}: zero #{start + k} = {float(values[k])!r} is not a zero of Z: "
            f"Z has the same sign {eps[k]:.3g} below and above it (a quarter of the gap to its "
            f"neighbours)" + (f"; {bad.size} such values in this chunk" if bad.size > 1 else ""),
            "re-download the table; line k must hold γ_k to the table's precision",
        )
    # N at the outer ends of the first and last brackets and between sampled neighbours
    checks = [(float(values[0] - eps[0]), start - 1), (float(values[-1] + eps[-1]), start + n - 1)]
    for k in np.unique(np.linspace(0, n - 2, min(COUNT_SAMPLES, max(n - 1, 0))).astype(int)):
        checks.append((0.5 * float(values[k] + values[k + 1]), start + int(k)))
    for t, expected in checks:
        try:
            counted = count_zeros_upto(t)
        except ArithmeticError:
            continue  # T within ~1e-15 of a zero: only possible for a wrong table, caught above
        if counted != expected:
            raise ZetalabError(
                f"zeros table {name}: N({t:.6f}) = {counted} zeros lie below {t:.6f} (Arb), "
                f"but the table puts {expected} there; a zero is missing, doubled or misplaced "
                f"among zeros #{start}..#{start + n - 1}",
                "re-download the table; line k must hold γ_k",
            )


def _z_signs(t: np.ndarray) -> np.ndarray:
    """sign Z(t) at each point, certified: the rs kernel with its error bound, else Arb."""
    from zetalab.zeros.frame import Frame
    from zetalab.zeros.rs_bounds import GABCKE_T_MIN, arb_z, certify_signs

    t = np.asarray(t, dtype=np.float64)
    signs = np.zeros(t.size)
    low = np.flatnonzero(t < GABCKE_T_MIN)  # the kernel's bound holds from t = 200 on
    for i in low:
        signs[i] = np.sign(arb_z(float(t[i]), 0.0))
    high = np.flatnonzero(t >= GABCKE_T_MIN)
    for block in np.array_split(high, max(1, -(-high.size // FRAME_BLOCK))):
        if block.size == 0:
            continue
        t0, t1 = float(t[block].min()), float(t[block].max())
        frame = Frame(t0, t1)
        h = t[block] - t0
        z, _ = certify_signs(frame.t0, h, frame.z(h)[0])
        signs[block] = np.sign(z)
    return signs
