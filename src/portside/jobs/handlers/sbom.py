"""SBOM jobs and the generate-on-push subscriber.

- `sbom` {report_id, manifest_id, media_type}: generate and store the SBOM of one image
  (idempotent: a report that is no longer pending is left alone). A stop marks the report
  Stopped; the last failed attempt marks it Error.
- `artifact.pushed` events: queue an SBOM when the project's metadata has auto_sbom_generation "true".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.jobs.context import JobContext, JobKind, JobStopped
from portside.jobs.events import Subscriber
from portside.services.sbom import SBOM_JOB, queue_on_push, sbom_service

SBOM_ATTEMPTS = 3
ARTIFACT_PUSHED = "artifact.pushed"


async def run_sbom(context: JobContext) -> None:
    service = sbom_service(context.services)
    report_id = str(context.params["report_id"])
    try:
        await service.run_job(report_id, int(context.params["manifest_id"]), str(context.params["media_type"]),
                              context)
    except JobStopped:
        await context.log("stopped by request")
        await service.finish_failed(report_id, "stopped by request", status="Stopped")
        raise
    except Exception as error:
        if context.attempt >= SBOM_ATTEMPTS:
            await service.finish_failed(report_id, f"SBOM generation failed after {context.attempt} attempts: "
                                                   f"{type(error).__name__}: {error}")
        raise


async def on_artifact_pushed(conn: AsyncConnection, payload: dict[str, Any]) -> None:
    await queue_on_push(conn, payload)


KINDS = (JobKind(SBOM_JOB, run_sbom, max_attempts=SBOM_ATTEMPTS, concurrency=1),)
SUBSCRIBERS: dict[str, list[Subscriber]] = {ARTIFACT_PUSHED: [on_artifact_pushed]}
