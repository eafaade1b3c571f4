"""Scan jobs and the scan-on-push subscriber.

- `scan` {report_id, manifest_id}: scan one image into its report with the report's scanner,
  built-in or an external adapter (idempotent: a report that is no longer pending is left
  alone). A stop marks the report Stopped (an adapter scan checks for it between polls); a
  failed attempt (an adapter's error or timeout too) is retried, and the last one marks the
  report Error with the error's message, so a report never stays Running after its job is gone.
- `scan_all` {}: queue a scan of every artifact into the job's SCAN_ALL execution.
- `artifact.pushed` events: queue a scan when the project's metadata has auto_scan "true".
- `vulndb.imported` events: re-scan everything when the vulnerability database changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.jobs.context import JobContext, JobKind, JobStopped
from portside.jobs.events import Subscriber
from portside.services.scan_all import SCAN_ALL_JOB, rescan_if_database_changed, scan_all_service
from portside.services.scan_queue import SCAN_JOB, queue_on_push
from portside.services.scanning import scan_service

SCAN_ATTEMPTS = 3
ARTIFACT_PUSHED = "artifact.pushed"
VULNDB_IMPORTED = "vulndb.imported"


async def run_scan(context: JobContext) -> None:
    scans = scan_service(context.services)
    report_id, manifest_id = str(context.params["report_id"]), int(context.params["manifest_id"])
    try:
        await scans.scan_artifact(report_id, manifest_id, context)
    except JobStopped:
        await context.log("stopped by request")
        await scans.finish_failed(report_id, manifest_id, "stopped by request", status="Stopped")
        raise
    except Exception as error:
        if context.attempt >= SCAN_ATTEMPTS:
            await scans.finish_failed(report_id, manifest_id, f"scan failed after {context.attempt} attempts: "
                                                              f"{type(error).__name__}: {error}")
        raise


async def run_scan_all(context: JobContext) -> None:
    if context.execution_id is None:
        raise ValueError("a scan_all job needs its SCAN_ALL execution")
    await scan_all_service(context.services).run(context.execution_id, context)


async def on_artifact_pushed(conn: AsyncConnection, payload: dict[str, Any]) -> None:
    await queue_on_push(conn, payload)


async def on_vulndb_imported(conn: AsyncConnection, payload: dict[str, Any]) -> None:
    await rescan_if_database_changed(conn)


KINDS = (JobKind(SCAN_JOB, run_scan, max_attempts=SCAN_ATTEMPTS, concurrency=2),
         JobKind(SCAN_ALL_JOB, run_scan_all, max_attempts=1))
SUBSCRIBERS: dict[str, list[Subscriber]] = {ARTIFACT_PUSHED: [on_artifact_pushed],
                                             VULNDB_IMPORTED: [on_vulndb_imported]}
