"""Unit tests for portside.domain.byte_range: upload Content-Range and blob Range."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portside.domain.byte_range import ByteRange, parse_content_range, parse_range
from portside.domain.errors import RangeInvalid

ASCII_CONTENT_RANGE_RE = re.compile(r"(?:bytes[ =])?([0-9]{1,19})-([0-9]{1,19})(?:/(?:[0-9]{1,19}|\*))?")
offsets = st.integers(min_value=0, max_value=10**18)
sizes = st.integers(min_value=0, max_value=10**12)


def test_byte_range_length_is_inclusive() -> None:
    assert ByteRange(10, 19).length == 10


def test_byte_range_single_byte_has_length_one() -> None:
    assert ByteRange(5, 5).length == 1


# Content-Range (upload chunks)


def test_parse_content_range_none_when_header_absent() -> None:
    assert parse_content_range(None) is None


def test_parse_content_range_accepts_dist_spec_form() -> None:
    assert parse_content_range("0-99") == ByteRange(0, 99)


def test_parse_content_range_accepts_bytes_unit_with_total() -> None:
    assert parse_content_range("bytes 100-199/200") == ByteRange(100, 199)


def test_parse_content_range_accepts_bytes_unit_with_unknown_total() -> None:
    assert parse_content_range("bytes 0-9/*") == ByteRange(0, 9)


def test_parse_content_range_accepts_bytes_equals_form() -> None:
    assert parse_content_range("bytes=5-6") == ByteRange(5, 6)


def test_parse_content_range_strips_surrounding_whitespace() -> None:
    assert parse_content_range("  0-1 ") == ByteRange(0, 1)


def test_parse_content_range_accepts_single_byte_chunk() -> None:
    assert parse_content_range("7-7") == ByteRange(7, 7)


def test_parse_content_range_rejects_end_before_start() -> None:
    with pytest.raises(RangeInvalid, match="end before start"):
        parse_content_range("10-9")


def test_parse_content_range_rejects_missing_end() -> None:
    with pytest.raises(RangeInvalid):
        parse_content_range("0-")


def test_parse_content_range_rejects_negative_start() -> None:
    with pytest.raises(RangeInvalid):
        parse_content_range("-1-5")


def test_parse_content_range_rejects_unknown_unit() -> None:
    with pytest.raises(RangeInvalid):
        parse_content_range("items 0-1")


def test_parse_content_range_rejects_empty_string() -> None:
    with pytest.raises(RangeInvalid):
        parse_content_range("")


def test_parse_content_range_rejects_twenty_digit_offsets() -> None:
    with pytest.raises(RangeInvalid):
        parse_content_range("0-" + "9" * 20)


def test_parse_content_range_rejects_non_ascii_digits() -> None:
    with pytest.raises(RangeInvalid):
        parse_content_range("\u0661-\u0662")


def test_range_invalid_has_416_status() -> None:
    with pytest.raises(RangeInvalid) as caught:
        parse_content_range("garbage")
    assert (caught.value.code, caught.value.status) == ("BLOB_UPLOAD_INVALID", 416)


@given(offsets, offsets)
def test_parse_content_range_parses_plain_form(a: int, b: int) -> None:
    start, end = min(a, b), max(a, b)
    assert parse_content_range(f"{start}-{end}") == ByteRange(start, end)


@given(offsets, offsets, offsets)
def test_parse_content_range_parses_bytes_form_with_total(a: int, b: int, total: int) -> None:
    start, end = min(a, b), max(a, b)
    assert parse_content_range(f"bytes {start}-{end}/{total}") == ByteRange(start, end)


@given(offsets, offsets)
def test_parse_content_range_rejects_every_reversed_range(a: int, b: int) -> None:
    if a == b:
        return
    with pytest.raises(RangeInvalid):
        parse_content_range(f"{max(a, b)}-{min(a, b)}")


@given(st.one_of(st.text(max_size=60), st.text(alphabet="bytes =0123456789-/*\u0661", max_size=30)))
def test_parse_content_range_returns_range_or_raises_range_invalid(value: str) -> None:
    try:
        result = parse_content_range(value)
    except RangeInvalid:
        return
    match = ASCII_CONTENT_RANGE_RE.fullmatch(value.strip())
    assert match is not None
    assert result == ByteRange(int(match[1]), int(match[2]))
    assert result.start <= result.end


# Range (blob GET)


def test_parse_range_none_when_header_absent() -> None:
    assert parse_range(None, 100) is None


def test_parse_range_closed_range() -> None:
    assert parse_range("bytes=0-9", 100) == ByteRange(0, 9)


def test_parse_range_open_ended_range_runs_to_last_byte() -> None:
    assert parse_range("bytes=10-", 100) == ByteRange(10, 99)


def test_parse_range_suffix_range_is_last_bytes() -> None:
    assert parse_range("bytes=-10", 100) == ByteRange(90, 99)


def test_parse_range_suffix_longer_than_object_is_whole_object() -> None:
    assert parse_range("bytes=-500", 100) == ByteRange(0, 99)


def test_parse_range_clamps_end_to_last_byte() -> None:
    assert parse_range("bytes=50-1000", 100) == ByteRange(50, 99)


def test_parse_range_last_byte_only() -> None:
    assert parse_range("bytes=99-99", 100) == ByteRange(99, 99)


def test_parse_range_ignores_multiple_ranges() -> None:
    assert parse_range("bytes=0-1,5-6", 100) is None


def test_parse_range_ignores_other_units() -> None:
    assert parse_range("items=0-1", 100) is None


def test_parse_range_ignores_range_without_positions() -> None:
    assert parse_range("bytes=-", 100) is None


def test_parse_range_ignores_malformed_header() -> None:
    assert parse_range("bytes=abc", 100) is None


def test_parse_range_ignores_non_ascii_digits() -> None:
    assert parse_range("bytes=\u0661-", 100) is None


def test_parse_range_rejects_start_at_size_with_content_range() -> None:
    with pytest.raises(RangeInvalid) as caught:
        parse_range("bytes=100-", 100)
    assert caught.value.headers == {"Content-Range": "bytes */100"}


def test_parse_range_rejects_end_before_start() -> None:
    with pytest.raises(RangeInvalid) as caught:
        parse_range("bytes=5-2", 100)
    assert caught.value.headers == {"Content-Range": "bytes */100"}


def test_parse_range_rejects_zero_length_suffix() -> None:
    with pytest.raises(RangeInvalid) as caught:
        parse_range("bytes=-0", 100)
    assert caught.value.headers == {"Content-Range": "bytes */100"}


def test_parse_range_rejects_suffix_of_empty_object() -> None:
    with pytest.raises(RangeInvalid) as caught:
        parse_range("bytes=-5", 0)
    assert caught.value.headers == {"Content-Range": "bytes */0"}


def test_parse_range_rejects_any_start_of_empty_object() -> None:
    with pytest.raises(RangeInvalid):
        parse_range("bytes=0-", 0)


@given(st.integers(min_value=1, max_value=10**12), st.data())
def test_parse_range_satisfiable_closed_range_is_exact(size: int, data: st.DataObject) -> None:
    start = data.draw(st.integers(min_value=0, max_value=size - 1))
    end = data.draw(st.integers(min_value=start, max_value=size - 1))
    assert parse_range(f"bytes={start}-{end}", size) == ByteRange(start, end)


@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda a, b: f"bytes={a}-{b}",
            st.one_of(st.just(""), st.integers(0, 10**13).map(str)),
            st.one_of(st.just(""), st.integers(0, 10**13).map(str)),
        ),
    ),
    sizes,
)
def test_parse_range_result_lies_within_object_or_raises_with_content_range(value: str, size: int) -> None:
    try:
        result = parse_range(value, size)
    except RangeInvalid as err:
        assert err.headers == {"Content-Range": f"bytes */{size}"}
        return
    if result is not None:
        assert 0 <= result.start <= result.end < size
