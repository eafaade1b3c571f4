"""The worker loop: claim jobs, run their handlers, retry with backoff, finish executions.

A job is claimed with a lease that the handler's checkpoints extend; if the
worker dies, the lease runs out and another worker takes the job again, so
handlers must be idempotent (they take ids, not rows, and re-check state).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import traceback
import uuid

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain.models import JobRecord
from portside.jobs.context import JobContext, JobKind, JobStopped
from portside.services.bundle import Services
from portside.store import executions as execution_store
from portside.store import jobs as job_store

log = logging.getLogger("portside.jobs")
LEASE_SECONDS = 120.0
BACKOFF_BASE_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 3600.0


async def _first_of(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    """Wait until either event is set, at most `seconds`."""
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def backoff(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1-based): 10 s, 20 s, 40 s, … capped at an hour."""
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1)))


class Worker:
    """Runs jobs of the registered kinds, up to `concurrency` at once."""

    def __init__(self, services: Services, kinds: dict[str, JobKind], *, concurrency: int = 2,
                 poll_interval: float = 0.5) -> None:
        self.services = services
        self.kinds = kinds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._slots = asyncio.Semaphore(concurrency)
        self._poll_interval = poll_interval
        self._running: set[asyncio.Task[None]] = set()

    async def claim_and_start(self) -> bool:
        """Claim one job and start it in the background; False when there is nothing to do."""
        async with self.services.db.write() as conn:
            job = await job_store.claim(conn, self.worker_id, list(self.kinds), LEASE_SECONDS)
        if job is None:
            return False
        task = asyncio.create_task(self._run(job))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then wait for the jobs in flight."""
        enqueued = asyncio.Event()
        job_store.listen(enqueued.set)
        try:
            while not stop.is_set():
                await self._slots.acquire()
                try:
                    started = await self.claim_and_start()
                except Exception:
                    log.exception("claiming a job failed")
                    started = False
                if not started:
                    self._slots.release()
                    await _first_of(stop, enqueued, self._poll_interval)
                    enqueued.clear()
        finally:
            job_store.unlisten(enqueued.set)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run_until_idle(self, max_jobs: int = 1000) -> int:
        """Run jobs one after another until none is runnable (tests, `portside worker --once`)."""
        done = 0
        while done < max_jobs:
            async with self.services.db.write() as conn:
                job = await job_store.claim(conn, self.worker_id, list(self.kinds), LEASE_SECONDS)
            if job is None:
                break
            await self._execute(job)
            done += 1
        return done

    async def _run(self, job: JobRecord) -> None:
        try:
            await self._execute(job)
        finally:
            self._slots.release()

    async def _execute(self, job: JobRecord) -> None:
        kind = self.kinds[job.kind]

        async def heartbeat() -> bool:
            async with self.services.db.write() as conn:
                return await job_store.heartbeat(conn, job.id, self.worker_id, LEASE_SECONDS)

        context = JobContext(self.services, job.id, job.kind, job.params, job.attempts, job.execution_id, heartbeat)
        try:
            await kind.handler(context)
        except JobStopped:
            await self._finish(context, "stopped")
        except Exception as error:
            detail = "".join(traceback.format_exception_only(error)).strip()
            log.warning("job %s (%s) attempt %d failed: %s", job.id, job.kind, job.attempts, detail)
            await context.log(f"attempt {job.attempts} failed: {detail}")
            if job.attempts >= min(job.max_attempts, kind.max_attempts):
                await self._finish(context, "dead", detail)
            else:
                async with self.services.db.write() as conn:
                    await job_store.retry_later(conn, job.id, detail, backoff(job.attempts))
        else:
            await self._finish(context, "succeeded")

    async def _finish(self, context: JobContext, status: str, error: str | None = None) -> None:
        async with self.services.db.write() as conn:
            await job_store.finish(conn, context.job_id, status, error=error)
            if context.execution_id is not None:
                await _settle_execution(conn, context.execution_id)


async def _settle_execution(conn: AsyncConnection, execution_id: int) -> None:
    """Give the execution its final status once none of its jobs is queued or running."""
    counts = await job_store.statuses_of_execution(conn, execution_id)
    if counts.get("queued") or counts.get("running"):
        return
    if counts.get("dead") or counts.get("failed"):
        status = "Error"
    elif counts.get("stopped"):
        status = "Stopped"
    else:
        status = "Success"
    await execution_store.set_status(conn, execution_id, status)
