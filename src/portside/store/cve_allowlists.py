"""CVE allowlists (one per project, one system-wide with project_id NULL) and the pull-policy lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, and_, case, or_, select, text, true, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store.tables import cve_allowlists, manifests, scan_reports

#: Serialises writers of the system allowlist on PostgreSQL (NULL project ids never conflict).
_SYSTEM_ALLOWLIST_LOCK = 7_270_001


@dataclass(frozen=True, slots=True)
class AllowlistRow:
    id: int | None  # None: nothing stored yet
    project_id: int | None
    items: tuple[str, ...]
    expires_at: int | None
    created_at: datetime | None
    updated_at: datetime | None


def _owner(project_id: int | None) -> Any:
    return cve_allowlists.c.project_id.is_(None) if project_id is None else cve_allowlists.c.project_id == project_id


def _cve_ids(items: Any) -> tuple[str, ...]:
    return tuple(str(item.get("cve_id", "")) for item in items or [] if isinstance(item, dict))


async def find(conn: AsyncConnection, project_id: int | None) -> AllowlistRow | None:
    row = (await conn.execute(select(cve_allowlists).where(_owner(project_id)).limit(1))).first()
    if row is None:
        return None
    return AllowlistRow(row.id, row.project_id, _cve_ids(row.items), row.expires_at, row.created_at, row.updated_at)


async def put(conn: AsyncConnection, project_id: int | None, cve_ids: tuple[str, ...], expires_at: int | None) -> None:
    """Replace the allowlist of a project (or the system's, project_id None)."""
    if project_id is None and conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SYSTEM_ALLOWLIST_LOCK})
    items = [{"cve_id": cve_id} for cve_id in cve_ids]
    now = utcnow()
    result = await conn.execute(update(cve_allowlists).where(_owner(project_id))
                                .values(items=items, expires_at=expires_at, updated_at=now))
    if not result.rowcount:
        await conn.execute(cve_allowlists.insert().values(project_id=project_id, items=items, expires_at=expires_at,
                                                          created_at=now, updated_at=now))


@dataclass(frozen=True, slots=True)
class PullFacts:
    """What the pull policy needs about one manifest, from one query.

    `report` (the vulnerability list) is loaded only when an unexpired allowlist applies, the
    one case where the stored overall severity is not enough."""

    media_type: str
    config_media_type: str | None
    scan_status: str | None  # None: never scanned
    severity: str
    total: int
    allowlist: tuple[str, ...]
    report: dict[str, Any] | None


async def pull_facts(conn: AsyncConnection, *, repository_id: int, digest: str, mime_type: str,
                     allowlist_project_id: int | None, now: int, with_report: bool = False) -> PullFacts | None:
    """The manifest's scan state and the applicable allowlist (the project's, or the system's when
    `allowlist_project_id` is None); None if the repository holds no such manifest. `with_report`
    loads the vulnerability list even without a stored allowlist (one kept elsewhere applies).

    One statement on unique indexes: manifests (repository_id, digest), scan_reports (digest, …),
    cve_allowlists (project_id)."""
    allowlist = cve_allowlists.alias("allowlist")
    owner = (allowlist.c.project_id.is_(None) if allowlist_project_id is None
             else allowlist.c.project_id == allowlist_project_id)
    applies = and_(allowlist.c.id.is_not(None), or_(allowlist.c.expires_at.is_(None), allowlist.c.expires_at > now))
    wants_report = true() if with_report else applies
    query = (select(manifests.c.media_type, manifests.c.config_media_type, scan_reports.c.status,
                    scan_reports.c.severity, scan_reports.c.summary,
                    type_coerce(case((applies, allowlist.c["items"]), else_=None), JSON).label("items"),
                    type_coerce(case((wants_report, scan_reports.c.report), else_=None), JSON).label("report"))
             .select_from(manifests
                          .outerjoin(scan_reports, and_(scan_reports.c.digest == manifests.c.digest,
                                                        scan_reports.c.mime_type == mime_type))
                          .outerjoin(allowlist, owner))
             .where(manifests.c.repository_id == repository_id, manifests.c.digest == digest)
             .order_by(scan_reports.c.id.desc()).limit(1))
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    summary = row.summary or {}
    return PullFacts(media_type=row.media_type, config_media_type=row.config_media_type, scan_status=row.status,
                     severity=row.severity or "None", total=int(summary.get("total", 0)),
                     allowlist=_cve_ids(row.items), report=dict(row.report) if row.report else None)
