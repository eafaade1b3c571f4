"""Executions (Harbor's reporting unit for scans, GC, replication, retention)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store.tables import executions


async def create(conn: AsyncConnection, vendor_type: str, vendor_id: int | None, trigger: str,
                 extra_attrs: dict[str, Any] | None = None) -> int:
    result = await conn.execute(executions.insert().values(
        vendor_type=vendor_type, vendor_id=vendor_id, trigger=trigger, status="Running", status_message="",
        extra_attrs=extra_attrs or {}, start_time=utcnow(),
    ).returning(executions.c.id))
    return int(result.scalar_one())


async def find(conn: AsyncConnection, execution_id: int) -> Any | None:
    return (await conn.execute(select(executions).where(executions.c.id == execution_id))).first()


async def set_status(conn: AsyncConnection, execution_id: int, status: str, message: str = "") -> None:
    """Record a final (or running) status; the end time is set for final ones."""
    values: dict[str, Any] = {"status": status, "status_message": message}
    if status in ("Success", "Error", "Stopped"):
        values["end_time"] = utcnow()
    await conn.execute(update(executions).where(executions.c.id == execution_id).values(**values))


async def latest(conn: AsyncConnection, vendor_type: str, vendor_id: int | None = None) -> Any | None:
    query = select(executions).where(executions.c.vendor_type == vendor_type)
    if vendor_id is not None:
        query = query.where(executions.c.vendor_id == vendor_id)
    return (await conn.execute(query.order_by(executions.c.id.desc()).limit(1))).first()
