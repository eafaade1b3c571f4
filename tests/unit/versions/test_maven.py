"""Maven ComparableVersion semantics: padding, qualifiers, aliases, numbers vs qualifiers."""

from __future__ import annotations

import pytest

from portside.domain.versions.maven import sort_key


@pytest.mark.parametrize(("same", "other"), [
    ("2.4", "2.4.0"),
    ("1.0-final", "1"),
    ("1.0.0.GA", "1.0"),
    ("2.0.0.RELEASE", "2.0.0"),
    ("1-cr1", "1-rc1"),
    ("1-a1", "1-alpha-1"),
    ("1.0-SNAPSHOT", "1-snapshot"),
])
def test_equal_spellings(same: str, other: str) -> None:
    assert sort_key(same) == sort_key(other)


def test_qualifier_order() -> None:
    chain = ["1-alpha", "1-beta", "1-milestone", "1-rc", "1-snapshot", "1", "1-sp", "1-abc", "1-xyz"]
    keys = [sort_key(version) for version in chain]
    assert all(lower < higher for lower, higher in zip(keys, keys[1:], strict=False))


def test_qualifier_numbers_compare_numerically() -> None:
    assert sort_key("1.0.0-M2") < sort_key("1.0.0-M10") < sort_key("1.0.0-RC1")


def test_numbers_compare_numerically() -> None:
    assert sort_key("5.3.9") < sort_key("5.3.18")
    assert sort_key("2.9") < sort_key("2.15.0")


def test_a_number_beats_a_qualifier() -> None:
    assert sort_key("1.0-jre") < sort_key("1.0.1")
    assert sort_key("31.1-jre") < sort_key("31.1.1")


def test_a_service_pack_is_newer_than_the_release() -> None:
    assert sort_key("1.0") < sort_key("1.0-sp1")


@pytest.mark.parametrize("invalid", ["", " 1.0", "1.0 beta"])
def test_blank_versions_raise(invalid: str) -> None:
    with pytest.raises(ValueError, match="Maven"):
        sort_key(invalid)
