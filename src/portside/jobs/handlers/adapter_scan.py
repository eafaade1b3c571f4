"""The `adapter_scan` job: a scan requested through Portside's scanner adapter API.

Params {execution_id, authorization}: the authorization (the requesting registry's credentials
for the pull) is dropped from the params once the job ends, whatever the outcome. The last
failed attempt ends the request with state Error, so a poller never waits forever.
"""

from __future__ import annotations

from portside.jobs.context import JobContext, JobKind, JobStopped
from portside.services.adapter_scans import ADAPTER_JOB, adapter_scan_service

ADAPTER_SCAN_ATTEMPTS = 3


async def run_adapter_scan(context: JobContext) -> None:
    service = adapter_scan_service(context.services)
    execution_id = int(context.params["execution_id"])
    final = True
    try:
        await service.run(execution_id, str(context.params.get("authorization") or ""), context)
    except JobStopped:
        await service.fail(execution_id, "stopped by request")
        raise
    except Exception as error:
        final = context.attempt >= ADAPTER_SCAN_ATTEMPTS
        if final:
            await service.fail(execution_id, f"the scan failed after {context.attempt} attempts: "
                                             f"{type(error).__name__}: {error}")
        raise
    finally:
        if final:
            await service.forget_secret(context.job_id, context.params)


KINDS = (JobKind(ADAPTER_JOB, run_adapter_scan, max_attempts=ADAPTER_SCAN_ATTEMPTS, concurrency=1),)
