"""Storage at any height: exact references + float64 offsets, accurate unfolding, legacy files."""

from __future__ import annotations

import json
from decimal import Decimal

import flint
import mpmath
import numpy as np
import pytest

from zetalab.errors import ZetalabError
from zetalab.zeros import heights, store
from zetalab.zeros.engine import MAX_INDEX, check_range, compute_range
from zetalab.zeros.flint_backend import certified_balls


def _exact_delta(ball: flint.arb, n: int) -> float:
    """δ_n = θ(γ_n)/π + 1 − (n − ½) at 40 digits from a certified zero."""
    with mpmath.workdps(40):
        gamma = mpmath.mpf(ball.mid().str(40, radius=False))
        return float(mpmath.siegeltheta(gamma) / mpmath.pi + 1 - (n - mpmath.mpf(0.5)))


@pytest.mark.parametrize("start", [10**9, 10**10, 10**11])
def test_stored_zeros_meet_1e9_and_their_bound_at_height(tmp_path, start):
    """rs at n = 1e9..1e11, written and read back: ≤ 1e-9 from Arb and within the recorded
    bound (a float64 height would be off by up to 2e-6 at 1e11), δ to ~1e-9."""
    values, meta = compute_range("rs", start, 12)
    path = store.chunk_path(tmp_path, "rs", start, start + 11)
    store.write_chunk(path, values, start, meta)
    stored, record = store.read_chunk(path)
    np.testing.assert_array_equal(np.asarray(stored.offsets), values.offsets)
    pos = np.array([0, 5, 11])
    balls = certified_balls(pos + start)
    err = stored.errors_against(pos, balls)
    assert err.max() <= 1e-9
    assert err.max() <= record["error_bound"]
    assert record["error_bound"] >= record["error_bound_parts"]["stored_rounding"] > 0
    exact = np.array([_exact_delta(b, int(start + p)) for p, b in zip(pos, balls, strict=True)])
    assert np.abs(stored.deltas()[pos] - exact).max() < 2e-9
    if start == 10**11:  # what one float64 per zero would have kept
        lost = [abs(float(flint.arb(float(b.mid())) - b.mid())) for b in balls]
        assert max(lost) > 1e-7


def test_blocks_are_exact_integers_and_offsets_small():
    # 2.5 blocks of heights around 1e12 given as integer + fraction parts
    n = 2 * heights.BLOCK + 100
    base = np.full(n, 267_653_395_648, dtype=np.int64)
    frac = np.linspace(0.25, 9000.75, n)
    values = heights.from_parts(base, frac, first_index=10**12)
    assert len(values.references) == 3 and values.references[0] == 267_653_395_648
    assert np.abs(np.asarray(values.offsets)).max() < 9001
    lines = values.decimal_lines(0, 2)
    assert lines[0] == "267653395648.250000000000"
    assert Decimal(lines[1]) - Decimal(lines[0]) == Decimal(str(round(frac[1] - frac[0], 12)))
    # slices and concatenation keep every zero's exact height
    joined = heights.concatenate([values.slice(0, 7), values.slice(7, n)])
    assert joined.decimal_lines() == values.decimal_lines()
    # decimal text reads back exactly (integer part exact, fraction rounded once)
    again = heights.from_decimal_strings(values.decimal_lines(), first_index=10**12)
    assert again.decimal_lines() == values.decimal_lines()
    with pytest.raises(ValueError, match="plain decimal"):
        heights.from_decimal_strings(["14.13", "2.1e1"])
    across = values.slice(heights.BLOCK - 1, heights.BLOCK + 1)  # two blocks' references
    assert across.decimal_lines() == values.decimal_lines()[heights.BLOCK - 1 : heights.BLOCK + 1]


def _legacy_chunk(path, gammas, start, bound):
    """A chunk as the first format wrote it: one float64 height per zero, format 1."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, gammas)
    record = {
        "format": 1,
        "start": start,
        "end": start + len(gammas) - 1,
        "count": len(gammas),
        "sha256": store.sha256_file(path),
        "error_bound": bound,
    }
    store.meta_path(path).write_text(json.dumps(record))


def test_old_float64_files_are_read_with_their_true_accuracy(tmp_path, odlyzko):
    old = store.chunk_path(tmp_path, "file", 1, 1000)
    _legacy_chunk(old, odlyzko[:1000], 1, 1e-12)
    new = store.chunk_path(tmp_path, "file", 1001, 2000)
    store.write_chunk(new, odlyzko[1000:2000], 1001, {"error_bound": 1e-12})
    values, record = store.read_chunk(old)
    np.testing.assert_array_equal(np.asarray(values), odlyzko[:1000])
    assert record["legacy_float64"] is True
    lost = 0.5 * np.spacing(odlyzko[999])
    assert record["error_bound"] == pytest.approx(1e-12 + lost, rel=1e-12)
    out = tmp_path / "zeros_1500.npy"
    manifest = store.aggregate([new, old], out, 1500)
    assert manifest["chunks"][0]["format"] == 1 and manifest["chunks"][1]["format"] == 2
    assert manifest["error_bound"] == pytest.approx(1e-12 + lost, rel=1e-12)
    zeros, _ = store.load_zeros(out)
    np.testing.assert_array_equal(np.asarray(zeros), odlyzko[:1500])
    # an aggregate of the first format (its manifest has no blocks) is read too
    legacy = tmp_path / "zeros_old.npy"
    np.save(legacy, odlyzko[:1500])
    store.manifest_path(legacy).write_text(
        json.dumps({"format": 1, "count": 1500, "sha256": store.sha256_file(legacy)})
    )
    zeros, info = store.load_zeros(legacy)
    assert info["legacy_float64"] and info["error_bound"] is None
    np.testing.assert_allclose(zeros.deltas(), store.load_zeros(out)[0].deltas(), atol=1e-12)


def test_supported_range_is_enforced_before_any_work():
    check_range(MAX_INDEX - 9, 10)
    with pytest.raises(ZetalabError, match=r"beyond the supported range") as info:
        check_range(10**20, 5)
    assert str(MAX_INDEX) in str(info.value)
    with pytest.raises(ZetalabError, match="beyond the supported range"):
        compute_range("rs", MAX_INDEX, 2)


def test_above_1e13_zeros_are_counted_by_turing_alone_and_meet_1e9_in_arb(monkeypatch):
    """At n = 10¹⁴ (inside the supported range, where one Arb count costs 73 s) the block's
    count is Turing's alone, and sampled stored zeros lie within 1e-9 of a zero of Z: Z in Arb
    (certified) has opposite signs 0.9e-9 either side of the exact stored value R + o."""
    from zetalab.zeros import rs
    from zetalab.zeros.rs_bounds import arb_z

    def no_arb(t):
        raise AssertionError(f"Arb zeta_nzeros called at t = {t} above ARB_COUNT_BELOW")

    monkeypatch.setattr(rs, "count_zeros_upto", no_arb)
    start = 10**14 + 12_345
    values, meta = compute_range("rs", start, 300)
    assert meta["count_check"]["method"] == "rs blocks: turing"
    assert meta["gram_block_count_checks"][0]["method"] == "turing"
    for pos in (0, 299):
        ref, off = str(int(values.reference_at([pos])[0])), float(values.offsets[pos])
        below, above = arb_z(ref, off - 0.9e-9), arb_z(ref, off + 0.9e-9)
        assert below * above < 0, (pos, below, above)
    # the check can fail: a value stored 2e-9 off would show one sign on both sides
    ref, off = str(int(values.reference_at([0])[0])), float(values.offsets[0]) + 2e-9
    assert arb_z(ref, off - 0.9e-9) * arb_z(ref, off + 0.9e-9) > 0


def test_chunk_names_and_wildcards_beyond_1e12():
    big = store.chunk_path("data/zeros", "rs", 10**12 + 1, 10**12 + 5000)
    assert big.name == "chunk_1000000000001_1000000005000.npy"
    assert store.chunk_path("d", "rs", 1, 5000).name == "chunk_000000000001_000000005000.npy"
    assert store.parse_index("1000000000001", "start") == 10**12 + 1
    assert store.parse_index("000000005000", "end") == 5000
    with pytest.raises(ZetalabError, match="not a chunk index"):
        store.parse_index("0000000000001", "start")  # a second name for zero #1
    ranges = store.chunk_ranges(10, 5000, first=10**12 + 999_999)  # chunks of 10⁶ here
    assert [(r.start, r.end) for r in ranges] == [
        (10**12 + 1, 10**12 + 1_000_000),
        (10**12 + 1_000_001, 10**12 + 2_000_000),
    ]
