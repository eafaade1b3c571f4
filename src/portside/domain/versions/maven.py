"""Maven versions with the semantics of Maven's `ComparableVersion`.

A version is split into items at `.` and `-` and wherever digits meet letters; `-` and a
digit/letter change open a nested list. Numbers compare numerically, qualifiers by rank:
`alpha < beta < milestone < rc (= cr) < snapshot < "" (= ga = final = release) < sp`, then
unknown qualifiers in alphabetical order. `a1`, `b1`, `m1` mean alpha/beta/milestone 1.
Trailing "null" items (0, the release qualifier, empty lists) are removed, so `2.4 == 2.4.0`
and `1.0-final == 1`. When one list is shorter, its missing items compare as null: a
number beats null unless it is 0, a qualifier beats null only if it ranks above release
(`1-alpha < 1 < 1-sp`), a list compares like its first item. Across kinds: number > list > qualifier.

Because missing items are padded with null (not "smallest"), this ordering cannot be a
plain tuple; `MavenVersion` carries the parsed items and implements the comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT_BEFORE_DIGIT = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE_RANK = (_QUALIFIERS.index(""), "")


@dataclass(frozen=True, slots=True)
class _Number:
    value: int


@dataclass(frozen=True, slots=True)
class _Qualifier:
    rank: tuple[int, str]  # known qualifiers by position; unknown ones after all, by name


@dataclass(frozen=True, slots=True)
class _List:
    items: tuple[_Item, ...]


_Item = _Number | _Qualifier | _List


def _qualifier(text: str, *, followed_by_digit: bool) -> _Qualifier:
    if followed_by_digit and text in _SHORT_BEFORE_DIGIT:
        text = _SHORT_BEFORE_DIGIT[text]
    text = _ALIASES.get(text, text)
    if text in _QUALIFIERS:
        return _Qualifier((_QUALIFIERS.index(text), ""))
    return _Qualifier((len(_QUALIFIERS), text))


@dataclass(slots=True)
class _Open:
    """A list while it is being parsed."""

    items: list[_Item | _Open] = field(default_factory=list)


def _is_null(item: _Item | _Open) -> bool:
    match item:
        case _Number(value):
            return value == 0
        case _Qualifier(rank):
            return rank == _RELEASE_RANK
        case _Open(items):
            return not items
    return False  # a frozen _List never appears while parsing


def _normalise(items: list[_Item | _Open]) -> None:
    """Drop trailing null items, looking past (non-null) nested lists, as Maven does."""
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if _is_null(item):
            del items[index]
        elif not isinstance(item, _Open):
            break


def _freeze(open_list: _Open) -> _List:
    return _List(tuple(_freeze(item) if isinstance(item, _Open) else item for item in open_list.items))


class _Parser:
    """Splits a lower-cased version into nested item lists, left to right."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.root = _Open()
        self.lists = [self.root]  # creation order; normalised innermost (latest) first
        self.current = self.root
        self.start = 0
        self.in_digits = False

    def close_segment(self, end: int, *, followed_by_digit: bool = False) -> None:
        piece = self.text[self.start:end]
        if self.in_digits:
            self.current.items.append(_Number(int(piece)))
        else:
            self.current.items.append(_qualifier(piece, followed_by_digit=followed_by_digit))

    def open_list(self) -> None:
        nested = _Open()
        self.current.items.append(nested)
        self.lists.append(nested)
        self.current = nested

    def parse(self) -> _List:
        for index, char in enumerate(self.text):
            if char in ".-":
                if index == self.start:
                    self.current.items.append(_Number(0))
                else:
                    self.close_segment(index)
                self.start = index + 1
                if char == "-":
                    self.open_list()
            elif char.isdigit() != self.in_digits and index > self.start:
                # digits meet letters: the run so far is one item, the next run goes in a nested list
                self.close_segment(index, followed_by_digit=char.isdigit())
                self.start = index
                self.open_list()
                self.in_digits = char.isdigit()
            else:
                self.in_digits = char.isdigit()
        if len(self.text) > self.start:
            self.close_segment(len(self.text))
        for items in reversed(self.lists):
            _normalise(items.items)
        return _freeze(self.root)


_Rank = TypeVar("_Rank", int, tuple[int, str])


def _sign(left: _Rank, right: _Rank) -> int:
    return (left > right) - (left < right)


def _compare_with_null(item: _Item) -> int:
    match item:
        case _Number(value):
            return 0 if value == 0 else 1
        case _Qualifier(rank):
            return _sign(rank, _RELEASE_RANK)
        case _List(items):
            return _compare_with_null(items[0]) if items else 0


def _compare(left: _Item, right: _Item) -> int:
    match left, right:
        case _Number(a), _Number(b):
            return _sign(a, b)
        case _Qualifier(a), _Qualifier(b):
            return _sign(a, b)
        case _List(a), _List(b):
            return _compare_lists(a, b)
        case _Number(), _:
            return 1
        case _, _Number():
            return -1
        case _List(), _Qualifier():
            return 1
    return -1  # a qualifier against a list


def _compare_lists(left: tuple[_Item, ...], right: tuple[_Item, ...]) -> int:
    for index in range(max(len(left), len(right))):
        if index >= len(left):
            result = -_compare_with_null(right[index])
        elif index >= len(right):
            result = _compare_with_null(left[index])
        else:
            result = _compare(left[index], right[index])
        if result:
            return result
    return 0


class MavenVersion:
    """A parsed Maven version; compare two with the usual operators."""

    __slots__ = ("text", "_items")

    def __init__(self, text: str) -> None:
        self.text = text
        self._items = _Parser(text.lower()).parse().items

    def compare(self, other: MavenVersion) -> int:
        """-1, 0 or 1 as self is older than, equal to or newer than `other`."""
        return _compare_lists(self._items, other._items)

    def __lt__(self, other: MavenVersion) -> bool:
        return self.compare(other) < 0

    def __le__(self, other: MavenVersion) -> bool:
        return self.compare(other) <= 0

    def __gt__(self, other: MavenVersion) -> bool:
        return self.compare(other) > 0

    def __ge__(self, other: MavenVersion) -> bool:
        return self.compare(other) >= 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenVersion) and self.compare(other) == 0

    def __repr__(self) -> str:
        return f"MavenVersion({self.text!r})"


def sort_key(version: str) -> MavenVersion:
    """The comparable form of a Maven version; raises ValueError for an empty or blank one."""
    if not version or version != version.strip() or any(char.isspace() for char in version):
        raise ValueError(f"invalid Maven version {version!r}")
    return MavenVersion(version)
