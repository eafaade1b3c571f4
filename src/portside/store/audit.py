"""Audit log rows: written in batches, listed with filters, purged by age."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.store.tables import audit_logs


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit log row; `op_time` is always an aware UTC datetime."""

    id: int
    op_time: datetime
    username: str
    operation: str
    resource_type: str
    resource: str
    project_id: int | None
    ip_address: str
    user_agent: str
    status: str
    description: str


@dataclass(frozen=True, slots=True)
class TextMatch:
    """A condition on a text column: equal to one of `any_of` if given, else containing
    `contains` (case-insensitively, `%` and `_` taken literally); with neither, anything."""

    any_of: tuple[str, ...] = ()
    contains: str | None = None


@dataclass(frozen=True, slots=True)
class AuditCriteria:
    """Which rows to list and in what order.

    `project_ids` None means every row (system entries included); a tuple limits the rows
    to those projects (an empty tuple matches nothing). Times are inclusive bounds.
    """

    project_ids: tuple[int, ...] | None = None
    text: dict[str, TextMatch] = field(default_factory=dict)  # column name -> match
    since: datetime | None = None
    until: datetime | None = None
    newest_first: bool = True


#: Columns a TextMatch may be applied to.
TEXT_COLUMNS = ("username", "operation", "resource_type", "resource", "status")


def _as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(id=row.id, op_time=_as_utc(row.op_time), username=row.username, operation=row.operation,
                      resource_type=row.resource_type, resource=row.resource, project_id=row.project_id,
                      ip_address=row.ip_address, user_agent=row.user_agent, status=row.status,
                      description=row.description)


async def add_many(conn: AsyncConnection, entries: list[dict[str, Any]]) -> None:
    if entries:
        await conn.execute(audit_logs.insert(), entries)


def _text_condition(column_name: str, match: TextMatch) -> ColumnElement[bool] | None:
    if column_name not in TEXT_COLUMNS:
        raise ValueError(f"audit log column {column_name!r} is not filterable")
    column = audit_logs.c[column_name]
    if match.any_of:
        return column.in_(match.any_of)
    if match.contains is not None:
        return column.icontains(match.contains, autoescape=True)
    return None


def _filtered(criteria: AuditCriteria) -> Select[Any]:
    query = select(audit_logs)
    if criteria.project_ids is not None:
        query = query.where(audit_logs.c.project_id.in_(criteria.project_ids))
    for column_name, match in criteria.text.items():
        condition = _text_condition(column_name, match)
        if condition is not None:
            query = query.where(condition)
    if criteria.since is not None:
        query = query.where(audit_logs.c.op_time >= _as_utc(criteria.since))
    if criteria.until is not None:
        query = query.where(audit_logs.c.op_time <= _as_utc(criteria.until))
    return query


async def list_entries(conn: AsyncConnection, criteria: AuditCriteria, *, offset: int = 0,
                       limit: int = 10) -> tuple[list[AuditEntry], int]:
    """A page of rows matching `criteria` (ties in op_time broken by id) and the total count."""
    query = _filtered(criteria)
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    if criteria.newest_first:
        order = (audit_logs.c.op_time.desc(), audit_logs.c.id.desc())
    else:
        order = (audit_logs.c.op_time.asc(), audit_logs.c.id.asc())
    rows = await conn.execute(query.order_by(*order).offset(offset).limit(limit))
    return [_entry(row) for row in rows], int(total)


async def purge_before(conn: AsyncConnection, cutoff: datetime) -> int:
    """Delete rows older than `cutoff`; returns how many."""
    result = await conn.execute(delete(audit_logs).where(audit_logs.c.op_time < _as_utc(cutoff)))
    return int(result.rowcount or 0)
