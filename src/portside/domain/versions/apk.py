"""Alpine package versions, ordered as current apk-tools does:
`N[.N]...[letter][_suffix[N]]...[~hash][-rN]`.

apk compares versions token by token. While both sides have tokens of the same kind, the
values decide: numbers numerically, except that a dotted number with a leading zero on
either side compares as a string (`1.05 < 1.1`, Gentoo's rule); letters and suffixes by
their order; a commit hash as a string. When the kinds differ, the side whose token is
"more version" wins: another dotted number beats a letter, which beats a suffix, a suffix
number, a hash, the `-r` revision, and finally the end; except that a pre-release suffix
(`_alpha < _beta < _pre < _rc`) loses to anything, even the end. So
`1.0_rc1 < 1.0 < 1.0_p1 < 1.0-r1 < 1.0a < 1.0.1`; post-release suffixes are
`_cvs < _svn < _git < _hg < _p`.

Each token becomes (rank, value), so a whole version is a tuple whose plain comparison is
apk's ordering. (Older apk-tools, and ports of it, rank `1.0_rc1` above `1.0` because of a
leading-zero quirk; apk-tools fixed that and so do we.)
"""

from __future__ import annotations

import re

_PRE_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4}
_POST_SUFFIXES = {"cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}

# Ranks: at the first token kind that differs, the higher rank is the greater version.
_PRE_SUFFIX = 0
_END = 1
_REVISION = 2
_COMMIT_HASH = 3
_SUFFIX_NUMBER = 4
_POST_SUFFIX = 5
_LETTER = 6
_DOTTED = 7
_FIRST = 8

_VERSION = re.compile(r"(\d+)((?:\.\d+)*)([a-z]?)((?:_[a-z]+\d*)*)(?:~([0-9a-fA-F]+))?(?:-r(\d+))?", re.ASCII)
_SUFFIX = re.compile(r"_([a-z]+)(\d*)")

DottedValue = tuple[int, int] | tuple[int, str]
Token = tuple[int, int | str | DottedValue]
ApkKey = tuple[Token, ...]


def _dotted(digits: str) -> Token:
    # A leading zero on either side means a string comparison; every such string sorts below
    # every number without one (its first character '0' is the smallest digit), hence (0, str) < (1, int).
    return (_DOTTED, (0, digits)) if digits.startswith("0") else (_DOTTED, (1, int(digits)))


def _suffix_tokens(suffixes: str, version: str) -> list[Token]:
    tokens: list[Token] = []
    for name, number in _SUFFIX.findall(suffixes):
        if name in _PRE_SUFFIXES:
            tokens.append((_PRE_SUFFIX, _PRE_SUFFIXES[name]))
        elif name in _POST_SUFFIXES:
            tokens.append((_POST_SUFFIX, _POST_SUFFIXES[name]))
        else:
            raise ValueError(f"invalid apk version {version!r}: unknown suffix _{name}")
        if number:
            tokens.append((_SUFFIX_NUMBER, int(number)))
    return tokens


def sort_key(version: str) -> ApkKey:
    """The sort key of an apk version; raises ValueError when `version` is not one."""
    match = _VERSION.fullmatch(version)
    if match is None:
        raise ValueError(f"invalid apk version {version!r}")
    first, dotted, letter, suffixes, commit_hash, revision = match.groups()
    tokens: list[Token] = [(_FIRST, int(first))]
    tokens.extend(_dotted(digits) for digits in dotted.split(".")[1:])
    if letter:
        tokens.append((_LETTER, ord(letter)))
    tokens.extend(_suffix_tokens(suffixes, version))
    if commit_hash is not None:
        tokens.append((_COMMIT_HASH, commit_hash))
    if revision is not None:
        tokens.append((_REVISION, int(revision)))
    tokens.append((_END, 0))
    return tuple(tokens)
