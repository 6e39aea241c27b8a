"""Chunk/aggregate store: layout, verification, and every corruption refused with a clear error."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from zetalab.errors import ZetalabError
from zetalab.zeros import store


@pytest.fixture()
def chunks(tmp_path, odlyzko):
    """Three aligned chunks of 1,000 of Odlyzko's zeros (file backend layout)."""
    files = []
    for r in store.chunk_ranges(2500, 1000):
        path = store.chunk_path(tmp_path, "file", r.start, r.end)
        store.write_chunk(path, odlyzko[r.start - 1 : r.end], r.start, {"error_bound": 3e-9})
        files.append(path)
    return files


def test_chunk_ranges_are_aligned():
    ranges = store.chunk_ranges(2500, 1000)
    assert [(r.start, r.end) for r in ranges] == [(1, 1000), (1001, 2000), (2001, 3000)]
    assert store.chunk_ranges(1000, 1000)[-1].end == 1000
    assert (
        store.chunk_path("data/zeros", "rs", 1, 5000).name == "chunk_000000000001_000000005000.npy"
    )
    with pytest.raises(ZetalabError, match="chunk_size"):
        store.chunk_ranges(10, 0)


def _tiles(ranges):
    return all(b.start == a.end + 1 for a, b in itertools.pairwise(ranges))


def test_chunks_grow_with_height_and_still_tile():
    """Below 10⁸ chunk k is [k·cs + 1, (k + 1)·cs] as before; from 10⁸ on chunks hold at least
    200,000 … 1,000,000 zeros (a job's start-up is paid once per chunk), and every band edge
    falls on a chunk boundary of both bands, so the chunks still tile every range."""
    low = store.chunk_ranges(10_200, 5000)
    assert [(r.start, r.end) for r in low] == [(1, 5000), (5001, 10_000), (10_001, 15_000)]
    across = store.chunk_ranges(10**6, 5000, first=10**8 - 7000)
    assert [r.count for r in across[:3]] == [5000, 5000, 200_000] and _tiles(across)
    assert across[2].start == 10**8 + 1
    for height, size in ((10**10, 500_000), (10**12, 1_000_000), (10**14, 1_000_000)):
        (chunk,) = store.chunk_ranges(1, 5000, first=height + 12_345)
        assert (chunk.start, chunk.count) == (height + 1, size)
    (top,) = store.chunk_ranges(1, 5000, first=10**16)
    assert top.end == 10**16  # the last supported zero ends a chunk
    # an edge that is no multiple of chunk_size starts the band at the next chunk boundary
    odd = store.chunk_ranges(2000, 600, first=10**8 - 1000)
    assert _tiles(odd) and odd[-1].start == 100_000_201 and odd[-1].count == 200_000
    # a chunk_size above every floor keeps one size at every height
    assert store.chunk_bands(10**6) == [(1, 10**6)]


def test_aggregate_keeps_chunks_that_touch_the_range_by_one_zero(tmp_path, chunks, odlyzko):
    """A chunk whose last zero is the aggregate's first, or whose first zero is its last,
    supplies that one zero: dropping it would leave a gap."""
    out = tmp_path / "zeros_from1000_2.npy"
    manifest = store.aggregate(chunks, out, 2, first=1000)
    assert [c["used"] for c in manifest["chunks"]] == [[1000, 1000], [1001, 1001]]
    np.testing.assert_array_equal(np.asarray(store.load_zeros(out)[0]), odlyzko[999:1001])
    manifest = store.aggregate(chunks, tmp_path / "zeros_2001.npy", 2001)
    assert manifest["chunks"][-1]["used"] == [2001, 2001]
    assert manifest["sign_bound"] == "estimate"  # these records predate rigorous signs


def test_seams_must_not_repeat_a_zero(tmp_path, chunks, odlyzko):
    """Chunks that overlap by one index, or whose values repeat at the seam, are refused."""
    late = store.chunk_path(tmp_path / "x", "file", 1000, 1999)
    store.write_chunk(late, odlyzko[999:1999], 1000, {})
    with pytest.raises(ZetalabError, match="overlapping chunks"):
        store.aggregate([chunks[0], late], tmp_path / "z.npy", 1999)
    repeat = odlyzko[1000:2000].copy()
    repeat[0] = odlyzko[999]  # zero #1001 stored as zero #1000's value
    second = store.chunk_path(tmp_path / "y", "file", 1001, 2000)
    store.write_chunk(second, repeat, 1001, {})
    with pytest.raises(ZetalabError, match=r"chunks meet out of order: zero #1000 ≥ zero #1001"):
        store.aggregate([chunks[0], second], tmp_path / "z.npy", 2000)
    assert not (tmp_path / "z.npy").exists()


def test_aggregate_streams_first_total_zeros(tmp_path, chunks, odlyzko):
    out = tmp_path / "zeros_2500.npy"
    manifest = store.aggregate(chunks, out, 2500)
    values = store.load_aggregate(out, min_count=2500)
    np.testing.assert_array_equal(values, odlyzko[:2500])
    assert manifest["coverage"] == [1, 2500]
    assert manifest["chunks"][-1]["used"] == [2001, 2500]
    assert manifest["error_bound"] == 3e-9
    # chunk order on the command line does not matter
    store.aggregate(list(reversed(chunks)), tmp_path / "again.npy", 2500)
    assert store.sha256_file(tmp_path / "again.npy") == manifest["sha256"]


def test_gap_and_overlap_are_refused(tmp_path, chunks, odlyzko):
    with pytest.raises(ZetalabError, match=r"gap in the chunks: zeros 1001\.\.2000"):
        store.aggregate([chunks[0], chunks[2]], tmp_path / "z.npy", 2500)
    other = store.chunk_path(tmp_path / "x", "file", 501, 1500)
    store.write_chunk(other, odlyzko[500:1500], 501, {})
    with pytest.raises(ZetalabError, match="overlapping chunks"):
        store.aggregate([chunks[0], other, chunks[1]], tmp_path / "z.npy", 2500)
    with pytest.raises(ZetalabError, match=r"cover zeros 1\.\.2000 only"):
        store.aggregate(chunks[:2], tmp_path / "z.npy", 2500)
    assert not (tmp_path / "z.npy").exists()


def _rewrite_npy(path, values):
    """Replace a chunk's data behind its record's back (simulated corruption)."""
    with open(path, "wb") as fh:
        np.save(fh, values)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        ("checksum", "sha256"),
        ("nan", "not finite"),
        ("order", "not strictly increasing"),
        ("length", "values for range"),
    ],
)
def test_corrupt_chunk_is_refused(tmp_path, chunks, corrupt, message):
    path = chunks[1]
    values = np.load(path)
    if corrupt == "checksum":
        values[10] += 1e-6
        _rewrite_npy(path, values)
    else:
        if corrupt == "nan":
            values[10] = np.nan
        elif corrupt == "order":
            values[[10, 11]] = values[[11, 10]]
        else:
            values = values[:-1]
        _rewrite_npy(path, values)
        record = json.loads(store.meta_path(path).read_text())
        record["sha256"] = store.sha256_file(path)  # a consistent record: the values are bad
        store.meta_path(path).write_text(json.dumps(record))
    with pytest.raises(ZetalabError, match=message) as info:
        store.aggregate(chunks, tmp_path / "zeros_2500.npy", 2500)
    assert "1001" in str(info.value)
    assert "fix:" in str(info.value)
    assert not (tmp_path / "zeros_2500.npy").exists()


def test_chunk_without_record_is_refused(tmp_path, chunks):
    store.meta_path(chunks[0]).unlink()
    with pytest.raises(ZetalabError, match="has no record"):
        store.aggregate(chunks, tmp_path / "z.npy", 2500)


def test_write_chunk_refuses_bad_values(tmp_path):
    with pytest.raises(ZetalabError, match="not strictly increasing"):
        store.write_chunk(tmp_path / "c.npy", np.array([14.1, 21.0, 21.0]), 1, {})
    assert not (tmp_path / "c.npy").exists()


def test_load_aggregate_errors(tmp_path, chunks):
    out = tmp_path / "zeros_2500.npy"
    with pytest.raises(ZetalabError, match="does not exist"):
        store.load_aggregate(out)
    store.aggregate(chunks, out, 2500)
    with pytest.raises(ZetalabError, match="5000 needed"):
        store.load_aggregate(out, min_count=5000)
    manifest = store.manifest_path(out)
    text = manifest.read_text()
    manifest.unlink()
    with pytest.raises(ZetalabError, match="no manifest"):
        store.load_aggregate(out)
    manifest.write_text(text)
    with open(out, "r+b") as fh:
        fh.seek(-8, 2)
        fh.write(b"\x00" * 8)
    with pytest.raises(ZetalabError, match=r"sha256 does not match.*\n.*fix: rebuild"):
        store.load_aggregate(out)


def test_aggregate_of_a_window_above_one(tmp_path, chunks, odlyzko):
    """Zeros 1500..2499 from the aligned chunks that cover them, nothing below needed."""
    out = tmp_path / "zeros_from1500_1000.npy"
    manifest = store.aggregate(chunks[1:], out, 1000, first=1500)
    assert manifest["coverage"] == [1500, 2499]
    assert [c["used"] for c in manifest["chunks"]] == [[1500, 2000], [2001, 2499]]
    zeros, _ = store.load_zeros(out)
    assert zeros.first_index == 1500
    np.testing.assert_array_equal(np.asarray(zeros), odlyzko[1499:2499])
    assert [r.start for r in store.chunk_ranges(1000, 1000, first=1500)] == [1001, 2001]
    with pytest.raises(ZetalabError, match=r"gap in the chunks: zeros 1500\.\.2000"):
        store.aggregate(chunks[2:], tmp_path / "z.npy", 1000, first=1500)
