"""Scan reports, the built-in scanner's registration and cached layer analyses.

One report row per (manifest digest, scanner registration, MIME type): a new scan of the
same digest by the same scanner replaces the row (new `uuid` and a new row `id`, status back to
Pending), so every query by digest is a single indexed lookup and, across the rows several
scanners made of one digest, the highest `id` is the newest scan (`latest_for_digests` and the
pull policy rely on it). A scan job names its report by `uuid`; updates check it, so a job
whose report was replaced by a newer scan (or stopped) changes nothing. `scanner` is the
Harbor `Scanner` that made (or is making) the report; NULL means Portside's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store import dialect
from portside.store.tables import (
    executions,
    jobs,
    layer_analyses,
    manifest_children,
    manifests,
    repositories,
    scan_reports,
    scanner_registrations,
    vulndb_imports,
)

BUILTIN_UUID = "portside-builtin-scanner"
BUILTIN_URL = "builtin:"
BUILTIN_NAME = "Portside"
ACTIVE_STATUSES = ("Pending", "Running")


@dataclass(frozen=True, slots=True)
class ReportRow:
    """A report without its (possibly large) vulnerability list."""

    id: int
    uuid: str
    digest: str
    registration_id: int
    mime_type: str
    status: str
    status_message: str
    severity: str
    summary: dict[str, Any] | None
    execution_id: int | None
    start_time: datetime
    end_time: datetime | None
    scanner: dict[str, Any] | None = None  # None: Portside's own scanner

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


_REPORT_COLUMNS = (scan_reports.c.id, scan_reports.c.uuid, scan_reports.c.digest, scan_reports.c.registration_id,
                   scan_reports.c.mime_type, scan_reports.c.status, scan_reports.c.status_message,
                   scan_reports.c.severity, scan_reports.c.summary, scan_reports.c.execution_id,
                   scan_reports.c.start_time, scan_reports.c.end_time, scan_reports.c.scanner)


def _report(row: Any) -> ReportRow:
    return ReportRow(id=row.id, uuid=row.uuid, digest=row.digest, registration_id=row.registration_id,
                     mime_type=row.mime_type, status=row.status, status_message=row.status_message,
                     severity=row.severity, summary=row.summary, execution_id=row.execution_id,
                     start_time=row.start_time, end_time=row.end_time, scanner=row.scanner)


# --- the built-in scanner's registration -----------------------------------------------------------


async def ensure_builtin_registration(conn: AsyncConnection) -> int:
    """The id of the built-in scanner's registration, created on first use.

    Race-safe: concurrent first uses insert with ON CONFLICT DO NOTHING on the fixed uuid,
    then all read the one row. It is the default scanner only if no other default exists."""
    has_default = (await conn.execute(select(scanner_registrations.c.id)
                                      .where(scanner_registrations.c.is_default.is_(True)).limit(1))).first()
    now = utcnow()
    await dialect.insert_ignore(conn, scanner_registrations, {
        "uuid": BUILTIN_UUID, "name": BUILTIN_NAME, "description": "Portside's built-in offline scanner (OSV data)",
        "url": BUILTIN_URL, "auth": "", "access_credential": "", "skip_cert_verify": False,
        "use_internal_addr": False, "disabled": False, "is_default": has_default is None,
        "created_at": now, "updated_at": now,
    }, ["uuid"])
    found = await conn.execute(select(scanner_registrations.c.id).where(scanner_registrations.c.uuid == BUILTIN_UUID))
    return int(found.scalar_one())


# --- reports -----------------------------------------------------------------------------------------


async def find_report(conn: AsyncConnection, uuid: str) -> ReportRow | None:
    row = (await conn.execute(select(*_REPORT_COLUMNS).where(scan_reports.c.uuid == uuid))).first()
    return _report(row) if row else None


async def find_for_digest(conn: AsyncConnection, digest: str, registration_id: int, mime_type: str) -> ReportRow | None:
    query = select(*_REPORT_COLUMNS).where(scan_reports.c.digest == digest,
                                           scan_reports.c.registration_id == registration_id,
                                           scan_reports.c.mime_type == mime_type)
    row = (await conn.execute(query)).first()
    return _report(row) if row else None


async def latest_for_digests(conn: AsyncConnection, digests: Sequence[str], mime_type: str) -> dict[str, ReportRow]:
    """The newest report (any registration) of each digest, in one query; digests never scanned are absent."""
    if not digests:
        return {}
    query = (select(*_REPORT_COLUMNS)
             .where(scan_reports.c.digest.in_(sorted(set(digests))), scan_reports.c.mime_type == mime_type)
             .order_by(scan_reports.c.id))
    return {row.digest: _report(row) for row in await conn.execute(query)}  # later (newer) rows win


async def full_reports(conn: AsyncConnection, digests: Sequence[str], mime_type: str) -> dict[str, tuple[ReportRow,
                                                                                                      dict[str, Any]]]:
    """The newest report row and its stored report JSON ({} before it is finished) per digest."""
    if not digests:
        return {}
    query = (select(*_REPORT_COLUMNS, scan_reports.c.report)
             .where(scan_reports.c.digest.in_(sorted(set(digests))), scan_reports.c.mime_type == mime_type)
             .order_by(scan_reports.c.id))
    return {row.digest: (_report(row), dict(row.report or {})) for row in await conn.execute(query)}


async def reset_to_pending(conn: AsyncConnection, *, digest: str, registration_id: int, mime_type: str, uuid: str,
                           execution_id: int | None, scanner: dict[str, Any] | None = None) -> None:
    """Create the digest's report, or replace it, as a new Pending scan named `uuid`.

    The old row is deleted and a new one inserted, so the new scan has the highest `id` of the
    digest's reports whichever scanner made the others. The insert still upserts: a concurrent
    reset of the same report that inserted first is updated rather than failing."""
    await conn.execute(scan_reports.delete().where(scan_reports.c.digest == digest,
                                                   scan_reports.c.registration_id == registration_id,
                                                   scan_reports.c.mime_type == mime_type))
    await dialect.upsert(conn, scan_reports, {
        "uuid": uuid, "digest": digest, "registration_id": registration_id, "mime_type": mime_type,
        "status": "Pending", "status_message": "", "severity": "None", "summary": None, "report": None,
        "execution_id": execution_id, "start_time": utcnow(), "end_time": None, "scanner": scanner,
    }, ["digest", "registration_id", "mime_type"],
        ["uuid", "status", "status_message", "severity", "summary", "report", "execution_id", "start_time",
         "end_time", "scanner"])


async def mark_running(conn: AsyncConnection, uuid: str) -> bool:
    """Pending → Running (start time now); False if the report is gone, replaced or no longer pending."""
    result = await conn.execute(update(scan_reports)
                                .where(scan_reports.c.uuid == uuid, scan_reports.c.status.in_(ACTIVE_STATUSES))
                                .values(status="Running", start_time=utcnow()))
    return bool(result.rowcount)


async def finish(conn: AsyncConnection, uuid: str, *, status: str, message: str = "", severity: str = "None",
                 summary: dict[str, Any] | None = None, report: dict[str, Any] | None = None,
                 scanner: dict[str, Any] | None = None) -> bool:
    """Record a final status (Success, Error, Stopped) of an active report (and the `scanner` that
    made it, if given; else it keeps the one it had); False if it was not active."""
    values: dict[str, Any] = {"status": status, "status_message": message[:4000], "severity": severity,
                              "summary": summary, "report": report, "end_time": utcnow()}
    if scanner is not None:
        values["scanner"] = scanner
    result = await conn.execute(update(scan_reports)
                                .where(scan_reports.c.uuid == uuid, scan_reports.c.status.in_(ACTIVE_STATUSES))
                                .values(**values))
    return bool(result.rowcount)


async def set_scanner(conn: AsyncConnection, uuid: str, scanner: dict[str, Any]) -> None:
    """Record which scanner is making an active report (an adapter's metadata, once known)."""
    await conn.execute(update(scan_reports)
                       .where(scan_reports.c.uuid == uuid, scan_reports.c.status.in_(ACTIVE_STATUSES))
                       .values(scanner=scanner))


async def stop_active(conn: AsyncConnection, execution_id: int, digests: Sequence[str]) -> int:
    """Mark the active reports of `digests` in an execution Stopped (their jobs are stopped separately)."""
    result = await conn.execute(update(scan_reports).where(
        scan_reports.c.execution_id == execution_id, scan_reports.c.digest.in_(list(digests)),
        scan_reports.c.status.in_(ACTIVE_STATUSES)).values(status="Stopped", status_message="stopped by request",
                                                            end_time=utcnow()))
    return int(result.rowcount or 0)


async def status_counts(conn: AsyncConnection, execution_id: int) -> dict[str, int]:
    query = (select(scan_reports.c.status, func.count()).where(scan_reports.c.execution_id == execution_id)
             .group_by(scan_reports.c.status))
    return {str(status): int(count) for status, count in await conn.execute(query)}


async def job_refs(conn: AsyncConnection, execution_id: int, limit: int = 100_000) -> list[Any]:
    """(id, kind, params, status) of an execution's jobs, oldest first (no logs)."""
    query = (select(jobs.c.id, jobs.c.kind, jobs.c.params, jobs.c.status)
             .where(jobs.c.execution_id == execution_id).order_by(jobs.c.id).limit(limit))
    return list(await conn.execute(query))


async def job_logs(conn: AsyncConnection, job_ids: Sequence[int]) -> list[str]:
    """The logs of `job_ids`, in id order."""
    if not job_ids:
        return []
    query = select(jobs.c.log).where(jobs.c.id.in_(list(job_ids))).order_by(jobs.c.id)
    return [str(log or "") for log in (await conn.execute(query)).scalars()]


async def stop_jobs(conn: AsyncConnection, job_ids: Sequence[int]) -> None:
    """Stop jobs: queued ones at once, running ones at their next checkpoint."""
    if not job_ids:
        return
    now = utcnow()
    await conn.execute(update(jobs).where(jobs.c.id.in_(list(job_ids)), jobs.c.status == "queued")
                       .values(status="stopped", updated_at=now, finished_at=now))
    await conn.execute(update(jobs).where(jobs.c.id.in_(list(job_ids)), jobs.c.status == "running")
                       .values(stop_requested=True))


async def stop_execution_reports(conn: AsyncConnection, execution_id: int) -> int:
    """Mark every active report of an execution Stopped."""
    result = await conn.execute(update(scan_reports).where(
        scan_reports.c.execution_id == execution_id, scan_reports.c.status.in_(ACTIVE_STATUSES),
    ).values(status="Stopped", status_message="stopped by request", end_time=utcnow()))
    return int(result.rowcount or 0)


async def latest_execution(conn: AsyncConnection, vendor_type: str, trigger: str | None = None) -> Any | None:
    """The newest execution of `vendor_type` (with `trigger`, if given)."""
    query = select(executions).where(executions.c.vendor_type == vendor_type)
    if trigger is not None:
        query = query.where(executions.c.trigger == trigger)
    return (await conn.execute(query.order_by(executions.c.id.desc()).limit(1))).first()


async def last_database_change(conn: AsyncConnection) -> datetime | None:
    """When the last vulnerability-database import that changed something finished."""
    query = (select(vulndb_imports.c.finished_at)
             .where(vulndb_imports.c.status == "Success", vulndb_imports.c.imported > 0)
             .order_by(vulndb_imports.c.id.desc()).limit(1))
    found: datetime | None = (await conn.execute(query)).scalar()
    return found


# --- manifests as scan targets ---------------------------------------------------------------------


async def manifest_by_id(conn: AsyncConnection, manifest_id: int) -> Any | None:
    query = select(manifests.c.id, manifests.c.digest, manifests.c.media_type, manifests.c.config_media_type,
                   manifests.c.content, manifests.c.repository_id).where(manifests.c.id == manifest_id)
    return (await conn.execute(query)).first()


async def parents_of(conn: AsyncConnection, child_id: int) -> list[Any]:
    """(id, digest) of the indexes listing the manifest `child_id` (indexed on the child)."""
    query = (select(manifests.c.id, manifests.c.digest)
             .join(manifest_children, manifest_children.c.parent_id == manifests.c.id)
             .where(manifest_children.c.child_id == child_id).order_by(manifests.c.id))
    return list(await conn.execute(query))


async def children_of(conn: AsyncConnection, parent_id: int) -> list[Any]:
    """(id, digest, media_type, config_media_type, content) of an index's child manifests."""
    query = (select(manifests.c.id, manifests.c.digest, manifests.c.media_type, manifests.c.config_media_type,
                    manifests.c.content)
             .join(manifest_children, manifest_children.c.child_id == manifests.c.id)
             .where(manifest_children.c.parent_id == parent_id).order_by(manifests.c.id))
    return list(await conn.execute(query))


async def manifest_batch(conn: AsyncConnection, after_id: int, limit: int) -> list[Any]:
    """(id, digest, media_type, config_media_type, project_id) of manifests with id > after_id, by id."""
    query = (select(manifests.c.id, manifests.c.digest, manifests.c.media_type, manifests.c.config_media_type,
                    repositories.c.project_id)
             .join(repositories, repositories.c.id == manifests.c.repository_id)
             .where(manifests.c.id > after_id).order_by(manifests.c.id).limit(limit))
    return list(await conn.execute(query))


# --- cached layer analyses -------------------------------------------------------------------------


async def cached_analyses(conn: AsyncConnection, digests: Sequence[str], analyzer_version: int) -> dict[str,
                                                                                                       dict[str, Any]]:
    """The stored analysis JSON of each layer digest analysed by `analyzer_version`."""
    if not digests:
        return {}
    query = select(layer_analyses.c.digest, layer_analyses.c.result).where(
        and_(layer_analyses.c.digest.in_(sorted(set(digests))), layer_analyses.c.analyzer_version == analyzer_version))
    return {row.digest: dict(row.result) for row in await conn.execute(query)}


async def store_analysis(conn: AsyncConnection, digest: str, analyzer_version: int, result: dict[str, Any]) -> None:
    """Cache a layer's analysis; a concurrent scan that stored the same layer first wins (same content)."""
    await dialect.insert_ignore(conn, layer_analyses, {"digest": digest, "analyzer_version": analyzer_version,
                                                       "result": result, "created_at": utcnow()},
                                ["digest", "analyzer_version"])
