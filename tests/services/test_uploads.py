"""UploadService rules that HTTP tests cannot reach directly: leases and stale cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from portside.core.clock import utcnow
from portside.core.config import Settings
from portside.domain.byte_range import ByteRange
from portside.domain.digest import Digest
from portside.domain.errors import BlobUploadUnknown, RangeInvalid
from portside.domain.reference import parse_repository_name
from portside.services.bundle import Services
from portside.store.tables import uploads

NAME = parse_repository_name("proj/app")


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _pending_files(settings: Settings) -> list[Path]:
    root = settings.storage_root / "uploads"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


async def test_remove_stale_discards_old_uploads_and_their_bytes(services: Services, settings: Settings) -> None:
    upload = await services.uploads.start(NAME)
    await services.uploads.append(NAME, upload.id, _chunks(b"abc"), content_range=None, content_length=3)
    fresh = await services.uploads.start(NAME)
    async with services.db.write() as conn:
        await conn.execute(update(uploads).where(uploads.c.id == upload.id)
                           .values(updated_at=utcnow() - timedelta(days=2)))
    assert len(_pending_files(settings)) == 2

    removed = await services.uploads.remove_stale(24 * 3600)

    assert removed == 1
    assert len(_pending_files(settings)) == 1
    with pytest.raises(BlobUploadUnknown):
        await services.uploads.status(NAME, upload.id)
    assert (await services.uploads.status(NAME, fresh.id)).size == 0


async def test_append_while_leased_is_refused(services: Services) -> None:
    upload = await services.uploads.start(NAME)
    async with services.db.write() as conn:
        await conn.execute(update(uploads).where(uploads.c.id == upload.id)
                           .values(lease_until=utcnow() + timedelta(seconds=60)))
    with pytest.raises(RangeInvalid):
        await services.uploads.append(NAME, upload.id, _chunks(b"x"), content_range=None, content_length=1)


async def test_expired_lease_does_not_block_a_later_append(services: Services) -> None:
    upload = await services.uploads.start(NAME)
    async with services.db.write() as conn:
        await conn.execute(update(uploads).where(uploads.c.id == upload.id)
                           .values(lease_until=utcnow() - timedelta(seconds=1)))
    state = await services.uploads.append(NAME, upload.id, _chunks(b"xy"), content_range=ByteRange(0, 1),
                                          content_length=2)
    assert state.size == 2


async def test_failed_append_keeps_the_previous_state(services: Services) -> None:
    upload = await services.uploads.start(NAME)
    await services.uploads.append(NAME, upload.id, _chunks(b"good"), content_range=None, content_length=4)

    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await services.uploads.append(NAME, upload.id, broken(), content_range=None, content_length=None)
    await services.uploads.append(NAME, upload.id, _chunks(b"!"), content_range=ByteRange(4, 4), content_length=1)
    blob = await services.uploads.finish(NAME, upload.id, Digest.of(b"good!"), None)
    assert blob.size == 5
