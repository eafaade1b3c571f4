"""Semantic Versioning 2.0.0 (npm packages and OSV `SEMVER` ranges).

`MAJOR.MINOR.PATCH[-prerelease][+build]`, optionally with a leading `v`. Build metadata has
no precedence and is dropped. A version with a pre-release sorts before the release; pre-release
identifiers compare left to right, numeric ones numerically and below alphanumeric ones
(compared in ASCII order), and a longer list wins when all shared identifiers are equal:
`1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0`.
"""

from __future__ import annotations

import re

_CORE = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
_IDENTIFIERS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_SEMVER = re.compile(rf"{_CORE}(?:-({_IDENTIFIERS}))?(?:\+{_IDENTIFIERS})?", re.ASCII)

# A release has no pre-release identifiers and sorts after every pre-release of its version.
_RELEASE: tuple[int, ...] = (1,)
_PRERELEASE = 0
_NUMERIC = 0
_ALPHANUMERIC = 1

Identifier = tuple[int, int] | tuple[int, str]
SemverKey = tuple[int, int, int, tuple[int | Identifier, ...]]


def _identifier(text: str) -> Identifier:
    # Leading zeros ("01") are not strict SemVer, but we order them numerically rather than fail.
    return (_NUMERIC, int(text)) if text.isdigit() else (_ALPHANUMERIC, text)


def sort_key(version: str) -> SemverKey:
    """The sort key of a SemVer 2 version; raises ValueError when `version` is not one."""
    text = version[1:] if version.startswith("v") else version
    match = _SEMVER.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid semantic version {version!r}")
    major, minor, patch, prerelease = match.groups()
    if prerelease is None:
        return int(major), int(minor), int(patch), _RELEASE
    return int(major), int(minor), int(patch), (_PRERELEASE, *(_identifier(p) for p in prerelease.split(".")))
