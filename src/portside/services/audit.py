"""The audit log: who did what to which resource, from where, with what result.

Entries are queued in memory and written in one INSERT per flush (every couple
of seconds and at shutdown), so recording a pull costs the pull nothing. Old
entries are purged after `retention_days`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from portside.core.clock import utcnow
from portside.store import audit as audit_store
from portside.store.database import Database

MAX_PENDING = 50_000


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change and from where, as the audit log records it."""

    name: str
    user_id: int | None = None
    ip_address: str = ""
    user_agent: str = ""

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


class AuditLog:
    def __init__(self, db: Database, *, retention_days: int) -> None:
        self._db = db
        self._retention_days = retention_days
        self._pending: list[dict[str, Any]] = []

    def record(self, actor: Actor | None, operation: str, resource_type: str, resource: str, *,
               project_id: int | None = None, success: bool = True, description: str = "") -> None:
        """Queue one entry (operation: create, delete, pull, update, ...)."""
        if len(self._pending) >= MAX_PENDING:
            self._pending.pop(0)  # bounded: under a flood, drop the oldest rather than exhaust memory
        actor = actor or Actor.system()
        self._pending.append({
            "op_time": utcnow(), "username": actor.name or "anonymous", "operation": operation,
            "resource_type": resource_type, "resource": resource[:512], "project_id": project_id,
            "ip_address": actor.ip_address[:64], "user_agent": actor.user_agent[:512],
            "status": "SUCCESS" if success else "FAILURE", "description": description[:1024],
        })

    async def flush(self) -> int:
        """Write queued entries; returns how many."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, []
        async with self._db.write() as conn:
            await audit_store.add_many(conn, batch)
        return len(batch)

    async def purge(self) -> int:
        """Delete entries older than the retention period."""
        cutoff = utcnow() - timedelta(days=self._retention_days)
        async with self._db.write() as conn:
            return await audit_store.purge_before(conn, cutoff)
