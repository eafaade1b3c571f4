"""apk version ordering: dotted numbers, a letter, `_suffix`es, `-rN`, leading zeros."""

from __future__ import annotations

import pytest

from portside.domain.versions.apk import sort_key


@pytest.mark.parametrize("chain", [
    ["1.0_alpha1", "1.0_beta1", "1.0_pre1", "1.0_rc1", "1.0"],
    ["1.0", "1.0_cvs1", "1.0_svn1", "1.0_git20200101", "1.0_hg1", "1.0_p1"],
])
def test_suffix_order(chain: list[str]) -> None:
    keys = [sort_key(version) for version in chain]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.1_alpha1", "1.1"),
    ("2.0.0_rc3-r1", "2.0.0"),
    ("0.1.0_alpha_pre2", "0.1.0_alpha"),
    ("6.0_pre1", "6.0"),  # older apk-tools got a zero before a suffix wrong
])
def test_pre_release_suffixes_sort_before_the_release(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.8.5", "1.8.5_p2"),
    ("1.0_p9-r0", "1.0_p10-r0"),
    ("1.2.3", "1.2.3_git20200101-r0"),
    ("6.0", "6.0_p1"),
])
def test_post_release_suffixes_sort_after_the_release(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.30.1-r1", "1.30.1-r2"),
    ("1.3.5-r9", "1.3.5-r10"),
    ("4.5_p1", "4.5_p1-r1"),
    ("1.0-r9", "1.0.1"),
    ("1.1.1d-r2", "1.1.1d-r3"),
])
def test_revisions(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [("1.7", "1.7b"), ("2.5.1-r8", "2.5.1a-r1"), ("1.0a", "1.0.1")])
def test_a_letter_follows_its_number(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


@pytest.mark.parametrize(("lower", "higher"), [
    ("1.05", "1.1"),
    ("1.005", "1.05"),
    ("1.2.07.8", "1.2.12.04"),
    ("1.06-r6", "006"),  # the first number is plain: 006 is 6
])
def test_leading_zeros_after_a_dot_compare_as_strings(lower: str, higher: str) -> None:
    assert sort_key(lower) < sort_key(higher)


def test_commit_hashes_compare_as_strings_after_suffixes() -> None:
    assert sort_key("1.0_git20240101~0a1b-r0") < sort_key("1.0_git20240101~0a1c-r0")
    assert sort_key("1.0_git20240101-r5") < sort_key("1.0_git20240101~0a1b-r0")


def test_equal_versions_have_equal_keys() -> None:
    assert sort_key("2.16.1-r3") == sort_key("2.16.1-r3")


@pytest.mark.parametrize("invalid", [
    "", "1.0bc", "1.0_foo", "1.0-r", "v1.0", "1.0-1", "1..0", "1.0A", "_rc1", "1.0a1", "1.0_rc1.2", "1.0~xyz",
])
def test_invalid_versions_raise(invalid: str) -> None:
    with pytest.raises(ValueError, match="apk"):
        sort_key(invalid)
