"""Pull times, recorded without slowing pulls: ids are collected in memory and
written in one batched UPDATE every few seconds by a background task."""

from __future__ import annotations

from portside.store import manifests as manifest_store
from portside.store.database import Database


class PullRecorder:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: set[int] = set()

    def record(self, manifest_id: int) -> None:
        """Note a pull of the manifest (no I/O)."""
        self._pending.add(manifest_id)

    async def flush(self) -> int:
        """Write the pending pull times; returns how many manifests were updated."""
        if not self._pending:
            return 0
        batch, self._pending = sorted(self._pending), set()
        async with self._db.write() as conn:
            await manifest_store.touch_pulled(conn, batch)
        return len(batch)
