"""rpm version ordering (rpmvercmp): epochs, segments, `~` and `^`, releases."""

from __future__ import annotations

import pytest

from portside.domain.versions.rpm import sort_key


def test_the_epoch_outranks_the_rest() -> None:
    assert sort_key("1:1.0-1") > sort_key("9.9-9")


def test_a_missing_epoch_is_zero() -> None:
    assert sort_key("0:1.2.3-4.el9") == sort_key("1.2.3-4.el9")


@pytest.mark.parametrize(("lower", "higher"), [("1.0~rc1", "1.0"), ("1.0~~", "1.0~"), ("1.0~rc1", "1.0~rc2")])
def test_tilde_sorts_before_everything(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.0", "1.0^git1"),
    ("1.0^git1", "1.0.1"),
    ("1.0^git1", "1.0a"),
    ("1.0~rc1", "1.0^"),
])
def test_caret_sorts_after_the_end_and_before_more_segments(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [("1.0a", "1.0.1"), ("1.a", "1.1"), ("2.0", "2.0.a")])
def test_numbers_are_newer_than_letters(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("same", "other"), [("1.0", "1_0"), ("1.01", "1.1"), ("1.0.", "1.0"), ("1.0a", "1.0.a")])
def test_separators_only_separate(same: str, other: str) -> None:
    assert sort_key(same) == sort_key(other)


@pytest.mark.parametrize(("lower", "higher"), [
    ("2.17-325.el7_9", "2.17-326.el7_9"),
    ("3.0.7-24.el9", "3.0.7-25.el9_3"),
    ("1.0", "1.0-1"),
])
def test_releases_compare_after_the_version(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize("invalid", ["", "x:1.0", "1.0-", "1.0 1", "-1"])
def test_invalid_versions_raise(invalid: str) -> None:
    with pytest.raises(ValueError, match="rpm"):
        sort_key(invalid)
