"""Docker token scopes: `repository:<name>:<actions>`, `registry:catalog:*`.

https://distribution.github.io/distribution/spec/auth/scope/ — several scopes may
come as repeated `scope` parameters or space-separated in one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE_RE = re.compile(r"^(?P<type>[a-z0-9]+)(?:\([a-z0-9]+\))?:(?P<name>[^:]+):(?P<actions>[a-z*,-]*)$")


@dataclass(frozen=True, slots=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]


def parse_scopes(values: list[str]) -> list[Scope]:
    """Parse scope parameters; malformed entries are skipped (as Harbor does), duplicates merged."""
    merged: dict[tuple[str, str], list[str]] = {}
    for value in values:
        for item in value.split():
            match = _SCOPE_RE.match(item)
            if match is None:
                continue
            actions = merged.setdefault((match["type"], match["name"]), [])
            for action in match["actions"].split(","):
                if action and action not in actions:
                    actions.append(action)
    return [Scope(kind, name, tuple(actions)) for (kind, name), actions in merged.items()]
