"""Scan all artifacts (Harbor's `/system/scanAll`): on demand, on a cron schedule, or when the
vulnerability database changed, as one SCAN_ALL execution.

The `scan_all` job walks every manifest in id order, in batches of `BATCH` (one transaction
each, with a checkpoint between batches so a stop takes effect), and queues a scan of each
scannable one into the SCAN_ALL execution; digests already being scanned are skipped. Each
artifact is scanned by the scanner its project uses (looked up once per project and batch).
Re-scans with the built-in scanner are cheap: layer analyses are cached, so only matching runs again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain.errors import BadRequest, Conflict
from portside.domain.rbac import Principal
from portside.domain.vulnerability_report import as_utc, harbor_time
from portside.services.deps import ServiceDeps, deps_of
from portside.services.scan_queue import NotScannable, Target, project_registration, queue_scan
from portside.services.scanning import ScanProgress
from portside.services.schedules import ScheduleService
from portside.store import executions as execution_store
from portside.store import jobs as job_store
from portside.store import scans as scan_store
from portside.store.scanner_registrations import Registration

if TYPE_CHECKING:
    from portside.services.bundle import Services

SCAN_ALL_JOB = "scan_all"
SCAN_ALL_VENDOR = "SCAN_ALL"
BATCH = 200
#: Harbor's preset schedule types and their cron (seconds first).
PRESET_CRONS = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}
TRIGGER_NAMES = {"MANUAL": "Manual", "SCHEDULE": "Schedule", "EVENT": "Event"}
_FINAL = ("Success", "Error", "Stopped")


async def start_scan_all(conn: AsyncConnection, trigger: str) -> int:
    """Create a SCAN_ALL execution and its `scan_all` job; raises Conflict while one is running."""
    latest = await execution_store.latest(conn, SCAN_ALL_VENDOR)
    if latest is not None and latest.status == "Running":
        raise Conflict("a scan all job is already running")
    execution_id = await execution_store.create(conn, SCAN_ALL_VENDOR, None, trigger)
    await job_store.enqueue(conn, SCAN_ALL_JOB, {}, execution_id=execution_id)
    return execution_id


async def rescan_if_database_changed(conn: AsyncConnection) -> int | None:
    """Start a scan-all (trigger EVENT) if an import changed the vulnerability database after the
    last scan-all started and none is running; the new execution's id, else None."""
    changed = await scan_store.last_database_change(conn)
    latest = await scan_store.latest_execution(conn, SCAN_ALL_VENDOR)
    if changed is None:
        return None
    if latest is not None and (latest.status == "Running" or as_utc(changed) <= as_utc(latest.start_time)):
        return None
    return await start_scan_all(conn, "EVENT")


class ScanAllService:
    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
        self._db = deps.db
        self._schedules = ScheduleService(deps.db)

    async def _require(self, principal: Principal, action: str) -> None:
        # A system resource no role grants: system administrators only.
        await self._deps.access.require(principal, None, "scan-all", action)

    # --- schedule -------------------------------------------------------------------------------

    async def schedule(self, principal: Principal) -> dict[str, Any]:
        """Harbor's Schedule of scan-all: `{}` when none is set."""
        await self._require(principal, "read")
        row = await self._schedules.get(SCAN_ALL_VENDOR)
        if row is None:
            return {}
        kind = next((name for name, cron in PRESET_CRONS.items() if cron == row.cron), "Custom")
        return {"id": row.id, "creation_time": harbor_time(row.created_at), "update_time": harbor_time(row.updated_at),
                "schedule": {"type": kind, "cron": row.cron, "next_scheduled_time": harbor_time(row.next_run)}}

    async def set_schedule(self, principal: Principal, schedule_type: str, cron: str | None) -> int | None:
        """Apply a Schedule: Manual runs now (the new execution's id), None removes the schedule,
        Hourly/Daily/Weekly/Custom/Schedule set the cron (Custom/Schedule need `cron`)."""
        await self._require(principal, "update")
        if schedule_type == "Manual":
            return await self.start("MANUAL")
        if schedule_type == "None":
            await self._schedules.remove(SCAN_ALL_VENDOR)
            return None
        if schedule_type in PRESET_CRONS:
            cron = PRESET_CRONS[schedule_type]
        elif schedule_type not in ("Custom", "Schedule"):
            raise BadRequest(f"invalid schedule type {schedule_type[:32]!r}: expected Hourly, Daily, Weekly, "
                             "Custom, Manual or None")
        if not cron:
            raise BadRequest(f"a {schedule_type} schedule needs a cron expression")
        await self._schedules.set(SCAN_ALL_VENDOR, None, cron, SCAN_ALL_JOB, {})
        return None

    # --- runs -----------------------------------------------------------------------------------

    async def start(self, trigger: str) -> int:
        """Start a scan-all execution now; raises Conflict while another one is running."""
        async with self._db.write() as conn:
            return await start_scan_all(conn, trigger)

    async def stop(self, principal: Principal) -> None:
        """Stop the running scan-all: its queued scans at once, running ones at their next checkpoint."""
        await self._require(principal, "stop")
        async with self._db.write() as conn:
            latest = await execution_store.latest(conn, SCAN_ALL_VENDOR)
            if latest is None or latest.status != "Running":
                raise BadRequest("no scan all job is running")
            await job_store.request_stop(conn, execution_id=latest.id)
            await scan_store.stop_execution_reports(conn, latest.id)

    async def rescan_if_database_changed(self) -> int | None:
        """See `rescan_if_database_changed` (in its own transaction)."""
        async with self._db.write() as conn:
            return await rescan_if_database_changed(conn)

    async def run(self, execution_id: int, progress: ScanProgress) -> None:
        """The `scan_all` job: queue a scan of every scannable manifest into `execution_id`."""
        after, submitted, skipped, unsupported = 0, 0, 0, 0
        for _ in range(10_000_000 // BATCH):  # bounded: at most ten million manifests
            await progress.checkpoint()
            async with self._db.write() as conn:
                registrations: dict[int, Registration] = {}  # project id -> its scanner, for this batch
                rows = await scan_store.manifest_batch(conn, after, BATCH)
                for row in rows:
                    full = await scan_store.manifest_by_id(conn, row.id)
                    if full is None:
                        continue
                    if row.project_id not in registrations:
                        registrations[row.project_id] = await project_registration(conn, row.project_id)
                    try:
                        queued = await queue_scan(conn, Target.of(full), trigger="SCHEDULE", execution_id=execution_id,
                                                  registration=registrations[row.project_id])
                    except NotScannable:
                        unsupported += 1
                        continue
                    submitted += queued.jobs
                    skipped += 1 if queued.reused else 0
            if not rows:
                break
            after = rows[-1].id
        await progress.log(f"scan all: {submitted} scans queued, {skipped} already running, "
                           f"{unsupported} artifacts not scannable")

    async def metrics(self, principal: Principal, *, scheduled_only: bool = False) -> dict[str, Any]:
        """Harbor's Stats of the latest scan-all (the latest scheduled one with `scheduled_only`)."""
        await self._require(principal, "read")
        async with self._db.read() as conn:
            latest = await scan_store.latest_execution(conn, SCAN_ALL_VENDOR, "SCHEDULE" if scheduled_only else None)
            if latest is None:
                return {"total": 0, "completed": 0, "metrics": {}, "ongoing": False}
            counts = await scan_store.status_counts(conn, latest.id)
        return {"total": sum(counts.values()), "completed": sum(counts.get(status, 0) for status in _FINAL),
                "metrics": counts, "ongoing": latest.status == "Running",
                "trigger": TRIGGER_NAMES.get(latest.trigger, "Manual")}


def scan_all_service(services: Services) -> ScanAllService:
    """A ScanAllService over the bundle's parts (cheap: it holds no state of its own)."""
    return ScanAllService(deps_of(services))
