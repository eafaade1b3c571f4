"""Debian package versions (dpkg, also used by Ubuntu): `[epoch:]upstream[-revision]`.

Ordering, as dpkg defines it: the epoch numerically, then upstream, then revision. Upstream
and revision are compared as alternating runs of non-digits and digits: non-digit runs
character by character where `~` sorts before everything (even the end of the run), then
the end of the run, then letters, then all other characters; digit runs numerically.
A missing revision equals "0" (dpkg treats `1.0` and `1.0-0` as equal).

Instead of a pairwise comparator we build a tuple sort key once per version, so comparing
two parsed versions is a plain tuple comparison.
"""

from __future__ import annotations

import re
import string

_RUNS = re.compile(r"(\D*)(\d*)")
_UPSTREAM_CHARS = frozenset(string.ascii_letters + string.digits + ".+~-")
_REVISION_CHARS = frozenset(string.ascii_letters + string.digits + ".+~")


def _weight(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256  # non-letters sort after every letter


_WEIGHTS = {char: _weight(char) for char in _UPSTREAM_CHARS}
# Appended to every non-digit run: "this run ended here", heavier than '~', lighter than anything else.
_RUN_END = 0
# Appended to every part: the part ended; compares like an empty non-digit run followed by 0.
_PART_END: tuple[tuple[int, ...], int] = ((_RUN_END,), 0)

PartKey = tuple[tuple[tuple[int, ...], int], ...]
DpkgKey = tuple[int, PartKey, PartKey]


def _part_key(text: str) -> PartKey:
    runs = [(tuple(_WEIGHTS[char] for char in letters) + (_RUN_END,), int(digits) if digits else 0)
            for letters, digits in _RUNS.findall(text) if letters or digits]
    runs.append(_PART_END)
    return tuple(runs)


def sort_key(version: str) -> DpkgKey:
    """The sort key of a dpkg version; raises ValueError when `version` is not one."""
    epoch_text, colon, rest = version.partition(":")
    if not colon:
        epoch_text, rest = "0", version
    if not epoch_text.isdigit() or not epoch_text.isascii():
        raise ValueError(f"invalid dpkg version {version!r}: the epoch must be a number")
    upstream, hyphen, revision = rest.rpartition("-")
    if not hyphen:
        upstream, revision = rest, "0"
    if not upstream or not _UPSTREAM_CHARS.issuperset(upstream):
        raise ValueError(f"invalid dpkg version {version!r}: bad upstream version")
    if not revision or not _REVISION_CHARS.issuperset(revision):
        raise ValueError(f"invalid dpkg version {version!r}: bad revision")
    return int(epoch_text), _part_key(upstream), _part_key(revision)
