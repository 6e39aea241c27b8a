"""The `file` backend refuses a table whose values are not the zeros, not only a wrong line count.

Each corrupted table is a copy of Odlyzko's table (the first 3000 lines, as published) with one
plausible accident: a value moved by a third of a gap, two lines replaced by midpoints between
zeros, the last line cut mid-number, a table too short for the last chunk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ODLYZKO, run_snakemake

from zetalab.errors import ZetalabError
from zetalab.zeros.engine import compute_range
from zetalab.zeros.file_backend import check_table_covers, check_values, read_table

LINES = 3000


@pytest.fixture(scope="module")
def published() -> list[str]:
    if not ODLYZKO.exists():
        pytest.skip(f"reference table missing: {ODLYZKO}")
    with open(ODLYZKO) as fh:
        return [next(fh) for _ in range(LINES)]


def write(tmp_path: Path, lines: list[str], name: str = "table.txt") -> Path:
    path = tmp_path / name
    path.write_text("".join(lines))
    return path


def replaced(lines: list[str], changes: dict[int, float]) -> list[str]:
    """Lines with zero #k (1-based) replaced, written like the table (same width, 9 decimals)."""
    out = list(lines)
    for k, value in changes.items():
        width = len(lines[k - 1].rstrip("\n"))
        out[k - 1] = f"{value:{width}.9f}\n"
    return out


def gammas(lines: list[str]) -> np.ndarray:
    return np.array([float(line) for line in lines])


def test_the_published_table_is_accepted_as_is(tmp_path, published):
    table = write(tmp_path, published)
    values, meta = compute_range("file", 1, 1200, table=table)
    assert np.array_equal(np.asarray(values.heights()), gammas(published)[:1200])
    assert meta["count_check"]["N_b"] == 1200


@pytest.mark.parametrize("k", [37, 1500, 2999])  # below t = 200 (Arb only), mid, near the end
@pytest.mark.parametrize("direction", [+1, -1])
def test_a_value_moved_by_a_third_of_a_gap_is_refused(tmp_path, published, k, direction):
    g = gammas(published)
    gap = g[k] - g[k - 1] if direction > 0 else g[k - 1] - g[k - 2]
    table = write(tmp_path, replaced(published, {k: g[k - 1] + direction * gap / 3}))
    read_table(table)  # count, order and unfolded positions still look right
    with pytest.raises(ZetalabError, match=rf"zero #{k} = .* is not a zero of Z"):
        compute_range("file", 1, LINES, table=table)


def test_a_value_moved_by_a_third_of_a_gap_in_a_later_chunk_is_refused(tmp_path, published):
    g = gammas(published)
    k = 2400
    table = write(tmp_path, replaced(published, {k: g[k - 1] + (g[k] - g[k - 1]) / 3}))
    compute_range("file", 1, 1200, table=table)  # the chunk without it is fine
    with pytest.raises(ZetalabError, match=rf"zero #{k} = "):
        compute_range("file", 1201, 1800, table=table)


def test_two_lines_replaced_by_midpoints_are_refused(tmp_path, published):
    g = gammas(published)
    k = 2000  # lines k, k+1 become the midpoints of (γ_k, γ_k+1) and (γ_k+1, γ_k+2)
    mids = {k: 0.5 * (g[k - 1] + g[k]), k + 1: 0.5 * (g[k] + g[k + 1])}
    table = write(tmp_path, replaced(published, mids))
    read_table(table)
    with pytest.raises(ZetalabError, match=rf"zero #{k} = .*not a zero of Z.*2 such values"):
        compute_range("file", 1, LINES, table=table)


def test_two_lines_replaced_by_the_midpoints_either_side_are_refused(tmp_path, published):
    g = gammas(published)
    k = 800  # line k: midpoint below γ_k; line k+1: midpoint above γ_k+1 (order kept)
    mids = {k: 0.5 * (g[k - 2] + g[k - 1]), k + 1: 0.5 * (g[k] + g[k + 1])}
    table = write(tmp_path, replaced(published, mids))
    with pytest.raises(ZetalabError, match=rf"zero #{k} = .*not a zero of Z"):
        compute_range("file", 1, 1200, table=table)


@pytest.mark.parametrize("drop", [1, 5, 9, 10])  # digits cut off the end; 10: "3533." is left
def test_a_last_line_cut_mid_number_is_refused(tmp_path, published, drop):
    last = published[-1].rstrip("\n")
    cut = [*published[:-1], last[:-drop]]  # no newline: the copy stopped there
    table = write(tmp_path, cut)
    with pytest.raises(ZetalabError, match=rf"line {LINES}: .* decimals where the table's"):
        read_table(table)
    with pytest.raises(ZetalabError, match="cut short"):
        compute_range("file", 1, 600, table=table)


def test_a_line_with_edited_extra_digits_is_refused(tmp_path, published):
    lines = list(published)
    lines[99] = lines[99].rstrip("\n") + "7\n"
    with pytest.raises(ZetalabError, match=r"line 100: .* has 10 decimals .* looks edited"):
        read_table(write(tmp_path, lines))


def test_counts_hold_at_sampled_points(published):
    """Values that are zeros but sit one index off pass every sign check; N(T) refuses them."""
    g = gammas(published)
    check_values(g[100:400], 101, "t")
    with pytest.raises(ZetalabError, match=r"N\(.*\) = .* zeros lie below .* but the table"):
        check_values(g[100:400], 100, "t")
    with pytest.raises(ZetalabError, match="zero is missing, doubled or misplaced"):
        check_values(g[100:400], 102, "t")


def test_a_short_table_names_chunk_size_in_the_chunk_job(tmp_path, published):
    table = write(tmp_path, published)
    with pytest.raises(ZetalabError, match=r"(?s)holds 3000 zeros.*zeros\.chunk_size"):
        compute_range("file", 2401, 1200, table=table)


def test_table_length_is_checked_against_the_last_chunk(tmp_path, published):
    table = write(tmp_path, ["# Odlyzko\n", *published, "\n"])
    check_table_covers(table, 3000)
    check_table_covers(table.as_uri(), 3000)
    with pytest.raises(ZetalabError, match=r"(?s)holds 3000 zeros; zeros 1\.\.3600.*chunk_size"):
        check_table_covers(table, 3600)
    check_table_covers("https://example.invalid/zeros.txt", 10**9)  # a URL is not fetched


def test_workflow_refuses_a_short_table_before_any_job(tmp_path, published):
    """N + 2H = 1500 zeros fit in the 1600-line table, but chunk_size 1000 makes the last chunk
    end at zero 2000: the plan is refused at parse time, naming zeros.chunk_size."""
    table = write(tmp_path, published[:1600])
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(
        "zeros:\n  backend: file\n  chunk_size: 1000\n"
        f"  table: {table}\n  odlyzko_table: {ODLYZKO}\n"
        "dataset:\n  N: 1300\n  horizon: 100\n"
    )
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "holds 1600 zeros; zeros 1..2000 requested" in out and "zeros.chunk_size" in out
    assert "zeros_chunk" not in out and "Traceback" not in out
    assert not (tmp_path / "data").exists()
