"""Harbor's `q=` and `sort=` for project lists, and who may see which projects, as store filters.

`visibility_for` mirrors the policy's `project:read` rule (domain.rbac) in a form the store
can apply in SQL: sysadmins see every project; users the public ones and those they are
members of; robots the public ones and those a grant lets them read. The project list,
search and statistics all use it, so they never disagree with `GET /projects/{p}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from portside.domain.errors import BadRequest
from portside.domain.query import Term, parse_query
from portside.domain.rbac import Principal, PrincipalKind
from portside.store.projects import SORTABLE, ProjectFilter, Visibility

MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ProjectListing:
    """The filters of `GET /projects`: Harbor's `q` and `sort`, and the `name` (substring),
    `public` and `owner` parameters (which narrow `q` further)."""

    q: str | None = None
    sort: str | None = None
    name: str | None = None
    public: bool | None = None
    owner: str | None = None


def visibility_for(principal: Principal) -> Visibility:
    """The projects `principal` may read (`project:read` in the policy), as a SQL-able filter."""
    if principal.sysadmin:
        return Visibility(everything=True)
    if principal.kind is PrincipalKind.ROBOT:
        names: set[str] = set()
        for grant in principal.robot_grants:
            if grant.kind == "project" and grant.covers(grant.namespace, ("project", "read")):
                if grant.namespace == "*":
                    return Visibility(everything=True)
                names.add(grant.namespace)
        return Visibility(granted_names=frozenset(names))
    return Visibility(member_user_id=principal.user_id)


def project_filter(listing: ProjectListing) -> ProjectFilter:
    """Harbor's `q` keys for projects (name, public, owner, project_id) plus the plain parameters."""
    names: tuple[str, ...] = ()
    contains: list[str] = [listing.name] if listing.name else []
    public: bool | None = None
    owner: str | None = None
    ids: tuple[int, ...] = ()
    for key, term in parse_query(listing.q).items():
        if key == "name":
            if term.kind == "fuzzy":
                contains.append(term.value)
            else:
                names = _exact_values(term)
        elif key == "public":
            public = _boolean(_exact_values(term)[0], "public")
        elif key == "owner":
            owner = _exact_values(term)[0]
        elif key == "project_id":
            ids = tuple(_project_id(value) for value in _exact_values(term))
        else:
            raise BadRequest(f"cannot filter projects by {key[:64]!r}: use name, public, owner or project_id")
    if listing.public is not None:
        public = listing.public
    if listing.owner:
        owner = listing.owner
    return ProjectFilter(names=names, name_contains=tuple(contains), public=public, owner=owner, ids=ids)


def _exact_values(term: Term) -> tuple[str, ...]:
    if term.kind == "exact" or (term.kind == "any" and term.values):
        return term.values
    raise BadRequest(f"the project filter {term.key[:64]} takes k=v or k={{v1 v2}}")


def _boolean(value: str, key: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadRequest(f"{key} must be true or false, not {value[:64]!r}")


def _project_id(value: str) -> int:
    if value.isascii() and value.isdigit() and int(value) <= MAX_ID:
        return int(value)
    raise BadRequest(f"invalid project_id {value[:64]!r}")


def sort_keys(sort: str | None) -> list[tuple[str, bool]]:
    """`name,-creation_time` -> [("name", False), ("creation_time", True)]."""
    keys: list[tuple[str, bool]] = []
    for part in (sort or "").split(","):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        key = part.lstrip("-")
        if key not in SORTABLE:
            raise BadRequest(f"cannot sort projects by {key[:64]!r}: use {', '.join(SORTABLE)}")
        keys.append((key, descending))
    return keys
