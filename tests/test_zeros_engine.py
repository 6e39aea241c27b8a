"""The zero engine against independent and certified values, at every height we care about."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zetalab.errors import ZetalabError
from zetalab.zeros.counting import index_check
from zetalab.zeros.engine import compute_range
from zetalab.zeros.file_backend import read_table
from zetalab.zeros.flint_backend import certified_balls, certified_zeros, compute_flint
from zetalab.zeros.rs import compute_rs as _compute_rs


def compute_rs(start, end):
    """rs zeros as float64 heights (exact enough below 1e8) and the statistics."""
    values, stats = _compute_rs(start, end)
    return np.asarray(values), stats


# From python-flint's documentation (acb.zeta_zero), 25 digits.
KNOWN = {
    1: 14.13472514173469379045725,
    100: 236.5242296658162058024755,
    1_000_000: 600269.6770124449555212339,
}


def test_rs_reproduces_all_of_odlyzkos_table(odlyzko):
    values, stats = compute_rs(1, len(odlyzko))
    err = np.abs(values - odlyzko)
    assert err.max() <= 3.1e-9, int(np.argmax(err)) + 1
    assert np.all(np.diff(values) > 0)
    # every Arb count check along the way accounted for exactly the zeros found
    assert all(c["N_b"] - c["N_a"] > 0 for c in stats.count_checks)


def test_rs_matches_certified_values_to_1e9():
    for n, gamma in KNOWN.items():
        values, _ = compute_rs(n, n)
        assert abs(values[0] - gamma) < 1e-9, n
    values, _ = compute_rs(250, 700)
    flint_values, radius = compute_flint(250, 700)
    assert radius < 1e-15
    assert np.abs(values - flint_values).max() < 1e-9


def test_lehmers_pair_is_separated():
    values, _ = compute_rs(6700, 6720)
    reference, _ = compute_flint(6700, 6720)
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-9)
    gap = values[6710 - 6700] - values[6709 - 6700]
    assert 0.03 < gap < 0.04  # γ_6709 ≈ 7005.0629, γ_6710 ≈ 7005.1006


def test_first_rosser_rule_violation_is_resolved():
    """Gram block at index 13,999,525 has too few sign changes; its zeros sit in a neighbour."""
    start, end = 13_999_500, 13_999_560
    values, stats = compute_rs(start, end)
    reference, _ = compute_flint(start, end)
    assert np.abs(values - reference).max() < 3e-8
    assert stats.refine_evaluations > 0


def test_near_1e8_accuracy():
    """As stored (reference + offset, compared in Arb): 1e-9, where one float64 height per zero
    could only promise half an ulp, 3.7e-9."""
    start = 100_000_000
    values, _ = _compute_rs(start, start + 30)
    pos = np.arange(31)
    assert values.errors_against(pos, certified_balls(pos + start)).max() < 1e-9


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.integers(1, 3_000_000), count=st.integers(1, 25))
def test_rs_and_flint_agree_on_random_ranges(start, count):
    values, _ = compute_rs(start, start + count - 1)
    reference, _ = compute_flint(start, start + count - 1)
    assert values.shape == reference.shape
    tol = 1e-9 if start + count <= 1_000_000 else 3e-9
    assert np.abs(values - reference).max() < tol


def test_mpmath_backend_matches_flint():
    values, meta = compute_range("mpmath", 1, 3)
    np.testing.assert_allclose(
        values, [KNOWN[1], 21.022039638771554, 25.010857580145689], rtol=0, atol=1e-12
    )
    assert meta["count_check"]["N_a"] == 0 and meta["count_check"]["N_b"] == 3


def test_flint_backend_records_certified_radius():
    values, meta = compute_range("flint", 99, 3)
    assert abs(values.heights()[1] - KNOWN[100]) < 1e-12
    # the certified radius plus the rounding of the stored offsets (both tiny at 236)
    parts = meta["error_bound_parts"]
    assert parts["computation"] < 1e-15 and 0 < parts["stored_rounding"] < 1e-13
    assert meta["error_bound"] == parts["computation"] + parts["stored_rounding"]
    mids, rads = certified_zeros(np.array([1, 100]))
    assert abs(mids[1] - KNOWN[100]) < 1e-12 and rads.max() < 1e-15


def test_file_backend_reads_path_and_file_url(tmp_path, odlyzko):
    table = tmp_path / "zeros1.txt"
    table.write_text("".join(f"{g:.9f}\n" for g in odlyzko[:3000]))
    values, meta = compute_range("file", 1001, 500, table=table)
    np.testing.assert_allclose(values, odlyzko[1000:1500], atol=1e-12, rtol=0)
    assert meta["count_check"]["N_a"] == 1000
    from_url = read_table(table.as_uri())
    assert from_url.shape == (3000,)
    with pytest.raises(ZetalabError, match=r"holds 3000 zeros; zeros 2901\.\.3100"):
        compute_range("file", 2901, 200, table=table)


def test_file_backend_refuses_missing_and_swapped_lines(tmp_path, odlyzko):
    lines = [f"{g:.9f}\n" for g in odlyzko[:3000]]
    missing = tmp_path / "missing.txt"
    missing.write_text("".join(lines[:1234] + lines[1235:]))
    with pytest.raises(ZetalabError, match=r"missing\.txt.*line is missing or repeated") as info:
        read_table(missing)
    assert "#1201" in str(info.value) or "#1151" in str(info.value)
    swapped = tmp_path / "swapped.txt"
    lines[500], lines[501] = lines[501], lines[500]
    swapped.write_text("".join(lines))
    with pytest.raises(ZetalabError, match=r"out of order at zeros #501 and #502"):
        read_table(swapped)
    with pytest.raises(ZetalabError, match="does not exist"):
        read_table(tmp_path / "nope.txt")
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("14.134725142\nabc\n")
    with pytest.raises(ZetalabError, match="line 2"):
        read_table(garbage)


def test_index_check_catches_an_off_by_one(odlyzko):
    assert index_check(odlyzko[99:200], 100, "x")["N_b"] == 200
    with pytest.raises(ZetalabError, match="fail the Arb count check"):
        index_check(odlyzko[100:200], 100, "zeros from somewhere")


@pytest.mark.parametrize(
    ("backend", "start", "count", "message"),
    [
        ("rs", 0, 5, "start must be ≥ 1"),
        ("rs", 5, 0, "count must be ≥ 1"),
        ("flint", -3, 5, "start must be ≥ 1"),
        ("gpu", 1, 5, "unknown zeros backend 'gpu'"),
        ("file", 1, 5, "needs a table"),
    ],
)
def test_bad_input(backend, start, count, message):
    with pytest.raises(ZetalabError, match=message):
        compute_range(backend, start, count)
