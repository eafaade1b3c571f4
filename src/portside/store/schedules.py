"""Cron schedules (Harbor's 6-field form) stored in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store import dialect
from portside.store.tables import schedules


async def put(conn: AsyncConnection, vendor_type: str, vendor_id: int | None, cron: str, job_kind: str,
              params: dict[str, Any], next_run: datetime) -> None:
    """Create or replace the schedule of (vendor_type, vendor_id)."""
    now = utcnow()
    await dialect.upsert(conn, schedules, {
        "vendor_type": vendor_type, "vendor_id": vendor_id, "cron": cron, "job_kind": job_kind, "params": params,
        "next_run": next_run, "created_at": now, "updated_at": now,
    }, ["vendor_type", "vendor_id"], ["cron", "job_kind", "params", "next_run", "updated_at"])


async def find(conn: AsyncConnection, vendor_type: str, vendor_id: int | None = None) -> Any | None:
    query = select(schedules).where(schedules.c.vendor_type == vendor_type)
    query = query.where(schedules.c.vendor_id.is_(None) if vendor_id is None else schedules.c.vendor_id == vendor_id)
    return (await conn.execute(query)).first()


async def remove(conn: AsyncConnection, vendor_type: str, vendor_id: int | None = None) -> None:
    condition = schedules.c.vendor_id.is_(None) if vendor_id is None else schedules.c.vendor_id == vendor_id
    await conn.execute(delete(schedules).where(schedules.c.vendor_type == vendor_type, condition))


async def due(conn: AsyncConnection, now: datetime, limit: int = 50) -> list[Any]:
    query = select(schedules).where(schedules.c.next_run <= now).order_by(schedules.c.next_run).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(await conn.execute(query))


async def advance(conn: AsyncConnection, schedule_id: int, next_run: datetime) -> None:
    await conn.execute(update(schedules).where(schedules.c.id == schedule_id)
                       .values(next_run=next_run, updated_at=utcnow()))
