"""Scan requests received by Portside's scanner adapter API: executions of vendor_type
ADAPTER_SCAN whose `extra_attrs` hold the request (never its registry credentials), the
request's secret token and, once done, the result; the credentials live only in the job's
params until the job ends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.store.tables import executions, jobs


async def set_extra_attrs(conn: AsyncConnection, execution_id: int, extra_attrs: dict[str, Any]) -> None:
    await conn.execute(update(executions).where(executions.c.id == execution_id).values(extra_attrs=extra_attrs))


async def forget_job_secret(conn: AsyncConnection, job_id: int, params: dict[str, Any]) -> None:
    """Drop the registry authorization from a job's params (it ran, or will not run again)."""
    await conn.execute(update(jobs).where(jobs.c.id == job_id)
                       .values(params={key: value for key, value in params.items() if key != "authorization"}))
