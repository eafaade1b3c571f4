"""The offline vulnerability database: OSV advisories, their affected packages, import runs.

An advisory is one `vuln_advisories` row plus one `vuln_affected` row per affected package
(ecosystem, normalised name, its ranges and explicit versions). Only ECOSYSTEM and SEMVER
ranges are stored: GIT ranges cannot be evaluated offline. Replacing an advisory deletes its
affected rows and inserts the new ones in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain.osv import Advisory, Affected, Event, VersionRange
from portside.store.tables import vuln_advisories, vuln_affected, vulndb_imports

#: Package keys per candidates query, well below SQLite's and PostgreSQL's bind-parameter limits.
PAIRS_PER_QUERY = 2_000
#: Advisory ids per IN (...) list.
IDS_PER_QUERY = 1_000
_STORED_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})
_SOURCE_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Candidate:
    """One stored affected package and the id of its advisory."""

    advisory_id: str
    affected: Affected


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One row of vulndb_imports."""

    id: int
    source: str
    status: str  # Running | Success | Error
    imported: int
    unchanged: int
    skipped: int
    errors: tuple[dict[str, str], ...]
    started_at: datetime
    finished_at: datetime | None


def _as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- rows <-> domain ---------------------------------------------------------------------------


def advisory_row(advisory: Advisory, source: str) -> dict[str, Any]:
    return {
        "id": advisory.id, "aliases": list(advisory.aliases), "summary": advisory.summary,
        "details": advisory.details, "severity": advisory.severity, "cvss_vector": advisory.cvss_vector,
        "cvss_score": None if advisory.cvss_score is None else str(advisory.cvss_score),
        "references": list(advisory.references), "cwe_ids": list(advisory.cwe_ids),
        "published": advisory.published, "modified": advisory.modified, "source": source[-_SOURCE_LENGTH:],
    }


def _ranges_json(affected: Affected) -> list[dict[str, Any]]:
    return [{"type": r.type, "events": [{event.kind: event.version} for event in r.events]}
            for r in affected.ranges if r.type in _STORED_RANGE_TYPES]


def affected_rows(advisory: Advisory) -> list[dict[str, Any]]:
    return [{"advisory_id": advisory.id, "ecosystem": entry.ecosystem, "package": entry.package,
             "ranges": _ranges_json(entry), "versions": list(entry.versions), "severity": entry.severity}
            for entry in advisory.affected]


def _ranges(value: list[dict[str, Any]]) -> tuple[VersionRange, ...]:
    return tuple(VersionRange(r["type"], tuple(Event(kind, version) for event in r["events"]
                                               for kind, version in event.items()))
                 for r in value)


def _affected(row: Any, severity: str | None) -> Affected:
    return Affected(ecosystem=row.ecosystem, package=row.package, ranges=_ranges(row.ranges),
                    versions=tuple(row.versions), severity=severity)


def _advisory(row: Any, affected: tuple[Affected, ...] = ()) -> Advisory:
    return Advisory(
        id=row.id, modified=_as_utc(row.modified), aliases=tuple(row.aliases), summary=row.summary,
        details=row.details, severity=row.severity, cvss_vector=row.cvss_vector,
        cvss_score=None if row.cvss_score is None else float(row.cvss_score), references=tuple(row.references),
        cwe_ids=tuple(row.cwe_ids), published=None if row.published is None else _as_utc(row.published),
        affected=affected,
    )


# --- advisories --------------------------------------------------------------------------------


async def modified_times(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, datetime]:
    """`modified` of the stored advisories among `ids`."""
    found: dict[str, datetime] = {}
    for chunk in _chunks(ids, IDS_PER_QUERY):
        rows = await conn.execute(select(vuln_advisories.c.id, vuln_advisories.c.modified)
                                  .where(vuln_advisories.c.id.in_(chunk)))
        found.update({row.id: _as_utc(row.modified) for row in rows})
    return found


async def load_advisories(conn: AsyncConnection, ids: Sequence[str], *,
                          with_affected: bool = True) -> dict[str, Advisory]:
    """The stored advisories among `ids`, with their affected packages (as stored: no GIT
    ranges) unless `with_affected` is false."""
    found: dict[str, Advisory] = {}
    for chunk in _chunks(ids, IDS_PER_QUERY):
        affected: dict[str, list[Affected]] = {}
        if with_affected:
            rows = await conn.execute(select(vuln_affected).where(vuln_affected.c.advisory_id.in_(chunk))
                                      .order_by(vuln_affected.c.id))
            for row in rows:
                affected.setdefault(row.advisory_id, []).append(_affected(row, row.severity))
        rows = await conn.execute(select(vuln_advisories).where(vuln_advisories.c.id.in_(chunk)))
        found.update({row.id: _advisory(row, tuple(affected.get(row.id, ()))) for row in rows})
    return found


async def delete_advisories(conn: AsyncConnection, ids: Sequence[str]) -> None:
    """Remove advisories and their affected rows (explicitly: no reliance on FK cascades)."""
    for chunk in _chunks(ids, IDS_PER_QUERY):
        await conn.execute(delete(vuln_affected).where(vuln_affected.c.advisory_id.in_(chunk)))
        await conn.execute(delete(vuln_advisories).where(vuln_advisories.c.id.in_(chunk)))


async def replace_advisories(conn: AsyncConnection, advisories: Sequence[tuple[Advisory, str]]) -> None:
    """Insert or replace each (advisory, source) with its affected rows."""
    if not advisories:
        return
    await delete_advisories(conn, [advisory.id for advisory, _ in advisories])
    await conn.execute(insert(vuln_advisories), [advisory_row(advisory, source) for advisory, source in advisories])
    rows = [row for advisory, _ in advisories for row in affected_rows(advisory)]
    if rows:
        await conn.execute(insert(vuln_affected), rows)


async def candidates(conn: AsyncConnection, packages: Sequence[tuple[str, str]]) -> list[Candidate]:
    """Every stored affected row for the (ecosystem, normalised name) pairs: one query per
    PAIRS_PER_QUERY pairs. Advisory texts are left out; most candidates do not match, so
    callers load advisories (load_advisories) only for the ones that do."""
    found: list[Candidate] = []
    for chunk in _chunks(sorted(set(packages)), PAIRS_PER_QUERY):
        statement = (
            select(vuln_affected.c.advisory_id, vuln_affected.c.ecosystem, vuln_affected.c.package,
                   vuln_affected.c.ranges, vuln_affected.c.versions, vuln_affected.c.severity)
            .where(tuple_(vuln_affected.c.ecosystem, vuln_affected.c.package).in_(list(chunk)))
            .order_by(vuln_affected.c.id)
        )
        found.extend(Candidate(row.advisory_id, _affected(row, row.severity)) for row in await conn.execute(statement))
    return found


async def advisory_counts(conn: AsyncConnection) -> dict[str, int]:
    """Number of advisories per ecosystem (an advisory counts once per ecosystem it names)."""
    statement = (select(vuln_affected.c.ecosystem, func.count(func.distinct(vuln_affected.c.advisory_id)))
                 .group_by(vuln_affected.c.ecosystem).order_by(vuln_affected.c.ecosystem))
    return {ecosystem: count for ecosystem, count in await conn.execute(statement)}


async def advisory_total(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(vuln_advisories))).scalar_one())


# --- import runs -------------------------------------------------------------------------------


async def start_import(conn: AsyncConnection, source: str, started_at: datetime) -> int:
    result = await conn.execute(insert(vulndb_imports).values(
        source=source[-1024:], status="Running", imported=0, unchanged=0, skipped=0, errors=[], started_at=started_at,
    ).returning(vulndb_imports.c.id))
    return int(result.scalar_one())


async def finish_import(conn: AsyncConnection, import_id: int, *, status: str, imported: int, unchanged: int,
                        skipped: int, errors: list[dict[str, str]], finished_at: datetime) -> None:
    await conn.execute(update(vulndb_imports).where(vulndb_imports.c.id == import_id).values(
        status=status, imported=imported, unchanged=unchanged, skipped=skipped, errors=errors,
        finished_at=finished_at))


def _import_record(row: Any) -> ImportRecord:
    return ImportRecord(id=row.id, source=row.source, status=row.status, imported=row.imported,
                        unchanged=row.unchanged, skipped=row.skipped, errors=tuple(row.errors),
                        started_at=_as_utc(row.started_at),
                        finished_at=None if row.finished_at is None else _as_utc(row.finished_at))


async def last_import(conn: AsyncConnection) -> ImportRecord | None:
    """The most recently started import run, if any."""
    row = (await conn.execute(select(vulndb_imports).order_by(vulndb_imports.c.id.desc()).limit(1))).first()
    return None if row is None else _import_record(row)


async def latest_import_per_status(conn: AsyncConnection) -> dict[str, ImportRecord]:
    """The most recently started run of each status (Running, Success, Error), in one query."""
    newest = select(func.max(vulndb_imports.c.id)).group_by(vulndb_imports.c.status)
    rows = await conn.execute(select(vulndb_imports).where(vulndb_imports.c.id.in_(newest)))
    return {row.status: _import_record(row) for row in rows}
