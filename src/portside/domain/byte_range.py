"""Byte ranges: the `Content-Range` of an upload chunk and the `Range` of a blob GET.

dist-spec writes chunk ranges as `<start>-<end>` (inclusive, no unit); clients
in the wild also send `bytes <start>-<end>[/<total>]` or `bytes=<start>-<end>`,
which we accept as the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portside.domain.errors import RangeInvalid

_CONTENT_RANGE_RE = re.compile(r"^(?:bytes[ =])?(\d{1,19})-(\d{1,19})(?:/(?:\d{1,19}|\*))?$", re.ASCII)
_RANGE_RE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$", re.ASCII)


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive range [start, end] of bytes."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_content_range(value: str | None) -> ByteRange | None:
    """Parse an upload chunk's Content-Range; None when absent. Raises RangeInvalid if malformed."""
    if value is None:
        return None
    match = _CONTENT_RANGE_RE.match(value.strip())
    if match is None:
        raise RangeInvalid(f"invalid Content-Range {value[:80]!r}: expected <start>-<end>")
    start, end = int(match[1]), int(match[2])
    if end < start:
        raise RangeInvalid(f"invalid Content-Range {value[:80]!r}: end before start")
    return ByteRange(start, end)


def parse_range(value: str | None, size: int) -> ByteRange | None:
    """Resolve a single-range `Range` header against an object of `size` bytes.

    Returns None for no header or a header we ignore (multiple ranges: we send the
    whole object, as RFC 9110 permits). Raises RangeInvalid when unsatisfiable.
    """
    if value is None or "," in value:
        return None
    match = _RANGE_RE.match(value.strip())
    if match is None or (match[1] == "" and match[2] == ""):
        return None
    if match[1] == "":  # suffix range: the last N bytes
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise RangeInvalid("unsatisfiable range", headers={"Content-Range": f"bytes */{size}"})
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if start >= size or end < start:
        raise RangeInvalid("unsatisfiable range", headers={"Content-Range": f"bytes */{size}"})
    return ByteRange(start, min(end, size - 1))
