"""Repository names and tags, per the OCI distribution spec grammar.

A repository name is `<project>/<path>`: Portside, like Harbor, puts every
repository inside a project, which is the name's first path component.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portside.domain.digest import Digest, is_digest, parse_digest
from portside.domain.errors import NameInvalid, TagInvalid

# dist-spec "Pulling manifests": <name> and <reference> grammar.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class RepositoryName:
    """A validated repository name; `project` is its first component."""

    value: str

    @property
    def project(self) -> str:
        return self.value.split("/", 1)[0]

    def __str__(self) -> str:
        return self.value


def parse_repository_name(value: str) -> RepositoryName:
    """Validate a repository name; raises NameInvalid saying which rule failed."""
    if len(value) > MAX_NAME_LENGTH:
        raise NameInvalid(f"repository name longer than {MAX_NAME_LENGTH} characters")
    if not NAME_RE.fullmatch(value):
        raise NameInvalid(
            f"invalid repository name {value[:100]!r}: components are lowercase letters and digits, "
            "separated by '.', '_', '__' or '-', joined by '/'"
        )
    if "/" not in value:
        raise NameInvalid(f"repository name {value!r} has no project: use <project>/<repository>")
    return RepositoryName(value)


def validate_tag(value: str) -> str:
    """Return `value` if it is a valid tag; raises TagInvalid otherwise."""
    if not TAG_RE.fullmatch(value):
        raise TagInvalid(f"invalid tag {value[:140]!r}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'")
    return value


def parse_reference(value: str) -> str | Digest:
    """A manifest reference: a Digest if it contains ':', else a validated tag."""
    if is_digest(value):
        return parse_digest(value)
    return validate_tag(value)
