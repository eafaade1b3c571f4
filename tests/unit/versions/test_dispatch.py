"""Dispatch on OSV ecosystem names, compare(), caching and errors."""

from __future__ import annotations

import pytest

from portside.domain import versions


@pytest.mark.parametrize(("ecosystem", "scheme"), [
    ("Debian:12", "dpkg"),
    ("Ubuntu:22.04:LTS", "dpkg"),
    ("Alpine:v3.19", "apk"),
    ("Red Hat:enterprise_linux:9::appstream", "rpm"),
    ("Rocky Linux:9", "rpm"),
    ("AlmaLinux:8", "rpm"),
    ("PyPI", "pep440"),
    ("npm", "semver"),
    ("SEMVER", "semver"),
    ("Go", "golang"),
    ("Maven", "maven"),
    ("Maven:https://repo.spring.io/release", "maven"),
])
def test_schemes_by_ecosystem(ecosystem: str, scheme: str) -> None:
    assert versions.scheme(ecosystem) == scheme


@pytest.mark.parametrize(("ecosystem", "a", "b", "expected"), [
    ("Debian:12", "1.0~rc1", "1.0", -1),
    ("Alpine:v3.19", "1.30.1-r2", "1.30.1-r1", 1),
    ("PyPI", "2.0", "2.0.0", 0),
    ("npm", "1.0.0-rc.1", "1.0.0", -1),
    ("Go", "go1.21rc3", "1.21.0-rc.3", 0),
    ("Maven", "2.4", "2.4.0", 0),
    ("Rocky Linux:9", "1:1.0", "2.0", 1),
])
def test_compare(ecosystem: str, a: str, b: str, expected: int) -> None:
    assert versions.compare(ecosystem, a, b) == expected


def test_a_distinct_version_is_parsed_once() -> None:
    assert versions.sort_key("PyPI", "1.26.5") is versions.sort_key("PyPI", "1.26.5")


def test_an_ecosystem_without_an_ordering_raises() -> None:
    with pytest.raises(ValueError, match="crates.io"):
        versions.sort_key("crates.io", "1.0.0")


def test_an_unparseable_version_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="not-a-version"):
        versions.compare("npm", "not-a-version", "1.0.0")
