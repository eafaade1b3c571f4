"""/v2 routing: match the fixed suffixes, then validate the name that remains.

Repository names contain slashes, so `{name:path}` converters are ambiguous
(`a/blobs/b`); matching the route's suffix with a greedy name is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("upload", re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<param>[^/]*)$")),
    ("blob", re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<param>[^/]+)$")),
    ("manifest", re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<param>[^/]+)$")),
    ("tags", re.compile(r"^/v2/(?P<name>.+)/tags/list(?P<param>)$")),
    ("referrers", re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<param>[^/]+)$")),
)


@dataclass(frozen=True, slots=True)
class Match:
    """A matched /v2 route: its kind, the raw repository name and the trailing parameter."""

    kind: str
    name: str = ""
    param: str = ""


def match_v2(path: str) -> Match | None:
    """The route for a /v2 path, or None when no route has that shape."""
    if path in ("/v2", "/v2/"):
        return Match("base")
    if path == "/v2/_catalog":
        return Match("catalog")
    for kind, pattern in _ROUTES:
        found = pattern.match(path)
        if found:
            return Match(kind, found["name"], found["param"])
    return None
