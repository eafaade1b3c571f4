"""SemVer 2 precedence: pre-releases, numeric vs alphanumeric identifiers, build metadata."""

from __future__ import annotations

import pytest

from portside.domain.versions.semver import sort_key


def test_the_specification_example_order() -> None:
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
             "1.0.0-rc.1", "1.0.0"]
    keys = [sort_key(version) for version in chain]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_numeric_identifiers_compare_numerically() -> None:
    assert sort_key("1.0.0-rc.2") < sort_key("1.0.0-rc.10")


def test_numeric_identifiers_sort_before_alphanumeric_ones() -> None:
    assert sort_key("1.0.0-1") < sort_key("1.0.0-a")
    assert sort_key("1.0.0-alpha.9") < sort_key("1.0.0-alpha.x")


def test_core_numbers_compare_numerically() -> None:
    assert sort_key("4.17.9") < sort_key("4.17.20") < sort_key("4.18.0") < sort_key("10.0.0")


def test_build_metadata_has_no_precedence() -> None:
    assert sort_key("1.2.3+build.5") == sort_key("1.2.3")


def test_a_leading_v_is_accepted() -> None:
    assert sort_key("v1.2.3") == sort_key("1.2.3")


@pytest.mark.parametrize("invalid", ["", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-a..b", "latest", "1.2.3 "])
def test_invalid_versions_raise(invalid: str) -> None:
    with pytest.raises(ValueError, match="semantic version"):
        sort_key(invalid)
