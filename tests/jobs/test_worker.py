"""The durable job queue: runs, retries with backoff, dead jobs, stops, leases, executions, schedules, events."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.jobs.context import JobContext, JobKind
from portside.jobs.events import dispatch_events
from portside.jobs.scheduler import fire_due_schedules
from portside.jobs.worker import Worker, backoff
from portside.services.bundle import Services
from portside.services.schedules import ScheduleService, next_run, validate_cron
from portside.store import events as event_store
from portside.store import executions as execution_store
from portside.store import jobs as job_store
from portside.store.tables import jobs, schedules


class Recorder:
    """Handlers that record their calls, failing the first `failures` times."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures = failures

    async def handle(self, context: JobContext) -> None:
        self.calls.append(context.params)
        await context.log(f"attempt {context.attempt}")
        if len(self.calls) <= self.failures:
            raise RuntimeError("transient failure")


async def _enqueue(services: Services, kind: str, params: dict[str, Any], **extra: Any) -> int:
    async with services.db.write() as conn:
        return await job_store.enqueue(conn, kind, params, **extra)


async def _job(services: Services, job_id: int) -> Any:
    async with services.db.read() as conn:
        return await job_store.find(conn, job_id)


async def _make_due(services: Services, job_id: int) -> None:
    async with services.db.write() as conn:
        await conn.execute(update(jobs).where(jobs.c.id == job_id).values(run_after=utcnow() - timedelta(seconds=1)))


async def test_a_queued_job_runs_once_and_succeeds(services: Services) -> None:
    recorder = Recorder()
    worker = Worker(services, {"echo": JobKind("echo", recorder.handle)})
    job_id = await _enqueue(services, "echo", {"artifact_id": 7})
    assert await worker.run_until_idle() == 1
    assert await worker.run_until_idle() == 0
    row = await _job(services, job_id)
    assert (row.status, row.attempts, recorder.calls) == ("succeeded", 1, [{"artifact_id": 7}])
    assert "attempt 1" in row.log


async def test_a_failing_job_is_retried_after_a_backoff(services: Services) -> None:
    recorder = Recorder(failures=1)
    worker = Worker(services, {"flaky": JobKind("flaky", recorder.handle, max_attempts=3)})
    job_id = await _enqueue(services, "flaky", {})
    await worker.run_until_idle()
    row = await _job(services, job_id)
    assert row.status == "queued" and row.last_error.startswith("RuntimeError")
    assert await worker.run_until_idle() == 0  # not before the backoff
    await _make_due(services, job_id)
    await worker.run_until_idle()
    assert (await _job(services, job_id)).status == "succeeded"
    assert len(recorder.calls) == 2


async def test_a_job_that_keeps_failing_ends_dead(services: Services) -> None:
    recorder = Recorder(failures=10)
    worker = Worker(services, {"bad": JobKind("bad", recorder.handle, max_attempts=2)})
    job_id = await _enqueue(services, "bad", {})
    await worker.run_until_idle()
    await _make_due(services, job_id)
    await worker.run_until_idle()
    row = await _job(services, job_id)
    assert (row.status, row.attempts) == ("dead", 2)


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [10.0, 20.0, 40.0]
    assert backoff(30) == 3600.0


async def test_a_job_whose_worker_died_is_claimed_again(services: Services) -> None:
    recorder = Recorder()
    job_id = await _enqueue(services, "echo", {})
    async with services.db.write() as conn:
        claimed = await job_store.claim(conn, "dead-worker", ["echo"], 60)
    assert claimed is not None and claimed.id == job_id
    worker = Worker(services, {"echo": JobKind("echo", recorder.handle)})
    assert await worker.run_until_idle() == 0  # still leased
    async with services.db.write() as conn:
        await conn.execute(update(jobs).where(jobs.c.id == job_id).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert await worker.run_until_idle() == 1
    row = await _job(services, job_id)
    assert (row.status, row.attempts) == ("succeeded", 2)


async def test_two_workers_never_claim_the_same_job(services: Services) -> None:
    ids = {await _enqueue(services, "echo", {"n": n}) for n in range(6)}
    claimed: list[int] = []
    for worker_id in ("a", "b", "a", "b", "a", "b", "a"):
        async with services.db.write() as conn:
            job = await job_store.claim(conn, worker_id, ["echo"], 60)
        if job is not None:
            claimed.append(job.id)
    assert sorted(claimed) == sorted(ids)


async def test_a_stopped_execution_stops_its_jobs_and_settles(services: Services) -> None:
    async def slow(context: JobContext) -> None:
        await context.checkpoint()

    async with services.db.write() as conn:
        execution_id = await execution_store.create(conn, "SCAN_ALL", None, "MANUAL")
        running = await job_store.enqueue(conn, "slow", {}, execution_id=execution_id)
        queued = await job_store.enqueue(conn, "slow", {}, execution_id=execution_id)
        claimed = await job_store.claim(conn, "w", ["slow"], 60)
        assert claimed is not None and claimed.id == running
        await job_store.request_stop(conn, execution_id=execution_id)
    assert (await _job(services, queued)).status == "stopped"
    async with services.db.write() as conn:  # hand the running job to a real worker: it sees the stop
        await conn.execute(update(jobs).where(jobs.c.id == running).values(locked_until=utcnow() - timedelta(1)))
    worker = Worker(services, {"slow": JobKind("slow", slow)})
    await worker.run_until_idle()
    assert (await _job(services, running)).status == "stopped"
    async with services.db.read() as conn:
        execution = await execution_store.find(conn, execution_id)
    assert execution.status == "Stopped" and execution.end_time is not None


async def test_an_execution_succeeds_when_all_its_jobs_do(services: Services) -> None:
    recorder = Recorder()
    async with services.db.write() as conn:
        execution_id = await execution_store.create(conn, "SCAN_ALL", None, "MANUAL")
        for n in range(3):
            await job_store.enqueue(conn, "echo", {"n": n}, execution_id=execution_id)
    await Worker(services, {"echo": JobKind("echo", recorder.handle)}).run_until_idle()
    async with services.db.read() as conn:
        assert (await execution_store.find(conn, execution_id)).status == "Success"


def test_cron_must_have_six_fields_with_zero_seconds() -> None:
    assert validate_cron("0 0 0 * * *") == "0 0 0 * * *"
    for bad in ("0 0 * * *", "5 0 0 * * *", "0 0 99 * * *"):
        with pytest.raises(Exception, match="cron"):
            validate_cron(bad)


def test_next_run_of_a_daily_schedule_is_the_next_midnight() -> None:
    after = utcnow().replace(hour=18, minute=0, second=0, microsecond=0)
    assert next_run("0 0 0 * * *", after) == (after + timedelta(days=1)).replace(hour=0)


async def test_a_due_schedule_enqueues_one_job_and_moves_on(services: Services) -> None:
    schedule_service = ScheduleService(services.db)
    await schedule_service.set("SCAN_ALL", None, "0 0 * * * *", "echo", {"all": True})
    async with services.db.write() as conn:
        await conn.execute(update(schedules).values(next_run=utcnow() - timedelta(seconds=1)))
    assert await fire_due_schedules(services) == 1
    assert await fire_due_schedules(services) == 0
    async with services.db.read() as conn:
        queued = list(await conn.execute(select(jobs.c.kind, jobs.c.params, jobs.c.execution_id)))
        assert [(row.kind, row.params) for row in queued] == [("echo", {"all": True})]
        execution = await execution_store.find(conn, queued[0].execution_id)
        assert (execution.vendor_type, execution.trigger) == ("SCAN_ALL", "SCHEDULE")
        assert (await schedule_service.get("SCAN_ALL")).next_run is not None


async def test_an_event_is_dispatched_exactly_once(services: Services) -> None:
    seen: list[dict[str, Any]] = []

    async def on_push(conn: AsyncConnection, payload: dict[str, Any]) -> None:
        seen.append(payload)
        await job_store.enqueue(conn, "echo", payload)

    async with services.db.write() as conn:
        await event_store.add(conn, "artifact.pushed", {"manifest_id": 1})
        await event_store.add(conn, "artifact.deleted", {"manifest_id": 2})
    subscribers = {"artifact.pushed": [on_push]}
    assert await dispatch_events(services, subscribers) == 2
    assert await dispatch_events(services, subscribers) == 0
    assert seen == [{"manifest_id": 1}]
    async with services.db.read() as conn:
        assert await job_store.count_active(conn, ["echo"]) == 1


async def test_a_committed_job_wakes_an_idle_worker_before_its_next_poll(services: Services) -> None:
    ran = asyncio.Event()

    async def handle(context: JobContext) -> None:
        ran.set()

    worker = Worker(services, {"wake": JobKind("wake", handle)}, poll_interval=600)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(0.2)  # the worker found nothing and waits for its (10 minute) poll
        assert not ran.is_set()
        await _enqueue(services, "wake", {})
        await asyncio.wait_for(ran.wait(), 30)  # woken by the commit, not by the poll
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


async def test_a_rolled_back_enqueue_wakes_nobody(services: Services) -> None:
    woken: list[bool] = []
    job_store.listen(woken_hook := lambda: woken.append(True))
    try:
        with pytest.raises(RuntimeError):
            async with services.db.write() as conn:
                await job_store.enqueue(conn, "echo", {})
                raise RuntimeError("abort the transaction")
        assert woken == []
        await _enqueue(services, "echo", {})
        assert woken == [True]
    finally:
        job_store.unlisten(woken_hook)
