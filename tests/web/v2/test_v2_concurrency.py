"""Concurrent pushes of the same content and racing tag moves leave one coherent state."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from factories import (
    EMPTY_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
    image_manifest,
    index_manifest,
    patch_chunk,
    push_blob,
    put_manifest,
    start_upload,
    stored_blob_files,
    tags_of,
)
from sqlalchemy import func, select

from portside.core.config import Settings
from portside.services.bundle import Services
from portside.store.tables import blobs, repository_blobs

REPO = "proj/app"
DATA = bytes(range(256)) * 64  # 16 KiB
WRITERS = 8


@pytest.fixture(autouse=True)
async def _signed_in(client: httpx.AsyncClient) -> None:
    """One request first, so the gathered requests do not all verify the password at once."""
    assert (await client.get("/v2/")).status_code == 200


async def _blob_rows(services: Services) -> int:
    async with services.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(blobs))).scalar_one())


async def _link_rows(services: Services) -> int:
    async with services.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(repository_blobs))).scalar_one())


async def _monolithic(client: httpx.AsyncClient, data: bytes) -> httpx.Response:
    return await client.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": digest_of(data)}, content=data)


async def _chunked(client: httpx.AsyncClient, data: bytes, chunk_size: int = 4096) -> httpx.Response:
    location = await start_upload(client, REPO)
    for start in range(0, len(data), chunk_size):
        response = await patch_chunk(client, location, data[start:start + chunk_size], start)
        assert response.status_code == 202, response.text
    return await client.put(location, params={"digest": digest_of(data)})


async def test_concurrent_monolithic_uploads_of_one_blob_all_return_201(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(_monolithic(client, DATA) for _ in range(WRITERS)))
    assert [r.status_code for r in responses] == [201] * WRITERS
    assert {r.headers["docker-content-digest"] for r in responses} == {digest_of(DATA)}


async def test_concurrent_monolithic_uploads_store_one_file(client: httpx.AsyncClient, settings: Settings) -> None:
    await asyncio.gather(*(_monolithic(client, DATA) for _ in range(WRITERS)))
    files = stored_blob_files(settings.data_dir)
    assert len(files) == 1
    assert files[0].read_bytes() == DATA


async def test_concurrent_monolithic_uploads_record_one_blob_row(client: httpx.AsyncClient,
                                                                 services: Services) -> None:
    await asyncio.gather(*(_monolithic(client, DATA) for _ in range(WRITERS)))
    assert await _blob_rows(services) == 1
    assert await _link_rows(services) == 1
    assert (await client.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA


async def test_concurrent_chunked_uploads_of_one_blob_all_return_201(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(_chunked(client, DATA) for _ in range(WRITERS)))
    assert [r.status_code for r in responses] == [201] * WRITERS


async def test_concurrent_chunked_uploads_store_one_file_and_row(client: httpx.AsyncClient, settings: Settings,
                                                                 services: Services) -> None:
    await asyncio.gather(*(_chunked(client, DATA) for _ in range(WRITERS)))
    files = stored_blob_files(settings.data_dir)
    assert len(files) == 1
    assert files[0].read_bytes() == DATA
    assert await _blob_rows(services) == 1
    assert (await client.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA


async def test_concurrent_uploads_leave_no_pending_uploads(client: httpx.AsyncClient, settings: Settings) -> None:
    await asyncio.gather(*(_monolithic(client, DATA) for _ in range(WRITERS // 2)),
                         *(_chunked(client, DATA) for _ in range(WRITERS // 2)))
    uploads = settings.data_dir / "storage" / "uploads"
    assert not uploads.exists() or [p for p in uploads.rglob("*") if p.is_file()] == []


async def test_concurrent_uploads_of_different_blobs_store_each(client: httpx.AsyncClient, settings: Settings,
                                                                services: Services) -> None:
    payloads = [DATA + bytes([i]) for i in range(WRITERS)]
    responses = await asyncio.gather(*(_monolithic(client, data) for data in payloads))
    assert [r.status_code for r in responses] == [201] * WRITERS
    assert len(stored_blob_files(settings.data_dir)) == WRITERS
    assert await _blob_rows(services) == WRITERS


async def test_concurrent_uploads_to_new_repositories_of_one_project(client: httpx.AsyncClient) -> None:
    repos = [f"proj/new{i}" for i in range(WRITERS)]
    digests = await asyncio.gather(*(push_blob(client, repo, DATA) for repo in repos))
    assert set(digests) == {digest_of(DATA)}
    catalog = await client.get("/v2/_catalog")
    assert catalog.json()["repositories"] == sorted(repos)


async def _observe(client: httpx.AsyncClient, manifests: dict[str, bytes]) -> None:
    """GET t and tags/list agree: t is listed iff it resolves to one of `manifests`."""
    got = await client.get(f"/v2/{REPO}/manifests/t")
    tags = await tags_of(client, REPO)
    if got.status_code == 200:
        assert got.headers["docker-content-digest"] in manifests
        assert got.content == manifests[got.headers["docker-content-digest"]]
        assert "t" in tags
    else:
        assert got.status_code == 404, got.text
        assert got.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        assert "t" not in tags
    head = await client.head(f"/v2/{REPO}/manifests/t")
    assert head.status_code == got.status_code
    if got.status_code == 200:
        assert head.headers["docker-content-digest"] == got.headers["docker-content-digest"]


async def test_racing_tag_moves_and_deletes_leave_a_coherent_tag(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, EMPTY_CONFIG)
    await push_blob(client, REPO, b"layer a")
    await push_blob(client, REPO, b"layer b")
    a = image_manifest(EMPTY_CONFIG, [b"layer a"])
    b = image_manifest(EMPTY_CONFIG, [b"layer b"])
    manifests = {digest_of(a): a, digest_of(b): b}
    for _ in range(30):
        responses = await asyncio.gather(
            put_manifest(client, REPO, "t", a),
            put_manifest(client, REPO, "t", b),
            client.delete(f"/v2/{REPO}/manifests/{digest_of(a)}"),
            put_manifest(client, REPO, "t", a),
            client.delete(f"/v2/{REPO}/manifests/{digest_of(a)}"),
            put_manifest(client, REPO, "t", b),
        )
        for response in responses:
            assert response.status_code < 500, response.text
            assert response.status_code in (201, 202, 404), response.text
        await _observe(client, manifests)


async def test_racing_pushes_of_one_manifest_to_many_tags_tag_all(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, EMPTY_CONFIG)
    content = image_manifest(EMPTY_CONFIG, [])
    names = [f"tag{i}" for i in range(WRITERS)]
    responses = await asyncio.gather(*(put_manifest(client, REPO, name, content) for name in names))
    assert [r.status_code for r in responses] == [201] * WRITERS
    assert await tags_of(client, REPO) == sorted(names)


async def test_index_push_racing_child_delete_returns_201_or_400_never_5xx(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, EMPTY_CONFIG)
    child = image_manifest(EMPTY_CONFIG, [])
    index = index_manifest([(child, OCI_MANIFEST)])
    for _ in range(20):
        assert (await put_manifest(client, REPO, "child", child)).status_code == 201
        pushed, deleted = await asyncio.gather(put_manifest(client, REPO, "index", index, OCI_INDEX),
                                               client.delete(f"/v2/{REPO}/manifests/{digest_of(child)}"))
        assert deleted.status_code == 202, deleted.text
        assert pushed.status_code in (201, 400), pushed.text
        if pushed.status_code == 400:
            assert pushed.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
        else:
            assert (await client.delete(f"/v2/{REPO}/manifests/{digest_of(index)}")).status_code == 202
