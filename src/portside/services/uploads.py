"""Blob uploads: monolithic, chunked, resumable, mounted (dist-spec "Pushing blobs").

Transactions are short and never span the byte stream: a PATCH leases the upload
in one write, streams with no transaction open (extending the lease now and then
for long bodies), and records the new offset in a second write.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from portside.core.clock import utcnow
from portside.domain.byte_range import ByteRange
from portside.domain.digest import Digest
from portside.domain.errors import BlobUploadUnknown, RangeInvalid, SizeInvalid
from portside.domain.models import Blob, Repository, Upload
from portside.domain.reference import RepositoryName
from portside.services.audit import Actor
from portside.services.repositories import RepositoryResolver
from portside.storage.blobs import BlobStorage
from portside.storage.driver import WriteState
from portside.store import blobs as blob_store
from portside.store import repositories as repository_store
from portside.store import uploads as upload_store
from portside.store.database import Database

LEASE_SECONDS = 60.0
LEASE_REFRESH_SECONDS = 20.0


class UploadService:
    """Use cases of the /v2 upload endpoints."""

    def __init__(self, db: Database, blobs: BlobStorage, repositories: RepositoryResolver) -> None:
        self._db = db
        self._blobs = blobs
        self._repositories = repositories

    async def start(self, name: RepositoryName, actor: Actor | None = None) -> Upload:
        """Open a new upload session in the repository (created on first push)."""
        repository = await self._repositories.for_push(name, actor)
        state = await self._blobs.begin()
        async with self._db.write() as conn:
            return await upload_store.create(conn, uuid.uuid4().hex, repository.id, state.to_json())

    async def upload_whole(self, name: RepositoryName, digest: Digest, body: AsyncIterator[bytes],
                           *, content_length: int | None, actor: Actor | None = None) -> Blob:
        """A monolithic upload (POST ?digest=): stream, verify and link in one request.

        No upload row is written: nothing can resume it, and skipping it saves two write
        transactions per blob (SQLite has one writer). A process killed mid-stream leaves
        an unreferenced pending object behind for the storage sweep.
        """
        repository = await self._repositories.for_push(name, actor)
        state = await self._blobs.begin()
        try:
            state = await self._blobs.append(state, body)
            if content_length is not None and state.size != content_length:
                raise SizeInvalid(f"received {state.size} bytes, Content-Length said {content_length}")
            key = await self._blobs.commit(state, digest)
        except BaseException:
            await self._blobs.abort(state)
            raise
        return await self._record_blob(repository, digest, state.size, key)

    async def mount(self, name: RepositoryName, digest: Digest, source: RepositoryName,
                    actor: Actor | None = None) -> Blob | None:
        """Link a blob from `source` into `name` without moving bytes; None if `source` lacks it."""
        async with self._db.read() as conn:
            source_repo = await repository_store.find_repository(conn, source.value)
            blob = await blob_store.find_linked_blob(conn, source_repo.id, str(digest)) if source_repo else None
        if blob is None:
            return None
        repository = await self._repositories.for_push(name, actor)
        async with self._db.write() as conn:
            await blob_store.link(conn, repository.id, blob.id)
        return blob

    async def status(self, name: RepositoryName, upload_id: str) -> Upload:
        """The upload's current state; raises BlobUploadUnknown."""
        repository = await self._repositories.for_pull(name)
        async with self._db.read() as conn:
            upload = await upload_store.find(conn, repository.id, upload_id)
        if upload is None:
            raise BlobUploadUnknown()
        return upload

    async def append(self, name: RepositoryName, upload_id: str, body: AsyncIterator[bytes], *,
                     content_range: ByteRange | None, content_length: int | None) -> Upload:
        """Append one chunk; raises BlobUploadUnknown, RangeInvalid (416) or SizeInvalid."""
        repository, upload = await self._lease(name, upload_id)
        try:
            _check_range(upload, content_range)
            expected = content_range.length if content_range else content_length
            state = await self._write(upload, body, expected)
        except BaseException:
            async with self._db.write() as conn:
                await upload_store.release(conn, upload.id)
            raise
        async with self._db.write() as conn:
            await upload_store.advance(conn, upload.id, state.to_json(), state.size)
        return Upload(upload.id, repository.id, state.to_json(), state.size, upload.created_at, utcnow())

    async def finish(self, name: RepositoryName, upload_id: str, digest: Digest,
                     body: AsyncIterator[bytes] | None, *, content_length: int | None = None,
                     content_range: ByteRange | None = None) -> Blob:
        """Append an optional last chunk (`body` None: no body), verify `digest`, store and link the blob.

        On a digest mismatch raises DigestInvalid and removes the upload: nothing is
        left behind and the client must start over, as the spec says.
        """
        repository, upload = await self._lease(name, upload_id)
        try:
            state = WriteState.from_json(upload.state)
            if body is not None:
                _check_range(upload, content_range)
                state = await self._write(upload, body, content_range.length if content_range else content_length)
            key = await self._blobs.commit(state, digest)
        except (RangeInvalid, SizeInvalid):
            async with self._db.write() as conn:
                await upload_store.release(conn, upload.id)
            raise
        except BaseException:
            await self._discard(upload)
            raise
        return await self._record_blob(repository, digest, state.size, key, finished_upload=upload.id)

    async def _record_blob(self, repository: Repository, digest: Digest, size: int, key: str,
                           finished_upload: str | None = None) -> Blob:
        """Insert (or find) the blob row, link it, drop the finished upload row: one transaction."""
        async with self._db.write() as conn:
            blob = await blob_store.add_blob(conn, str(digest), size, key)
            await blob_store.link(conn, repository.id, blob.id)
            if finished_upload is not None:
                await upload_store.remove(conn, finished_upload)
        if blob.storage_key != key:
            await self._blobs.driver.delete(key)  # another upload stored the same bytes first
        return blob

    async def cancel(self, name: RepositoryName, upload_id: str) -> None:
        """Cancel an upload and discard its bytes; raises BlobUploadUnknown."""
        _repository, upload = await self._lease(name, upload_id)
        await self._discard(upload)

    async def remove_stale(self, max_age_seconds: float, *, limit: int = 500) -> int:
        """Discard uploads idle for longer than `max_age_seconds`; returns how many."""
        async with self._db.read() as conn:
            stale = await upload_store.list_stale(conn, utcnow() - timedelta(seconds=max_age_seconds), limit)
        for upload in stale:
            await self._discard(upload)
        return len(stale)

    async def _lease(self, name: RepositoryName, upload_id: str) -> tuple[Repository, Upload]:
        repository = await self._repositories.for_pull(name)
        async with self._db.write() as conn:
            upload = await upload_store.lease(conn, repository.id, upload_id, LEASE_SECONDS)
            if upload is None and await upload_store.find(conn, repository.id, upload_id) is not None:
                raise RangeInvalid("another request is writing to this upload")
        if upload is None:
            raise BlobUploadUnknown()
        return repository, upload

    async def _write(self, upload: Upload, body: AsyncIterator[bytes], expected: int | None) -> WriteState:
        state = WriteState.from_json(upload.state)
        new_state = await self._blobs.append(state, self._keep_leased(upload.id, body))
        written = new_state.size - state.size
        if expected is not None and written != expected:
            raise SizeInvalid(f"received {written} bytes, expected {expected}")
        return new_state

    async def _keep_leased(self, upload_id: str, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        deadline = time.monotonic() + LEASE_REFRESH_SECONDS
        async for chunk in body:
            yield chunk
            if time.monotonic() > deadline:
                async with self._db.write() as conn:
                    await upload_store.extend_lease(conn, upload_id, LEASE_SECONDS)
                deadline = time.monotonic() + LEASE_REFRESH_SECONDS

    async def _discard(self, upload: Upload) -> None:
        await self._blobs.abort(WriteState.from_json(upload.state))
        async with self._db.write() as conn:
            await upload_store.remove(conn, upload.id)


def _check_range(upload: Upload, content_range: ByteRange | None) -> None:
    """dist-spec: a chunk must start where the upload ends, else 416 with the current Range."""
    if content_range is not None and content_range.start != upload.size:
        raise RangeInvalid(
            f"chunk starts at {content_range.start}, upload is at {upload.size}",
            headers={"Range": f"0-{upload.size - 1}" if upload.size else "0-0"},
        )


