"""Go versions: module versions (SemVer with a `v`), pseudo-versions, and Go toolchain /
standard library versions.

- Module versions are SemVer 2: `v1.2.3`, `v2.0.0+incompatible` (build metadata, ignored).
- Pseudo-versions (`v0.0.0-20220906165146-f3363e06e74c`, `v1.2.4-0.20191109021931-daa7c04131f5`)
  are pre-releases by construction: the timestamp identifier orders them among themselves
  and below the release they precede, which plain SemVer precedence already does.
- Toolchain versions name the standard library (`stdlib`): `go1.21` is 1.21.0, `go1.21.1`
  is 1.21.1, and `go1.21rc3` is the pre-release 1.21.0-rc.3 (the form OSV uses). A build
  annotation after a space (`go1.21.1 X:boringcrypto`) is ignored.
`(devel)` and other unversioned builds raise ValueError: they match no range.
"""

from __future__ import annotations

import re

from portside.domain.versions import semver

_TOOLCHAIN = re.compile(r"(?:go)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(alpha|beta|rc)(\d+))?", re.ASCII)


def normalise(version: str) -> str:
    """The SemVer spelling of a Go version (`go1.21rc3` -> `1.21.0-rc.3`), else `version` unchanged."""
    text = version.split(" ", 1)[0]
    match = _TOOLCHAIN.fullmatch(text)
    if match is None:
        return text
    major, minor, patch, stage, number = match.groups()
    core = f"{major}.{minor or 0}.{patch or 0}"
    return f"{core}-{stage}.{number}" if stage else core


def sort_key(version: str) -> semver.SemverKey:
    """The sort key of a Go version; raises ValueError when `version` is not one."""
    try:
        return semver.sort_key(normalise(version))
    except ValueError:
        raise ValueError(f"invalid Go version {version!r}") from None
