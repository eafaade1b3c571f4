"""The audit log: who did what to which resource, from where, with what result.

Entries are queued in memory and written in one INSERT per flush (every couple
of seconds and at shutdown), so recording a pull costs the pull nothing. Old
entries are purged after `retention_days`. Reading goes through `AuditLogViewer`,
which limits what a caller sees the way Harbor does: system administrators see
everything, other users the projects whose logs they may list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from portside.core.clock import utcnow
from portside.domain.errors import BadRequest, Unauthorized
from portside.domain.models import Project
from portside.domain.query import Term, parse_query
from portside.domain.rbac import Principal
from portside.services.access import AccessControl
from portside.store import audit as audit_store
from portside.store import members as member_store
from portside.store import repositories as repository_store
from portside.store.audit import AuditCriteria, AuditEntry, TextMatch
from portside.store.database import Database

MAX_PENDING = 50_000

#: Harbor's audit event types (`GET /auditlog-exts/events`), `other` standing for the rest.
EVENT_TYPES = (
    "create_artifact", "delete_artifact", "pull_artifact", "create_project", "delete_project",
    "delete_repository", "login_user", "logout_user", "create_user", "delete_user", "update_user",
    "create_robot", "delete_robot", "update_configuration", "create_member", "delete_member",
    "update_member", "update_project", "other",
)
#: `q=` keys that filter a text column (the column has the key's name).
TEXT_QUERY_KEYS = ("username", "operation", "resource_type", "resource", "status")
TIME_QUERY_KEY = "op_time"
SORT_FIELD = "op_time"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change and from where, as the audit log records it."""

    name: str
    user_id: int | None = None
    ip_address: str = ""
    user_agent: str = ""

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


class AuditLog:
    def __init__(self, db: Database, *, retention_days: int) -> None:
        self._db = db
        self._retention_days = retention_days
        self._pending: list[dict[str, Any]] = []

    def record(self, actor: Actor | None, operation: str, resource_type: str, resource: str, *,
               project_id: int | None = None, success: bool = True, description: str = "") -> None:
        """Queue one entry (operation: create, delete, pull, update, ...)."""
        if len(self._pending) >= MAX_PENDING:
            self._pending.pop(0)  # bounded: under a flood, drop the oldest rather than exhaust memory
        actor = actor or Actor.system()
        self._pending.append({
            "op_time": utcnow(), "username": actor.name or "anonymous", "operation": operation,
            "resource_type": resource_type, "resource": resource[:512], "project_id": project_id,
            "ip_address": actor.ip_address[:64], "user_agent": actor.user_agent[:512],
            "status": "SUCCESS" if success else "FAILURE", "description": description[:1024],
        })

    async def flush(self) -> int:
        """Write queued entries; returns how many."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, []
        async with self._db.write() as conn:
            await audit_store.add_many(conn, batch)
        return len(batch)

    async def purge(self) -> int:
        """Delete entries older than the retention period."""
        cutoff = utcnow() - timedelta(days=self._retention_days)
        async with self._db.write() as conn:
            return await audit_store.purge_before(conn, cutoff)

    async def search(self, criteria: AuditCriteria, *, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        """A page of entries matching `criteria` and their total. Queued entries are written
        first, so an entry recorded just before is listed."""
        await self.flush()
        async with self._db.read() as conn:
            return await audit_store.list_entries(conn, criteria, offset=offset, limit=limit)


def audit_criteria(q: str | None, sort: str | None) -> AuditCriteria:
    """Harbor's `q=` and `sort=` for audit logs as criteria (all projects).

    Keys: username, operation, resource_type, resource, status (`k=v`, `k=~v`, `k={a b}`) and
    op_time (`op_time=[2020-04-09 02:36:00~2020-04-10 02:36:00]`, UTC, either bound may be
    empty); sort `op_time` or `-op_time` (the default). Anything else is a BadRequest.
    """
    text: dict[str, TextMatch] = {}
    since = until = None
    for key, term in parse_query(q).items():
        if key in TEXT_QUERY_KEYS:
            text[key] = _text_match(term)
        elif key == TIME_QUERY_KEY:
            since, until = _time_range(term)
        else:
            supported = ", ".join((*TEXT_QUERY_KEYS, TIME_QUERY_KEY))
            raise BadRequest(f"audit logs cannot be filtered by {key[:64]!r}: use {supported}")
    return AuditCriteria(text=text, since=since, until=until, newest_first=_newest_first(sort))


def _unquoted(value: str) -> str:
    """Harbor's q allows string values enclosed in double or single quotes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


def _text_match(term: Term) -> TextMatch:
    values = tuple(v for v in (_unquoted(raw) for raw in term.values) if v)
    if term.kind == "exact" and values:
        return TextMatch(any_of=values)
    if term.kind == "any" and values:
        return TextMatch(any_of=values)
    if term.kind == "fuzzy" and values:
        return TextMatch(contains=values[0])
    raise BadRequest(f"{term.key} takes a value (k=v), a substring (k=~v) or a list (k={{a b}})")


def _time_range(term: Term) -> tuple[datetime | None, datetime | None]:
    if term.kind != "range":
        raise BadRequest('op_time takes a range: op_time=[2020-04-09 02:36:00~2020-04-10 02:36:00]')
    low, high = (_unquoted(value) for value in term.values)
    since = _parse_time(low) if low else None
    until = _parse_time(high) if high else None
    if since is not None and until is not None and since > until:
        raise BadRequest("op_time range starts after it ends")
    return since, until


def _parse_time(value: str) -> datetime:
    """`2020-04-09 02:36:00` (Harbor's format, UTC) or any ISO 8601 time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f'invalid op_time {value[:40]!r}: use the format "2020-04-09 02:36:00"') from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _newest_first(sort: str | None) -> bool:
    fields = [f.strip() for f in (sort or "").split(",") if f.strip()]
    if not fields:
        return True
    if len(fields) == 1 and fields[0].lstrip("-") == SORT_FIELD:
        return fields[0].startswith("-")
    raise BadRequest(f"audit logs can only be sorted by {SORT_FIELD} or -{SORT_FIELD}")


async def member_projects_allowing(db: Database, access: AccessControl, principal: Principal, resource: str,
                                   action: str) -> list[Project]:
    """The projects the principal is a member of in which the policy lets it do `action` on
    `resource`. Robots are members of none."""
    if principal.user_id is None:
        return []
    async with db.read() as conn:
        project_ids = await member_store.project_ids_of_user(conn, principal.user_id)
        projects = [await repository_store.find_project_by_id(conn, project_id) for project_id in project_ids]
    return [project for project in projects
            if project is not None and await access.allowed(principal, project.name, resource, action)]


class AuditLogViewer:
    """Reading the audit log, limited to what the caller may see."""

    def __init__(self, log: AuditLog, access: AccessControl, db: Database) -> None:
        self._log = log
        self._access = access
        self._db = db

    async def list_visible(self, principal: Principal, q: str | None, sort: str | None, *, offset: int,
                           limit: int) -> tuple[list[AuditEntry], int]:
        """Harbor's `/audit-logs`: every entry for callers with system `audit-log:list` (system
        administrators); for other users only the entries of projects whose logs they may
        list (projectAdmin), possibly none. Anonymous callers get Unauthorized; `q` and
        `sort` are read by `audit_criteria`."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        criteria = audit_criteria(q, sort)
        if not await self._access.allowed(principal, None, "audit-log", "list"):
            projects = await member_projects_allowing(self._db, self._access, principal, "log", "list")
            criteria = replace(criteria, project_ids=tuple(project.id for project in projects))
        return await self._log.search(criteria, offset=offset, limit=limit)

    async def list_project(self, principal: Principal, project: Project, q: str | None, sort: str | None, *,
                           offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        """The entries of one project; needs `log:list` in it (Unauthorized or Denied)."""
        await self._access.require(principal, project.name, "log", "list")
        criteria = replace(audit_criteria(q, sort), project_ids=(project.id,))
        return await self._log.search(criteria, offset=offset, limit=limit)

    async def event_types(self, principal: Principal) -> tuple[str, ...]:
        """Harbor's event types; any signed-in caller may list them."""
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        return EVENT_TYPES
