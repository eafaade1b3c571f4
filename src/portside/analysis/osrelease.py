"""The distribution of an image: `etc/os-release` (else `usr/lib/os-release`), falling back to
`etc/debian_version` and `etc/alpine-release` for images without os-release.

Each file is parsed per layer into a flat field map (`parse_os_file`); after merging, the
surviving files decide (`detect_os`).
"""

from __future__ import annotations

import shlex

from portside.domain.inventory import OSInfo

OS_RELEASE_FILES = ("etc/os-release", "usr/lib/os-release")
#: Files holding only a version, and the distribution they imply.
VERSION_FILES = (("etc/debian_version", "debian"), ("etc/alpine-release", "alpine"))
_KEPT_FIELDS = frozenset({"ID", "ID_LIKE", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME", "NAME"})


def _unquote(value: str) -> str:
    """os-release values follow shell quoting rules; an unbalanced quote keeps the raw text."""
    try:
        parts = shlex.split(value, comments=False, posix=True)
    except ValueError:
        return value.strip("\"'")
    return " ".join(parts)


def parse_os_release(text: str) -> dict[str, str]:
    """`KEY=value` lines of an os-release file; comments and unknown keys are dropped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, equals, value = line.strip().partition("=")
        if equals and key in _KEPT_FIELDS:
            fields[key] = _unquote(value)
    return fields


def parse_os_file(path: str, data: bytes) -> dict[str, str]:
    """The fields one OS identification file contributes (`VERSION_ID` only for version files)."""
    text = data.decode("utf-8", "replace")
    if path in OS_RELEASE_FILES:
        return parse_os_release(text)
    first_line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return {"VERSION_ID": first_line} if first_line else {}


def _version_file(os_files: dict[str, dict[str, str]], distribution: str) -> str:
    for path, implied in VERSION_FILES:
        if implied == distribution and os_files.get(path, {}).get("VERSION_ID"):
            return os_files[path]["VERSION_ID"]
    return ""


def detect_os(os_files: dict[str, dict[str, str]]) -> OSInfo | None:
    """The image's OS from the merged identification files; None when nothing identifies it.

    An os-release without `VERSION_ID` (Debian testing) takes the version from the matching
    version file when there is one."""
    for path in OS_RELEASE_FILES:
        fields = os_files.get(path, {})
        distribution = fields.get("ID", "").lower()
        if distribution:
            version = fields.get("VERSION_ID") or _version_file(os_files, distribution)
            return OSInfo(distribution, version, fields.get("PRETTY_NAME", ""))
    for path, distribution in VERSION_FILES:
        version = os_files.get(path, {}).get("VERSION_ID", "")
        if version:
            return OSInfo(distribution, version)
    return None
