"""The storage-driver contract: a small key/value byte store with resumable writes.

Keys are '/'-separated ASCII chosen by `storage.layout` only. A driver knows no
digests and no SQL: hashing lives in `storage.blobs.BlobStorage`, metadata in the
database. Resumable writes follow one protocol:

    state = await driver.begin_write()                  # a new pending object
    state = await driver.append(state, chunks)           # any number of times
    key = await driver.commit(state, preferred_key)     # atomically visible at `key`
    await driver.abort(state)                           # or: discard it

`WriteState` is opaque, JSON-serialisable, and persisted by the caller (the upload
row), so any process holding it can continue the write: an upload survives a
restart and may move between server nodes. `append` must first discard any bytes
past `state.size` (left by a crash mid-append) so the object always equals what
the recorded state says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What `stat` and `list` report about a committed object."""

    key: str
    size: int


@dataclass(frozen=True, slots=True)
class WriteState:
    """A pending write: its id, how many bytes it holds and the driver's own data."""

    write_id: str
    size: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"write_id": self.write_id, "size": self.size, "data": self.data}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> WriteState:
        return cls(str(value["write_id"]), int(value["size"]), dict(value.get("data") or {}))


@runtime_checkable
class StorageDriver(Protocol):
    """Key/value byte store. Every method is safe to call from concurrent tasks."""

    name: str
    #: True when `commit` stores at `preferred_key` (it may then replace an object
    #: there); False when it commits in place at a key unique to the write.
    commits_to_preferred_key: bool

    def read(self, key: str, *, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """Stream an object's bytes [offset, offset+length). Raises FileNotFoundError if absent."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None:
        """Size of a committed object, or None."""
        ...

    async def put(self, key: str, data: bytes) -> None:
        """Store a small object atomically (replacing any)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove an object; deleting a missing key is not an error."""
        ...

    def list(self, prefix: str, *, start_after: str = "") -> AsyncIterator[ObjectInfo]:
        """Committed objects under `prefix`, in key order, after `start_after`."""
        ...

    def local_path(self, key: str) -> str | None:
        """A filesystem path for zero-copy serving, or None if the driver has none."""
        ...

    async def redirect_url(self, key: str, *, method: str, expires_in: int) -> str | None:
        """A presigned URL a client can fetch the object from directly, or None."""
        ...

    async def begin_write(self) -> WriteState:
        """Start a pending object."""
        ...

    async def append(self, state: WriteState, chunks: AsyncIterator[bytes]) -> WriteState:
        """Append every chunk; return the new state. On error, the old state stays valid."""
        ...

    def read_pending(self, state: WriteState) -> AsyncIterator[bytes] | None:
        """Stream the bytes of a pending write, or None if the driver cannot read them."""
        ...

    async def commit(self, state: WriteState, preferred_key: str) -> str:
        """Make the pending object visible atomically; return the key it is stored at."""
        ...

    async def abort(self, state: WriteState) -> None:
        """Discard a pending object; idempotent."""
        ...
