"""The outbox: events written in the same transaction as the change they describe."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.store.tables import events


async def add(conn: AsyncConnection, event_type: str, payload: dict[str, Any]) -> None:
    """Record an event (call inside the transaction that makes the change)."""
    await conn.execute(events.insert().values(type=event_type, payload=payload, created_at=utcnow()))


async def claim_batch(conn: AsyncConnection, limit: int) -> list[Any]:
    """The oldest undispatched events, marked dispatched (in this transaction)."""
    query = select(events).where(events.c.dispatched_at.is_(None)).order_by(events.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await conn.execute(query))
    if rows:
        await conn.execute(update(events).where(events.c.id.in_([row.id for row in rows]))
                           .values(dispatched_at=utcnow()))
    return rows
