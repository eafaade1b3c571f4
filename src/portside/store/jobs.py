"""The job queue in SQL: enqueue inside a service's transaction, claim, finish, retry.

Claiming is safe with several workers: on PostgreSQL with `FOR UPDATE SKIP
LOCKED`, on SQLite because writes are serialised (`BEGIN IMMEDIATE`). A running
job whose lease ran out (its worker died) is claimed again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import JobRecord
from portside.store.database import after_commit
from portside.store.tables import jobs

ACTIVE = ("queued", "running")
#: In-process workers to wake when a job is committed (so a queued scan starts at once instead of
#: at the worker's next poll; workers in other processes still poll).
_listeners: set[Callable[[], None]] = set()


def listen(wake: Callable[[], None]) -> None:
    """Call `wake` after every commit that enqueued a job in this process."""
    _listeners.add(wake)


def unlisten(wake: Callable[[], None]) -> None:
    _listeners.discard(wake)


def _wake_listeners() -> None:
    for wake in list(_listeners):
        wake()


async def enqueue(conn: AsyncConnection, kind: str, params: dict[str, Any], *, execution_id: int | None = None,
                  max_attempts: int = 3, run_after: datetime | None = None) -> int:
    """Add a job; it runs after the surrounding transaction commits."""
    now = utcnow()
    result = await conn.execute(jobs.insert().values(
        kind=kind, params=params, status="queued", execution_id=execution_id, attempts=0,
        max_attempts=max_attempts, run_after=run_after or now, log="", stop_requested=False,
        created_at=now, updated_at=now,
    ).returning(jobs.c.id))
    after_commit(conn, _wake_listeners)
    return int(result.scalar_one())


async def claim(conn: AsyncConnection, worker_id: str, kinds: list[str], lease_seconds: float) -> JobRecord | None:
    """Take the next runnable job of one of `kinds` for `worker_id`, or None."""
    now = utcnow()
    runnable = or_(and_(jobs.c.status == "queued", jobs.c.run_after <= now),
                   and_(jobs.c.status == "running", jobs.c.locked_until < now))
    candidate = (select(jobs.c.id).where(runnable, jobs.c.kind.in_(kinds))
                 .order_by(jobs.c.run_after, jobs.c.id).limit(1))
    if conn.dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    job_id = (await conn.execute(candidate)).scalar()
    if job_id is None:
        return None
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(
        status="running", locked_by=worker_id, locked_until=now + timedelta(seconds=lease_seconds),
        attempts=jobs.c.attempts + 1, updated_at=now))
    row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).one()
    return JobRecord(id=row.id, kind=row.kind, params=dict(row.params or {}), attempts=row.attempts,
                     max_attempts=row.max_attempts, execution_id=row.execution_id)


async def heartbeat(conn: AsyncConnection, job_id: int, worker_id: str, lease_seconds: float) -> bool:
    """Extend the lease; False if the job is no longer ours (or a stop was requested)."""
    result = await conn.execute(update(jobs).where(
        jobs.c.id == job_id, jobs.c.locked_by == worker_id, jobs.c.status == "running",
    ).values(locked_until=utcnow() + timedelta(seconds=lease_seconds)).returning(jobs.c.stop_requested))
    row = result.first()
    return row is not None and not row.stop_requested


async def finish(conn: AsyncConnection, job_id: int, status: str, *, error: str | None = None) -> None:
    """Mark a job succeeded, stopped or dead."""
    now = utcnow()
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(
        status=status, last_error=error, locked_by=None, locked_until=None, updated_at=now, finished_at=now))


async def retry_later(conn: AsyncConnection, job_id: int, error: str, delay_seconds: float) -> None:
    """Put a failed job back in the queue after `delay_seconds`."""
    now = utcnow()
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(
        status="queued", last_error=error, locked_by=None, locked_until=None,
        run_after=now + timedelta(seconds=delay_seconds), updated_at=now))


async def append_log(conn: AsyncConnection, job_id: int, text: str) -> None:
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(log=jobs.c.log + text))


async def request_stop(conn: AsyncConnection, *, execution_id: int) -> int:
    """Stop an execution's jobs: queued ones at once, running ones at their next check."""
    now = utcnow()
    queued = await conn.execute(update(jobs).where(jobs.c.execution_id == execution_id, jobs.c.status == "queued")
                                .values(status="stopped", updated_at=now, finished_at=now))
    running = await conn.execute(update(jobs).where(jobs.c.execution_id == execution_id,
                                                    jobs.c.status == "running").values(stop_requested=True))
    return int((queued.rowcount or 0) + (running.rowcount or 0))


async def find(conn: AsyncConnection, job_id: int) -> Any | None:
    return (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()


async def statuses_of_execution(conn: AsyncConnection, execution_id: int) -> dict[str, int]:
    query = select(jobs.c.status, func.count()).where(jobs.c.execution_id == execution_id).group_by(jobs.c.status)
    return {str(status): int(count) for status, count in await conn.execute(query)}


async def count_active(conn: AsyncConnection, kinds: list[str] | None = None) -> int:
    query = select(func.count()).where(jobs.c.status.in_(ACTIVE))
    if kinds:
        query = query.where(jobs.c.kind.in_(kinds))
    return int((await conn.execute(query)).scalar_one())
