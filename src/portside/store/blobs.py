"""Blobs and their links to repositories (the database is the one source of truth)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Blob
from portside.store import dialect
from portside.store.tables import blobs, repositories, repository_blobs


def _blob(row: Any) -> Blob:
    return Blob(id=row.id, digest=row.digest, size=row.size, storage_key=row.storage_key)


async def find_blob(conn: AsyncConnection, digest: str) -> Blob | None:
    """The blob with `digest` anywhere in the registry, or None."""
    row = (await conn.execute(select(blobs).where(blobs.c.digest == digest))).first()
    return _blob(row) if row else None


async def find_linked_blob(conn: AsyncConnection, repository_id: int, digest: str) -> Blob | None:
    """The blob with `digest` if it is linked to the repository, else None."""
    query = (
        select(blobs)
        .join(repository_blobs, repository_blobs.c.blob_id == blobs.c.id)
        .where(repository_blobs.c.repository_id == repository_id, blobs.c.digest == digest)
    )
    row = (await conn.execute(query)).first()
    return _blob(row) if row else None


async def find_linked_blob_by_name(conn: AsyncConnection, repository_name: str, digest: str) -> Blob | None:
    """The blob with `digest` if linked to the repository called `repository_name` (one query)."""
    query = (
        select(blobs)
        .join(repository_blobs, repository_blobs.c.blob_id == blobs.c.id)
        .join(repositories, repositories.c.id == repository_blobs.c.repository_id)
        .where(repositories.c.name == repository_name, blobs.c.digest == digest)
    )
    row = (await conn.execute(query)).first()
    return _blob(row) if row else None


async def add_blob(conn: AsyncConnection, digest: str, size: int, storage_key: str) -> Blob:
    """Record a stored blob, or return the existing row when another upload won the race."""
    await dialect.insert_ignore(conn, blobs, {"digest": digest, "size": size, "storage_key": storage_key,
                                              "status": "none", "created_at": utcnow()}, ["digest"])
    blob = await find_blob(conn, digest)
    assert blob is not None
    return blob


async def link(conn: AsyncConnection, repository_id: int, blob_id: int) -> None:
    """Link a blob to a repository (idempotent)."""
    await dialect.insert_ignore(conn, repository_blobs, {"repository_id": repository_id, "blob_id": blob_id,
                                                         "created_at": utcnow()}, ["repository_id", "blob_id"])


async def unlink(conn: AsyncConnection, repository_id: int, blob_id: int) -> bool:
    """Remove a blob's link to a repository; True if there was one."""
    result = await conn.execute(
        delete(repository_blobs).where(repository_blobs.c.repository_id == repository_id,
                                       repository_blobs.c.blob_id == blob_id)
    )
    return bool(result.rowcount)


async def linked_digests(conn: AsyncConnection, repository_id: int, digests: list[str]) -> dict[str, int]:
    """Of `digests`, those linked to the repository, mapped to their blob ids."""
    if not digests:
        return {}
    query = (
        select(blobs.c.digest, blobs.c.id)
        .join(repository_blobs, repository_blobs.c.blob_id == blobs.c.id)
        .where(repository_blobs.c.repository_id == repository_id, blobs.c.digest.in_(digests))
    )
    return {row.digest: row.id for row in await conn.execute(query)}


async def is_linked_anywhere(conn: AsyncConnection, blob_id: int) -> bool:
    """Whether any repository links the blob."""
    query = select(exists().where(repository_blobs.c.blob_id == blob_id))
    return bool((await conn.execute(query)).scalar())
