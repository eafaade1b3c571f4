"""Upload sessions: the driver's write state, the offset and a lease.

A lease keeps two requests from appending to one upload at the same time; it
expires by itself, so an upload whose request died (or whose server was killed)
can be continued later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Upload
from portside.store.tables import uploads


def _upload(row: Any) -> Upload:
    return Upload(id=row.id, repository_id=row.repository_id, state=row.state, size=row.size,
                  created_at=row.created_at, updated_at=row.updated_at)


async def create(conn: AsyncConnection, upload_id: str, repository_id: int, state: dict[str, Any]) -> Upload:
    """Record a new, empty upload session."""
    now = utcnow()
    values = {"id": upload_id, "repository_id": repository_id, "state": state, "size": 0,
              "created_at": now, "updated_at": now, "lease_until": None}
    await conn.execute(uploads.insert().values(values))
    return Upload(upload_id, repository_id, state, 0, now, now)


async def find(conn: AsyncConnection, repository_id: int, upload_id: str) -> Upload | None:
    """The upload `upload_id` of the repository, or None."""
    row = (await conn.execute(
        select(uploads).where(uploads.c.id == upload_id, uploads.c.repository_id == repository_id)
    )).first()
    return _upload(row) if row else None


async def lease(conn: AsyncConnection, repository_id: int, upload_id: str, seconds: float) -> Upload | None:
    """Take the upload's lease for `seconds`; None if it is absent or leased by another request."""
    now = utcnow()
    result = await conn.execute(
        update(uploads)
        .where(uploads.c.id == upload_id, uploads.c.repository_id == repository_id,
               or_(uploads.c.lease_until.is_(None), uploads.c.lease_until < now))
        .values(lease_until=now + timedelta(seconds=seconds))
    )
    if not result.rowcount:
        return None
    return await find(conn, repository_id, upload_id)


async def extend_lease(conn: AsyncConnection, upload_id: str, seconds: float) -> None:
    """Push the lease of a request still streaming forward."""
    await conn.execute(update(uploads).where(uploads.c.id == upload_id)
                       .values(lease_until=utcnow() + timedelta(seconds=seconds)))


async def advance(conn: AsyncConnection, upload_id: str, state: dict[str, Any], size: int) -> None:
    """Record the new write state and size, and release the lease."""
    await conn.execute(update(uploads).where(uploads.c.id == upload_id)
                       .values(state=state, size=size, updated_at=utcnow(), lease_until=None))


async def release(conn: AsyncConnection, upload_id: str) -> None:
    """Release the lease without changing the state (the append failed)."""
    await conn.execute(update(uploads).where(uploads.c.id == upload_id).values(lease_until=None))


async def remove(conn: AsyncConnection, upload_id: str) -> None:
    await conn.execute(delete(uploads).where(uploads.c.id == upload_id))


async def list_stale(conn: AsyncConnection, older_than: datetime, limit: int) -> list[Upload]:
    """Uploads not touched since `older_than` and not leased, oldest first."""
    now = utcnow()
    query = (
        select(uploads)
        .where(uploads.c.updated_at < older_than,
               or_(uploads.c.lease_until.is_(None), uploads.c.lease_until < now))
        .order_by(uploads.c.updated_at)
        .limit(limit)
    )
    return [_upload(row) for row in await conn.execute(query)]
