"""Turn due cron schedules into jobs (each fire is enqueued once, even with several nodes)."""

from __future__ import annotations

from portside.core.clock import utcnow
from portside.services.bundle import Services
from portside.services.schedules import next_run
from portside.store import executions as execution_store
from portside.store import jobs as job_store
from portside.store import schedules as schedule_store


async def fire_due_schedules(services: Services) -> int:
    """Enqueue a job for every schedule that is due and move it to its next time; returns how many."""
    now = utcnow()
    fired = 0
    async with services.db.write() as conn:
        for schedule in await schedule_store.due(conn, now):
            execution_id = await execution_store.create(conn, schedule.vendor_type, schedule.vendor_id, "SCHEDULE")
            await job_store.enqueue(conn, schedule.job_kind, dict(schedule.params or {}), execution_id=execution_id)
            await schedule_store.advance(conn, schedule.id, next_run(schedule.cron, now))
            fired += 1
    return fired
