"""Cron schedules in Harbor's 6-field form (seconds first): validation and next run times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from croniter import CroniterBadCronError, croniter

from portside.core.clock import utcnow
from portside.domain.errors import BadRequest
from portside.store import schedules as schedule_store
from portside.store.database import Database


def validate_cron(cron: str) -> str:
    """`cron` if it is a valid 6-field expression whose seconds field is 0 (Harbor's rule)."""
    fields = cron.split()
    if len(fields) != 6:
        raise BadRequest(f"invalid cron {cron[:60]!r}: expected 6 fields, seconds first (e.g. '0 0 0 * * *')")
    if fields[0] != "0":
        raise BadRequest(f"invalid cron {cron[:60]!r}: the seconds field must be 0")
    try:
        croniter(cron, utcnow(), second_at_beginning=True)
    except (CroniterBadCronError, ValueError, KeyError) as error:
        raise BadRequest(f"invalid cron {cron[:60]!r}: {error}") from None
    return cron


def next_run(cron: str, after: datetime | None = None) -> datetime:
    """The first time after `after` (default now) the schedule fires, in UTC."""
    start = (after or utcnow()).astimezone(UTC)
    value: datetime = croniter(cron, start, second_at_beginning=True).get_next(datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ScheduleService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set(self, vendor_type: str, vendor_id: int | None, cron: str, job_kind: str,
                  params: dict[str, Any]) -> datetime:
        """Create or replace a schedule; returns its next run time."""
        when = next_run(validate_cron(cron))
        async with self._db.write() as conn:
            await schedule_store.put(conn, vendor_type, vendor_id, cron, job_kind, params, when)
        return when

    async def remove(self, vendor_type: str, vendor_id: int | None = None) -> None:
        async with self._db.write() as conn:
            await schedule_store.remove(conn, vendor_type, vendor_id)

    async def get(self, vendor_type: str, vendor_id: int | None = None) -> Any | None:
        async with self._db.read() as conn:
            return await schedule_store.find(conn, vendor_type, vendor_id)
