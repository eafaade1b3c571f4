"""RPM versions (Red Hat, Rocky Linux, AlmaLinux): `[epoch:]version[-release]`.

Ordering, as rpm's `rpmvercmp` defines it: the epoch numerically (missing = 0), then the
version, then the release. Each of those is split into alphanumeric segments; every other
character only separates them (`1.0` equals `1_0`). Segments compare pairwise: numbers
numerically, letters as strings, and a number is newer than letters. `~` sorts before
everything, even the end (`1.0~rc1 < 1.0`); `^` sorts after the end but before any
further segment (`1.0 < 1.0^git1 < 1.0.1`). When one side runs out of segments, the side
with more is newer.

A missing release sorts before every release (`1.0 < 1.0-1`), so keys stay a total order.
"""

from __future__ import annotations

import re

# Element ranks, lowest first; the value is only compared between elements of equal rank.
_TILDE = 0
_END = 1
_CARET = 2
_LETTERS = 3
_NUMBER = 4

_ELEMENTS = re.compile(r"(\d+)|([A-Za-z]+)|(~)|(\^)")
_ALLOWED = re.compile(r"[A-Za-z0-9._+~^]+")

Element = tuple[int, int | str]
PartKey = tuple[Element, ...]
RpmKey = tuple[int, PartKey, PartKey]


def _part_key(text: str) -> PartKey:
    elements: list[Element] = []
    for number, letters, tilde, _caret in _ELEMENTS.findall(text):
        if number:
            elements.append((_NUMBER, int(number)))
        elif letters:
            elements.append((_LETTERS, letters))
        elif tilde:
            elements.append((_TILDE, 0))
        else:
            elements.append((_CARET, 0))
    elements.append((_END, 0))
    return tuple(elements)


def sort_key(version: str) -> RpmKey:
    """The sort key of an rpm EVR string; raises ValueError when `version` is not one."""
    epoch_text, colon, rest = version.partition(":")
    if not colon:
        epoch_text, rest = "0", version
    if not epoch_text.isdigit() or not epoch_text.isascii():
        raise ValueError(f"invalid rpm version {version!r}: the epoch must be a number")
    upstream, hyphen, release = rest.rpartition("-")
    if not hyphen:
        upstream, release = rest, ""
    if not _ALLOWED.fullmatch(upstream) or (hyphen and not _ALLOWED.fullmatch(release)):
        raise ValueError(f"invalid rpm version {version!r}")
    return int(epoch_text), _part_key(upstream), _part_key(release)
