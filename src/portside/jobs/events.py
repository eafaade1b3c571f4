"""Dispatch outbox events to subscribers, which enqueue jobs in the same transaction.

An event is marked dispatched in the transaction that enqueues its jobs, so an
event is acted on exactly once even when the process dies mid-way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.services.bundle import Services
from portside.store import events as event_store

Subscriber = Callable[[AsyncConnection, dict[str, Any]], Awaitable[None]]
BATCH = 100


async def dispatch_events(services: Services, subscribers: dict[str, list[Subscriber]]) -> int:
    """Handle one batch of undispatched events; returns how many."""
    async with services.db.write() as conn:
        rows = await event_store.claim_batch(conn, BATCH)
        for row in rows:
            for subscriber in subscribers.get(row.type, []):
                await subscriber(conn, dict(row.payload or {}))
    return len(rows)
