"""The `cve_export` job {execution_id}: write the CSV of a CVE export (idempotent: a retry
rewrites the same file). The last failed attempt records why in the execution's status text."""

from __future__ import annotations

from portside.jobs.context import JobContext, JobKind
from portside.services.cve_export import EXPORT_JOB, cve_export_service

EXPORT_ATTEMPTS = 2


async def run_cve_export(context: JobContext) -> None:
    service = cve_export_service(context.services)
    execution_id = int(context.params["execution_id"])
    try:
        await service.run(execution_id, context)
    except Exception as error:
        if context.attempt >= EXPORT_ATTEMPTS:
            await service.note_failure(execution_id, f"the export failed: {type(error).__name__}: {error}")
        raise


KINDS = (JobKind(EXPORT_JOB, run_cve_export, max_attempts=EXPORT_ATTEMPTS, concurrency=1),)
