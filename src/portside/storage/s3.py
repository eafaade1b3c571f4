"""S3 driver: any S3-compatible service, pending writes are multipart uploads.

A write is a multipart upload created at `begin_write` on the object's final key,
`objects/<write_id>`, so `commit` completes it in place and never copies the data
again. Parts must be at least `part_size` (S3 needs >= 5 MiB for all but the last),
so bytes that do not fill a part yet — the tail — live in a small object under
`uploads/<write_id>/` and are merged into the next part. Everything else a node
needs is in `WriteState.data`, so any node can continue a write after a restart:

    {"upload_id": str, "parts": [{"PartNumber", "ETag", "size"}, ...], "tail": int,
     "stale_tail": int | None}

Crash consistency: an append that dies (or whose returned state is never recorded)
must leave the previously recorded state valid. Part numbers only grow past the
recorded parts, and re-uploading a part number overwrites it. The tail object is
named after the number of completed parts (`<tail key>.<parts>`): an append that
fills no part rewrites the same tail with the old tail as its prefix (and a reader
takes only the recorded length), while an append that fills a part writes a new
tail object and leaves the old one for the old state. The superseded tail is
deleted by the next append (which proves the newer state was recorded), and every
tail is deleted by `commit` and `abort`.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from portside.storage import layout
from portside.storage.driver import ObjectInfo, WriteState

if TYPE_CHECKING:
    from portside.core.config import Settings

READ_CHUNK = 1024 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
#: Every streamed `read` holds a pooled connection until it is consumed, so the
#: botocore default of 10 would cap concurrent blob downloads.
MAX_POOL_CONNECTIONS = 64
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class _Body(io.RawIOBase):
    """A seekable reader over a buffer we own, given to botocore as a request body.

    With bytes or a bytearray, botocore/aiohttp/asyncio make up to 2.5 copies of a
    part; a file-like body is hashed and sent in small reads, so a part is only
    ever held once. `close` is a no-op so botocore can rewind it for a retry.
    """

    def __init__(self, data: bytearray) -> None:
        self._view = memoryview(data)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), len(self._view) - self._position))
        buffer[:count] = self._view[self._position:self._position + count]
        self._position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        pass

    def release(self) -> None:
        # botocore/aiohttp may keep the request (and so this object) alive in a
        # reference cycle; without the view the part buffer is freed right away.
        self._view.release()


async def _send(call: Any, data: bytearray, **params: Any) -> Any:
    """`await call(Body=..., **params)` with `data` as a streamed, released body."""
    body = _Body(data)
    try:
        return await call(Body=body, **params)
    finally:
        body.release()


class S3Driver:
    """StorageDriver over one bucket; keys are stored under `prefix`.

    Keys given to and returned by the driver never include `prefix`. The client is
    created by `open` (or `async with`) and shared by all calls until `close`.
    """

    name = "s3"
    commits_to_preferred_key = False

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 prefix: str = "", part_size: int = 8 * 1024 * 1024, redirect: bool = False) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (the S3 minimum)")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.prefix = prefix
        self.part_size = part_size
        self.redirect = redirect
        self._credentials = (access_key_id, secret_access_key)
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Driver:
        if not settings.s3_bucket:
            raise ValueError("storage 's3' needs s3_bucket")
        secret = settings.s3_secret_access_key
        return cls(bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url,
                   region=settings.s3_region, access_key_id=settings.s3_access_key_id,
                   secret_access_key=secret.get_secret_value() if secret else None,
                   prefix=settings.s3_prefix, part_size=settings.s3_part_size, redirect=settings.s3_redirect)

    async def open(self) -> None:
        """Create the client; idempotent."""
        if self._client is not None:
            return
        config = AioConfig(
            signature_version="s3v4",
            # Custom endpoints (MinIO, Ceph, moto...) rarely resolve bucket subdomains.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 5},
            max_pool_connections=MAX_POOL_CONNECTIONS,
            # Recent botocore adds CRC trailers by default, which many S3-compatible
            # services reject; send checksums only where the API requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        stack = AsyncExitStack()
        self._client = await stack.enter_async_context(get_session().create_client(
            "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config,
            aws_access_key_id=self._credentials[0], aws_secret_access_key=self._credentials[1]))
        self._stack = stack

    async def close(self) -> None:
        """Close the client and its connections; idempotent."""
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> S3Driver:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    @property
    def client(self) -> Any:
        """The open aiobotocore client (for diagnostics and tests)."""
        if self._client is None:
            raise RuntimeError("S3Driver is not open: call open() or use 'async with'")
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + key

    # -- committed objects ---------------------------------------------------------------

    async def read(self, key: str, *, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        if length == 0:
            if await self.stat(key) is None:
                raise FileNotFoundError(key)
            return
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            params["Range"] = f"bytes={offset}-{end}"
        try:
            response = await self.client.get_object(**params)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(key) from error
            if error.response.get("Error", {}).get("Code") != "InvalidRange":
                raise
            # 416: the range starts at or past the end (any range on an empty object
            # does). That is an empty read of an existing object, like a file's.
            if await self.stat(key) is None:
                raise FileNotFoundError(key) from error
            return
        async with response["Body"] as body:
            # aiohttp hands out whatever arrived; regroup into ~1 MiB chunks so the
            # server makes few, large sends.
            buffer = bytearray()
            while chunk := await body.read(READ_CHUNK - len(buffer)):
                buffer += chunk
                if len(buffer) >= READ_CHUNK:
                    yield bytes(buffer)
                    buffer = bytearray()
            if buffer:
                yield bytes(buffer)

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            response = await self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _missing(error):
                return None
            raise
        return ObjectInfo(key, int(response["ContentLength"]))

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    async def delete(self, key: str) -> None:
        await self.client.delete_object(Bucket=self.bucket, Key=self._key(key))  # S3 deletes are idempotent

    async def list(self, prefix: str, *, start_after: str = "") -> AsyncIterator[ObjectInfo]:
        params = {"Bucket": self.bucket, "Prefix": self._key(prefix)}
        if start_after:
            params["StartAfter"] = self._key(start_after)
        # ListObjectsV2 returns keys in ascending UTF-8 order, and ours are ASCII.
        async for page in self.client.get_paginator("list_objects_v2").paginate(**params):
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"][len(self.prefix):], int(item["Size"]))

    def local_path(self, key: str) -> str | None:
        return None

    async def redirect_url(self, key: str, *, method: str, expires_in: int) -> str | None:
        # A presigned URL is bound to one HTTP method; other methods are served directly.
        operation = {"GET": "get_object", "HEAD": "head_object"}.get(method.upper())
        if not self.redirect or operation is None:
            return None
        url: str = await self.client.generate_presigned_url(
            operation, Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=expires_in)
        return url

    # -- pending writes ------------------------------------------------------------------

    def _tail_key(self, write_id: str, parts: int) -> str:
        return self._key(layout.upload_tail_key(write_id, parts))

    async def begin_write(self) -> WriteState:
        write_id = uuid.uuid4().hex
        response = await self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self._key(layout.in_place_key(write_id)))
        return WriteState(write_id, 0, {"upload_id": response["UploadId"], "parts": [], "tail": 0,
                                        "stale_tail": None})

    async def append(self, state: WriteState, chunks: AsyncIterator[bytes]) -> WriteState:
        """Append `chunks`, uploading a part whenever a full `part_size` is buffered.

        Memory stays at one part plus one chunk. On error nothing the old state
        refers to has changed, so the caller may retry from it.
        """
        upload_id: str = state.data["upload_id"]
        parts: list[dict[str, Any]] = [dict(part) for part in state.data["parts"]]
        tail: int = state.data["tail"]
        if state.size != sum(part["size"] for part in parts) + tail:
            raise ValueError(f"inconsistent state for write {state.write_id}")
        stale = state.data.get("stale_tail")
        if stale is not None:
            # The caller recorded this state, so the tail an older state used is garbage.
            await self.client.delete_object(Bucket=self.bucket, Key=self._tail_key(state.write_id, stale))
        first_parts = len(parts)
        buffer: bytearray | None = None  # loaded on the first byte: empty appends cost nothing
        async for chunk in chunks:
            if not chunk:
                continue
            if buffer is None:
                buffer = await self._read_tail(state.write_id, first_parts, tail)
            buffer += chunk
            if len(buffer) >= self.part_size:
                # Upload the whole buffer (part_size plus at most one chunk) instead of
                # slicing it: a slice would copy a part while the buffer is still alive.
                number = len(parts) + 1
                response = await self._upload_part(upload_id, state.write_id, number, buffer)
                parts.append({"PartNumber": number, "ETag": response["ETag"], "size": len(buffer)})
                buffer = bytearray()
        if buffer is None:
            return WriteState(state.write_id, state.size, {**state.data, "stale_tail": None})
        if buffer:
            await _send(self.client.put_object, buffer, Bucket=self.bucket,
                        Key=self._tail_key(state.write_id, len(parts)))
        crossed = len(parts) > first_parts
        data = {"upload_id": upload_id, "parts": parts, "tail": len(buffer),
                "stale_tail": first_parts if crossed and tail else None}
        return WriteState(state.write_id, sum(part["size"] for part in parts) + len(buffer), data)

    async def _read_tail(self, write_id: str, parts: int, size: int) -> bytearray:
        """The first `size` bytes of the tail written after `parts` parts."""
        if size == 0:
            return bytearray()
        key = self._tail_key(write_id, parts)
        try:
            # A crashed append may have extended this object; the recorded size rules.
            response = await self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{size - 1}")
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(f"pending write {write_id} is gone") from error
            raise
        data, filled = bytearray(size), 0
        async with response["Body"] as body:
            with memoryview(data) as view:
                while filled < size and (count := await body.readinto(view[filled:])):
                    filled += count
        if filled != size:
            raise OSError(f"tail of write {write_id} holds {filled} bytes, expected {size}")
        return data

    async def _upload_part(self, upload_id: str, write_id: str, number: int, body: bytearray) -> Any:
        try:
            return await _send(self.client.upload_part, body, Bucket=self.bucket,
                               Key=self._key(layout.in_place_key(write_id)), UploadId=upload_id,
                               PartNumber=number)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(f"pending write {write_id} is gone") from error
            raise

    def read_pending(self, state: WriteState) -> AsyncIterator[bytes] | None:
        return None  # S3 cannot read the parts of an unfinished multipart upload

    async def commit(self, state: WriteState, preferred_key: str) -> str:
        """Complete the upload at `objects/<write_id>` and return that key.

        `preferred_key` is ignored (`commits_to_preferred_key` is False). A write
        smaller than one part becomes a single PutObject and its upload is aborted.
        A retry after a commit that completed but did not return succeeds.
        """
        key = layout.in_place_key(state.write_id)
        upload_id: str = state.data["upload_id"]
        parts: list[dict[str, Any]] = list(state.data["parts"])
        tail: int = state.data["tail"]
        small = not parts
        try:
            if small:
                body = await self._read_tail(state.write_id, 0, tail)
                await _send(self.client.put_object, body, Bucket=self.bucket, Key=self._key(key))
            else:
                if tail:  # only the last part may be smaller than the minimum
                    body = await self._read_tail(state.write_id, len(parts), tail)
                    number = len(parts) + 1
                    response = await self._upload_part(upload_id, state.write_id, number, body)
                    parts.append({"PartNumber": number, "ETag": response["ETag"], "size": tail})
                # Listing the parts explicitly drops any a crashed append left past them.
                await self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=self._key(key), UploadId=upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]}
                                               for p in parts]})
        except (FileNotFoundError, ClientError) as error:
            if isinstance(error, ClientError) and not _missing(error):
                raise
            # The tail or the upload is gone: fine if an earlier commit finished (the
            # key is unique to this write, so only this write can have filled it).
            info = await self.stat(key)
            if info is None or info.size != state.size:
                raise FileNotFoundError(f"pending write {state.write_id} is gone") from error
        if small:
            await self._abort_upload(state)
        await self._delete_tails(state.write_id)
        return key

    async def abort(self, state: WriteState) -> None:
        await self._abort_upload(state)
        await self._delete_tails(state.write_id)

    async def _abort_upload(self, state: WriteState) -> None:
        try:
            await self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._key(layout.in_place_key(state.write_id)),
                UploadId=state.data["upload_id"])
        except ClientError as error:
            if not _missing(error):
                raise

    async def _delete_tails(self, write_id: str) -> None:
        # Listed rather than derived from the state: a crashed append may have left
        # tails for part counts the recorded state never reached. DeleteObjects is
        # avoided because it needs a checksum header some S3-compatibles reject.
        async for info in self.list(layout.upload_tail_prefix(write_id)):
            await self.delete(info.key)
