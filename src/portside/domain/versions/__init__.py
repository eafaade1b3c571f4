"""Version ordering per ecosystem, dispatched on the OSV ecosystem name.

`sort_key(ecosystem, version)` parses a version once (cached) into a value whose `<` is
the ecosystem's ordering; `compare(ecosystem, a, b)` is -1, 0 or 1. Keys are only
comparable with keys of the same ecosystem scheme. Both raise ValueError for a version the
scheme cannot parse, or an ecosystem we cannot order.

Schemes: dpkg (Debian:*, Ubuntu:*), apk (Alpine:*), rpm (Red Hat:*, Rocky Linux:*,
AlmaLinux:*), PEP 440 (PyPI), SemVer 2 (npm, and "SEMVER" for OSV SEMVER ranges), Go (Go),
Maven (Maven, Maven:<repository>).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from portside.domain.versions import apk, dpkg, golang, maven, pep440, rpm, semver


class SortKey(Protocol):
    """A parsed version: ordered with `<` against keys of the same scheme."""

    def __lt__(self, other: Any, /) -> bool: ...

    def __gt__(self, other: Any, /) -> bool: ...


SEMVER = "SEMVER"  # the pseudo-ecosystem of OSV `SEMVER` ranges

_PARSERS: dict[str, Callable[[str], SortKey]] = {
    "dpkg": dpkg.sort_key,
    "apk": apk.sort_key,
    "rpm": rpm.sort_key,
    "pep440": pep440.sort_key,
    "semver": semver.sort_key,
    "golang": golang.sort_key,
    "maven": maven.sort_key,
}

# The part of an OSV ecosystem name before the first ':' ("Debian:12" -> "Debian").
_SCHEME_BY_ECOSYSTEM = {
    "Debian": "dpkg",
    "Ubuntu": "dpkg",
    "Alpine": "apk",
    "Red Hat": "rpm",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
    "PyPI": "pep440",
    "npm": "semver",
    SEMVER: "semver",
    "Go": "golang",
    "Maven": "maven",
}

CACHE_SIZE = 65_536


def scheme(ecosystem: str) -> str:
    """The name of the version scheme of `ecosystem` ("dpkg", "apk", ...); ValueError if none."""
    try:
        return _SCHEME_BY_ECOSYSTEM[ecosystem.split(":", 1)[0]]
    except KeyError:
        raise ValueError(f"no version ordering for ecosystem {ecosystem!r}") from None


@lru_cache(maxsize=CACHE_SIZE)
def _parse(scheme_name: str, version: str) -> SortKey:
    return _PARSERS[scheme_name](version)


def sort_key(ecosystem: str, version: str) -> SortKey:
    """The parsed `version` in the ordering of `ecosystem` (cached per scheme and version)."""
    return _parse(scheme(ecosystem), version)


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as version `a` sorts before, equal to, or after `b` in `ecosystem`."""
    key_a, key_b = sort_key(ecosystem, a), sort_key(ecosystem, b)
    return -1 if key_a < key_b else 1 if key_a > key_b else 0
