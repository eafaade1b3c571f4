"""Python package versions (PEP 440), ordered by `packaging`, the PyPA's reference implementation:
epochs, pre-releases (`a`, `b`, `rc`) before the release, post-releases after it, dev
releases before everything of their release, local versions (`+ubuntu1`) after the public one,
and trailing zeros ignored (`1.0 == 1.0.0`)."""

from __future__ import annotations

from packaging.version import InvalidVersion, Version


def sort_key(version: str) -> Version:
    """The `packaging` Version (comparable); raises ValueError when `version` is not PEP 440."""
    try:
        return Version(version)
    except InvalidVersion:
        raise ValueError(f"invalid PEP 440 version {version!r}") from None
