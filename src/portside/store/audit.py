"""Audit log rows: written in batches, listed with filters, purged by age."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.store.tables import audit_logs


async def add_many(conn: AsyncConnection, entries: list[dict[str, Any]]) -> None:
    if entries:
        await conn.execute(audit_logs.insert(), entries)


async def list_entries(conn: AsyncConnection, *, project_id: int | None = None, username: str | None = None,
                       operation: str | None = None, resource_type: str | None = None,
                       resource_like: str | None = None, since: datetime | None = None,
                       until: datetime | None = None, descending: bool = True, offset: int = 0,
                       limit: int = 10) -> tuple[list[Any], int]:
    """A page of audit rows matching the filters, newest first by default, and the total."""
    query = select(audit_logs)
    if project_id is not None:
        query = query.where(audit_logs.c.project_id == project_id)
    if username:
        query = query.where(audit_logs.c.username == username)
    if operation:
        query = query.where(audit_logs.c.operation == operation)
    if resource_type:
        query = query.where(audit_logs.c.resource_type == resource_type)
    if resource_like:
        query = query.where(audit_logs.c.resource.contains(resource_like, autoescape=True))
    if since is not None:
        query = query.where(audit_logs.c.op_time >= since)
    if until is not None:
        query = query.where(audit_logs.c.op_time <= until)
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    order = (audit_logs.c.op_time.desc(), audit_logs.c.id.desc()) if descending else (audit_logs.c.op_time,
                                                                                       audit_logs.c.id)
    rows = list(await conn.execute(query.order_by(*order).offset(offset).limit(limit)))
    return rows, int(total)


async def purge_before(conn: AsyncConnection, cutoff: datetime) -> int:
    result = await conn.execute(delete(audit_logs).where(audit_logs.c.op_time < cutoff))
    return int(result.rowcount or 0)
