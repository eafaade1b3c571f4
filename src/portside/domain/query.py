"""Harbor's `q=` query language, parsed independently of SQL.

`k=v` exact, `k=~v` fuzzy (substring), `k=[min~max]` range, `k={a b}` any of,
`k=(a b)` all of; terms are comma-separated and values URL-unescaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from portside.domain.errors import BadRequest


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    kind: str  # exact | fuzzy | range | any | all
    values: tuple[str, ...]

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""


def parse_query(q: str | None) -> dict[str, Term]:
    """Terms by key; raises BadRequest for a malformed term (Harbor's message)."""
    terms: dict[str, Term] = {}
    if not q:
        return terms
    for raw in _split_terms(unquote(q)):
        key, sep, value = raw.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise BadRequest('the query string must contain "=" and the key/value cannot be empty')
        terms[key] = _term(key, value)
    return terms


def _split_terms(q: str) -> list[str]:
    """Split on commas that are not inside [], {} or ()."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in q:
        if char in "[{(":
            depth += 1
        elif char in "]})":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _term(key: str, value: str) -> Term:
    if value.startswith("~"):
        return Term(key, "fuzzy", (value[1:],))
    if value.startswith("[") and value.endswith("]"):
        low, _, high = value[1:-1].partition("~")
        return Term(key, "range", (low.strip(), high.strip()))
    if value.startswith("{") and value.endswith("}"):
        return Term(key, "any", tuple(value[1:-1].split()))
    if value.startswith("(") and value.endswith(")"):
        return Term(key, "all", tuple(value[1:-1].split()))
    return Term(key, "exact", (value,))
