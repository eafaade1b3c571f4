"""What a job handler receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from portside.services.bundle import Services
from portside.store import jobs as job_store


class JobStopped(Exception):
    """Raised by `JobContext.checkpoint` when someone asked the job to stop."""


@dataclass
class JobContext:
    """A running job: its id, parameters, the services, and ways to log and be stopped."""

    services: Services
    job_id: int
    kind: str
    params: dict[str, Any]
    attempt: int
    execution_id: int | None
    _heartbeat: Callable[[], Awaitable[bool]] = field(repr=False, default=lambda: _true())

    async def log(self, line: str) -> None:
        """Append a line to the job's log (shown by the features' log endpoints)."""
        async with self.services.db.write() as conn:
            await job_store.append_log(conn, self.job_id, line.rstrip("\n") + "\n")

    async def checkpoint(self) -> None:
        """Extend the job's lease; raise JobStopped if a stop was requested. Call between batches."""
        if not await self._heartbeat():
            raise JobStopped()


async def _true() -> bool:
    return True


Handler = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of job: its handler, retry budget and how many may run at once in one worker."""

    name: str
    handler: Handler
    max_attempts: int = 3
    concurrency: int = 1
