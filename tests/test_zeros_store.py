"""Chunk/aggregate store: layout, verification, and every corruption refused with a clear error."""

from __future__ import annotations

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
