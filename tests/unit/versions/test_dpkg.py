"""dpkg version ordering: epochs, `~`, `+`, letters before non-letters, revisions."""

from __future__ import annotations

import pytest

from portside.domain.versions.dpkg import sort_key


@pytest.mark.parametrize(("lower", "higher"), [
    ("9.9-9", "1:0.1-1"),
    ("1:2.0", "2:1.0"),
    ("7.88.1-10+deb12u5", "1:7.0"),
])
def test_the_epoch_outranks_the_rest(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


def test_a_missing_epoch_is_zero() -> None:
    assert sort_key("0:1.2-3") == sort_key("1.2-3")


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0~rc1", "1.0~rc2"),
    ("3.0.11-1~deb12u1", "3.0.11-1"),
])
def test_tilde_sorts_before_the_end(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.0", "1.0+dfsg"),
    ("1.0-1", "1.0-1+deb12u1"),
    ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12"),
])
def test_plus_sorts_after_the_end(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.0a", "1.0+"),
    ("1.0a", "1.0."),
    ("1.0Z", "1.0a"),
])
def test_letters_sort_before_non_letters(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [("1.9", "1.10"), ("1.01", "1.2"), ("2.36-9", "2.36-10")])
def test_digit_runs_compare_numerically(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("same", "other"), [("1.0", "1.0-0"), ("1.01", "1.1"), ("1a", "1a0")])
def test_equal_spellings(same: str, other: str) -> None:
    assert sort_key(same) == sort_key(other)


def test_the_revision_is_split_at_the_last_hyphen() -> None:
    assert sort_key("1.0-beta-2") > sort_key("1.0-beta-1")
    assert sort_key("1.0-beta-1") > sort_key("1.0-alpha-9")


def test_upstream_decides_before_the_revision() -> None:
    assert sort_key("1.1-1") > sort_key("1.0-99")


@pytest.mark.parametrize("invalid", ["", "a:1.0", ":1.0", "1.0-", "1.0 beta", "1.0-1:2", "-1"])
def test_invalid_versions_raise(invalid: str) -> None:
    with pytest.raises(ValueError, match="dpkg"):
        sort_key(invalid)
