"""One conformance suite for every StorageDriver (see conftest.driver_case).

Each test ends by checking that the store holds exactly what the test committed:
no pending upload, tail object or upload directory may survive a commit or abort.
"""

from __future__ import annotations

import hashlib
import json
import random
import urllib.request
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from pydantic import SecretStr

from portside.core.config import Settings
from portside.domain.digest import Digest
from portside.storage import layout
from portside.storage.driver import ObjectInfo, StorageDriver, WriteState

if TYPE_CHECKING:  # conftest is not importable at run time (no package), only for checkers
    from conftest import DriverCase

MiB = 1024 * 1024
PART = 5 * MiB  # the part size conftest gives the S3 driver


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def read_all(driver: StorageDriver, key: str, **kwargs: Any) -> bytes:
    return b"".join([chunk async for chunk in driver.read(key, **kwargs)])


async def sha256_of(driver: StorageDriver, key: str) -> str:
    hasher = hashlib.sha256()
    async for chunk in driver.read(key):
        hasher.update(chunk)
    return hasher.hexdigest()


async def listed(driver: StorageDriver, prefix: str = "", start_after: str = "") -> list[ObjectInfo]:
    return [info async for info in driver.list(prefix, start_after=start_after)]


def json_round_trip(state: WriteState) -> WriteState:
    """What the upload row does: persist the state as JSON and load it back."""
    return WriteState.from_json(json.loads(json.dumps(state.to_json())))


async def commit(driver: StorageDriver, state: WriteState, expected: bytes) -> str:
    key = await driver.commit(state, layout.blob_key(Digest.of(expected)))
    if driver.commits_to_preferred_key:
        assert key == layout.blob_key(Digest.of(expected))
    else:
        assert key == layout.in_place_key(state.write_id)  # in place: the data is not copied
    return key


async def assert_committed(driver: StorageDriver, key: str, expected: bytes) -> None:
    assert await driver.stat(key) == ObjectInfo(key, len(expected))
    assert await sha256_of(driver, key) == hashlib.sha256(expected).hexdigest()


async def assert_clean(case: DriverCase, committed: Iterable[str]) -> None:
    """The store holds exactly `committed`, and no write is pending."""
    assert [info.key for info in await listed(case.driver)] == sorted(committed)
    assert await case.pending_uploads() == []


# -- committed objects -------------------------------------------------------------------


async def test_put_read_stat_delete_round_trip(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    await driver.put("a/b/c", b"hello")
    assert await read_all(driver, "a/b/c") == b"hello"
    assert await driver.stat("a/b/c") == ObjectInfo("a/b/c", 5)
    await driver.put("a/b/c", b"replaced, longer")
    assert await read_all(driver, "a/b/c") == b"replaced, longer"
    await driver.put("a/empty", b"")
    assert await driver.stat("a/empty") == ObjectInfo("a/empty", 0)
    assert await read_all(driver, "a/empty") == b""
    await assert_clean(driver_case, ["a/b/c", "a/empty"])
    await driver.delete("a/b/c")
    await driver.delete("a/empty")
    assert await driver.stat("a/b/c") is None
    with pytest.raises(FileNotFoundError):
        await read_all(driver, "a/b/c")
    await assert_clean(driver_case, [])


SIZE = 2 * MiB + 12345


@pytest.mark.parametrize(("offset", "length"), [
    (0, None), (7, None), (7, 100), (0, 0), (SIZE - 1, None), (SIZE - 10, 100), (SIZE, None),
    (SIZE + 5, 3), (MiB - 1, MiB + 2),
])
async def test_read_with_offset_and_length(driver_case: DriverCase, offset: int, length: int | None) -> None:
    data = payload(SIZE)
    await driver_case.driver.put("obj", data)
    chunks = [chunk async for chunk in driver_case.driver.read("obj", offset=offset, length=length)]
    end = None if length is None else offset + length
    assert b"".join(chunks) == data[offset:end]
    if driver_case.kind == "s3":
        assert all(0 < len(chunk) <= MiB for chunk in chunks)  # streamed in ~1 MiB chunks, not buffered
    await assert_clean(driver_case, ["obj"])


async def test_missing_key(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    assert await driver.stat("no/such/key") is None
    await driver.delete("no/such/key")  # not an error
    for kwargs in ({}, {"offset": 3}, {"offset": 0, "length": 4}, {"length": 0}):
        with pytest.raises(FileNotFoundError):
            await read_all(driver, "no/such/key", **kwargs)
    await assert_clean(driver_case, [])


async def test_list_with_prefix_and_start_after(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    keys = ["blobs/sha256/ab/3", "other/x", "blobs/sha256/aa/1", "blobsx", "blobs/sha512/cd/4",
            "blobs/sha256/ab/2"]
    for index, key in enumerate(keys):
        await driver.put(key, b"x" * index)
    sizes = {key: index for index, key in enumerate(keys)}

    def infos(*wanted: str) -> list[ObjectInfo]:
        return [ObjectInfo(key, sizes[key]) for key in wanted]

    assert await listed(driver) == infos(*sorted(keys))
    assert await listed(driver, "blobs/sha256/") == infos("blobs/sha256/aa/1", "blobs/sha256/ab/2",
                                                          "blobs/sha256/ab/3")
    assert await listed(driver, "blobs/sha256/a") == infos("blobs/sha256/aa/1", "blobs/sha256/ab/2",
                                                           "blobs/sha256/ab/3")
    assert await listed(driver, "blobs/sha256/", start_after="blobs/sha256/ab/2") == infos("blobs/sha256/ab/3")
    assert await listed(driver, "blobs", start_after="blobs/sha512/cd/4") == infos("blobsx")
    assert await listed(driver, "nothing/") == []
    await assert_clean(driver_case, keys)


async def test_local_path_and_redirect_url(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    await driver.put("blob", b"redirected bytes")
    path = driver.local_path("blob")
    if path is not None:
        assert await anyio.Path(path).read_bytes() == b"redirected bytes"
    url = await driver.redirect_url("blob", method="GET", expires_in=60)
    if driver_case.kind == "s3":
        assert path is None
        assert url is not None  # conftest enables redirects for S3
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: ASYNC210 - test only
            assert response.read() == b"redirected bytes"
        assert await driver.redirect_url("blob", method="PUT", expires_in=60) is None
    else:
        assert url is None
    await assert_clean(driver_case, ["blob"])


# -- resumable writes --------------------------------------------------------------------


async def test_write_in_one_byte_chunks_single_append(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    data = payload(3000)
    state = await driver.begin_write()
    state = await driver.append(state, stream(*(data[i:i + 1] for i in range(len(data)))))
    assert state.size == len(data)
    key = await commit(driver, state, data)
    await assert_committed(driver, key, data)
    await assert_clean(driver_case, [key])


async def test_write_in_one_byte_appends(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    data = payload(40, seed=1)
    state = await driver.begin_write()
    for index in range(len(data)):
        state = json_round_trip(await driver.append(state, stream(data[index:index + 1])))
        assert state.size == index + 1
    key = await commit(driver, state, data)
    await assert_committed(driver, key, data)
    await assert_clean(driver_case, [key])


UNEVEN = [3 * MiB, 7 * MiB, 10 * MiB, 1]  # 20 MiB + 1 byte: several parts and a tiny tail


@pytest.mark.parametrize("appends", ["single", "one-per-chunk"])
async def test_write_20_mib_in_uneven_chunks(driver_case: DriverCase, appends: str) -> None:
    driver = driver_case.driver
    data = payload(sum(UNEVEN), seed=2)
    chunks, start = [], 0
    for size in UNEVEN:
        chunks.append(data[start:start + size])
        start += size
    state = await driver.begin_write()
    if appends == "single":
        state = await driver.append(state, stream(*chunks))
    else:
        for chunk in chunks:
            state = json_round_trip(await driver.append(state, stream(chunk)))
    assert state.size == len(data)
    key = await commit(driver, state, data)
    await assert_committed(driver, key, data)
    await assert_clean(driver_case, [key])


async def test_resume_on_a_fresh_driver_from_json_state(driver_case: DriverCase) -> None:
    data = payload(PART + 3 * MiB + 777, seed=3)  # a full part, then a tail, on S3
    first, second, third = data[:PART + 1024], data[PART + 1024:PART + 2 * MiB], data[PART + 2 * MiB:]
    state = await driver_case.driver.begin_write()
    state = json_round_trip(await driver_case.driver.append(state, stream(first[:PART], first[PART:])))
    other = await driver_case.fresh_driver()  # another node: it only has the JSON
    state = json_round_trip(await other.append(state, stream(second)))
    last = await driver_case.fresh_driver()
    state = json_round_trip(await last.append(state, stream(third)))
    key = await commit(last, state, data)
    await assert_committed(driver_case.driver, key, data)
    await assert_clean(driver_case, [key])


@pytest.mark.parametrize("chunks", [(), (b"",), (b"", b"")])
async def test_empty_write_commits(driver_case: DriverCase, chunks: tuple[bytes, ...]) -> None:
    driver = driver_case.driver
    state = await driver.begin_write()
    state = await driver.append(state, stream(*chunks))
    assert state.size == 0
    key = await commit(driver, state, b"")
    await assert_committed(driver, key, b"")
    assert await read_all(driver, key) == b""
    await assert_clean(driver_case, [key])


@pytest.mark.parametrize("size", [0, 1000, PART + MiB])
async def test_abort_leaves_nothing_behind(driver_case: DriverCase, size: int) -> None:
    driver = driver_case.driver
    state = await driver.begin_write()
    if size:
        state = await driver.append(state, stream(payload(size)))
    await driver.abort(state)
    await assert_clean(driver_case, [])
    await driver.abort(state)  # idempotent
    await assert_clean(driver_case, [])


class Disconnect(Exception):
    pass


async def dying(*chunks: bytes) -> AsyncIterator[bytes]:
    """A client that sends `chunks` and then drops the connection."""
    for chunk in chunks:
        yield chunk
    raise Disconnect


@pytest.mark.parametrize("recorded", [3 * MiB, PART + MiB], ids=["tail-only", "part-and-tail"])
@pytest.mark.parametrize("lost", [(1000,), (2 * MiB, 1000), (PART, 1000)],
                         ids=["small", "fills-a-part-then-tail", "over-a-part-then-tail"])
@pytest.mark.parametrize("how", ["returned-but-not-recorded", "died-mid-append"])
async def test_append_from_an_old_state_after_a_crash(driver_case: DriverCase, recorded: int,
                                                      lost: tuple[int, ...], how: str) -> None:
    """An append whose result is never recorded must not disturb the recorded state.

    The lost appends end with a small chunk so that, on S3, they leave a new tail
    after filling a part: the recorded state's tail must survive that.
    """
    driver = driver_case.driver
    base, retry = payload(recorded, seed=4), payload(MiB + 3, seed=6)
    lost_chunks = [payload(size, seed=5 + index) for index, size in enumerate(lost)]
    # Two chunks, so that on S3 "part-and-tail" really is one part plus a 1 MiB tail.
    state = json_round_trip(await driver.append(await driver.begin_write(), stream(base[:PART], base[PART:])))
    if how == "returned-but-not-recorded":
        assert (await driver.append(state, stream(*lost_chunks))).size == recorded + sum(lost)
    else:
        with pytest.raises(Disconnect):
            await driver.append(state, dying(*lost_chunks))
    state = await driver.append(state, stream(retry))  # the client retries from the recorded offset
    assert state.size == recorded + len(retry)
    key = await commit(driver, state, base + retry)
    await assert_committed(driver, key, base + retry)
    await assert_clean(driver_case, [key])


async def test_read_pending(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    data = payload(PART + 10, seed=7)
    state = await driver.append(await driver.begin_write(), stream(data))
    pending = driver.read_pending(state)
    if driver_case.kind == "filesystem":
        assert pending is not None
        assert b"".join([chunk async for chunk in pending]) == data
    else:
        assert pending is None  # S3 cannot read parts before the upload completes
    await driver.abort(state)
    await assert_clean(driver_case, [])


# -- S3 specifics ------------------------------------------------------------------------


@pytest.mark.parametrize("driver_case", ["s3"], indirect=True)
@pytest.mark.parametrize("size", [100, PART + 100, 3 * PART])
async def test_s3_commits_in_place_without_copying(driver_case: DriverCase, size: int) -> None:
    driver = driver_case.driver
    data = payload(size, seed=8)
    state = await driver.append(await driver.begin_write(), stream(data[:size // 2], data[size // 2:]))
    parts = state.data["parts"]
    assert all(part["size"] >= PART for part in parts)
    assert state.data["tail"] < PART and state.size == sum(part["size"] for part in parts) + state.data["tail"]

    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    driver_case.driver.client.meta.events.register("before-call.s3", record)  # type: ignore[attr-defined]
    key = await commit(driver, state, data)
    assert key == layout.in_place_key(state.write_id)
    assert not {"CopyObject", "UploadPartCopy"} & set(calls)
    assert calls.count("UploadPart") <= 1  # at most the tail is sent again, never the parts
    if not parts:
        assert "CompleteMultipartUpload" not in calls
    await assert_committed(driver, key, data)
    # The prefix is applied in the bucket and stripped from what the driver returns.
    head = await driver_case.admin.head_object(Bucket=driver_case.s3["bucket"], Key=f"registry/{key}")
    assert head["ContentLength"] == size
    await assert_clean(driver_case, [key])


@pytest.mark.parametrize("driver_case", ["s3"], indirect=True)
async def test_s3_commit_retry_after_success(driver_case: DriverCase) -> None:
    driver = driver_case.driver
    for data in (payload(10), payload(PART + 10)):
        state = await driver.append(await driver.begin_write(), stream(data))
        key = await commit(driver, state, data)
        assert await commit(driver, state, data) == key  # the first reply was lost; the retry succeeds
        await assert_committed(driver, key, data)
    assert len(await listed(driver)) == 2
    assert await driver_case.pending_uploads() == []


def test_s3_from_settings() -> None:
    from portside.storage.s3 import S3Driver

    settings = Settings(storage="s3", s3_bucket="bucket", s3_endpoint_url="http://s3.local", s3_region="eu-west-1",
                        s3_access_key_id="id", s3_secret_access_key=SecretStr("secret"), s3_prefix="p/",
                        s3_part_size=16 * MiB, s3_redirect=True)
    driver = S3Driver.from_settings(settings)
    assert (driver.bucket, driver.endpoint_url, driver.region, driver.prefix, driver.part_size, driver.redirect) == (
        "bucket", "http://s3.local", "eu-west-1", "p/", 16 * MiB, True)
    with pytest.raises(ValueError):
        S3Driver(bucket="b", part_size=MiB)
