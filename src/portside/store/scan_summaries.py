"""The scan state of a whole project in one query: every artifact the project lists (Harbor's
listing rule, `artifacts.listed_clause`) with the severity and summary of its newest report.

For the project dashboard's severity distribution; reports are joined by digest, so an
artifact pushed to two repositories counts twice, as it is listed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.store.artifacts import listed_clause
from portside.store.tables import manifests, repositories, scan_reports


@dataclass(frozen=True, slots=True)
class ArtifactScanState:
    """One listed artifact and its newest report (status None: never scanned)."""

    manifest_id: int
    status: str | None
    severity: str | None
    summary: dict[str, Any] | None


async def project_scan_states(conn: AsyncConnection, project_id: int, mime_type: str) -> list[ArtifactScanState]:
    """Each listed artifact of the project once, with its newest report of `mime_type` (if any)."""
    joined = manifests.join(repositories, repositories.c.id == manifests.c.repository_id).outerjoin(
        scan_reports, and_(scan_reports.c.digest == manifests.c.digest, scan_reports.c.mime_type == mime_type))
    query = (select(manifests.c.id, scan_reports.c.status, scan_reports.c.severity, scan_reports.c.summary)
             .select_from(joined)
             .where(repositories.c.project_id == project_id, listed_clause())
             .order_by(manifests.c.id, scan_reports.c.id))
    newest: dict[int, ArtifactScanState] = {}
    for row in await conn.execute(query):  # later (newer) reports of the same artifact win
        newest[row.id] = ArtifactScanState(row.id, row.status, row.severity,
                                           row.summary if isinstance(row.summary, dict) else None)
    return list(newest.values())
