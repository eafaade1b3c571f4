"""BlobStorage: content-addressed blobs over any StorageDriver, hashed while written.

Bytes are hashed as they stream through `append`, once, and never held whole in
memory. hashlib objects cannot be serialised, so the running hash of an upload
lives in this process only (keyed by write id and offset); when a chunk or the
commit arrives at a process that lacks it (after a restart, or on another node),
the commit re-hashes the stored bytes once instead. Correctness never depends on
the cache.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from portside.domain.digest import Digest
from portside.domain.errors import DigestInvalid, SizeInvalid
from portside.storage import layout
from portside.storage.driver import ObjectInfo, StorageDriver, WriteState

_MAX_CACHED_HASHERS = 4096


@dataclass(slots=True)
class _RunningHash:
    offset: int
    hasher: Any  # hashlib sha256 object


class BlobStorage:
    """Hash-verified blob writes and reads on top of a driver."""

    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver
        self._hashes: OrderedDict[str, _RunningHash] = OrderedDict()

    async def begin(self) -> WriteState:
        """Start a pending blob."""
        state = await self.driver.begin_write()
        self._remember(state.write_id, _RunningHash(0, hashlib.sha256()))
        return state

    async def append(self, state: WriteState, chunks: AsyncIterator[bytes]) -> WriteState:
        """Append a chunk stream, hashing it on the way if this process holds the running hash."""
        running = self._hashes.pop(state.write_id, None)
        if running is not None and running.offset != state.size:
            running = None  # another process appended meanwhile: the cached hash is stale
        if running is None:
            new_state = await self.driver.append(state, chunks)
            return new_state
        hasher = running.hasher

        async def hashed() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                hasher.update(chunk)
                yield chunk

        new_state = await self.driver.append(state, hashed())
        self._remember(state.write_id, _RunningHash(new_state.size, hasher))
        return new_state

    async def commit(self, state: WriteState, digest: Digest, *, expected_size: int | None = None) -> str:
        """Verify the pending bytes against `digest` and make them visible; return the storage key.

        Raises DigestInvalid (and discards the bytes) on a mismatch, SizeInvalid when
        `expected_size` disagrees. A driver that commits in place (S3) is verified after
        completion, which is safe because its key is unique to this write.
        """
        if expected_size is not None and expected_size != state.size:
            await self.abort(state)
            raise SizeInvalid(f"blob size {state.size} does not match the expected {expected_size}")
        computed = await self._known_digest(state, digest)
        if computed is not None and computed != digest.hex:
            await self.abort(state)
            raise DigestInvalid(f"content digest {digest.algorithm}:{computed} does not match {digest}")
        key = await self.driver.commit(state, layout.blob_key(digest))
        self._hashes.pop(state.write_id, None)
        if computed is None:
            computed = await self._hash_stream(self.driver.read(key), digest)
            if computed != digest.hex:
                await self.driver.delete(key)
                raise DigestInvalid(f"content digest {digest.algorithm}:{computed} does not match {digest}")
        return key

    async def abort(self, state: WriteState) -> None:
        """Discard a pending blob (idempotent)."""
        self._hashes.pop(state.write_id, None)
        await self.driver.abort(state)

    async def _known_digest(self, state: WriteState, digest: Digest) -> str | None:
        running = self._hashes.get(state.write_id)
        if running is not None and running.offset == state.size and digest.algorithm == "sha256":
            return str(running.hasher.hexdigest())
        pending = self.driver.read_pending(state)
        if pending is None:
            return None
        return await self._hash_stream(pending, digest)

    @staticmethod
    async def _hash_stream(stream: AsyncIterator[bytes], digest: Digest) -> str:
        hasher = digest.new_hasher()
        async for chunk in stream:
            hasher.update(chunk)
        return hasher.hexdigest()

    def _remember(self, write_id: str, running: _RunningHash) -> None:
        self._hashes[write_id] = running
        while len(self._hashes) > _MAX_CACHED_HASHERS:
            self._hashes.popitem(last=False)

    async def stat(self, key: str) -> ObjectInfo | None:
        return await self.driver.stat(key)
