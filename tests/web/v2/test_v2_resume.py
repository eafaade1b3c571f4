"""An upload survives a restart: a second Services over the same settings continues it.

The second instance has no in-process running hash, so finishing there proves the
digest is re-verified from the stored bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from factories import admin_auth, digest_of, patch_chunk, start_upload, stored_blob_files

from portside.app import create_app
from portside.container import build_services
from portside.core.config import Settings

REPO = "proj/app"
DATA = b"resumable upload payload " * 100  # 2500 bytes
HALF = len(DATA) // 2


@pytest.fixture
async def restarted(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second, independently built Services over the same data and database."""
    services = await build_services(settings)
    await services.start()
    transport = httpx.ASGITransport(app=create_app(settings, services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test",
                                     auth=admin_auth(settings)) as http:
            yield http
    finally:
        await services.close()


async def test_upload_status_is_visible_after_restart(client: httpx.AsyncClient,
                                                      restarted: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:HALF], 0)).status_code == 202
    response = await restarted.get(location)
    assert response.status_code == 204
    assert response.headers["range"] == f"0-{HALF - 1}"


async def test_upload_continues_with_patch_after_restart(client: httpx.AsyncClient,
                                                         restarted: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:HALF], 0)).status_code == 202
    response = await patch_chunk(restarted, location, DATA[HALF:], HALF)
    assert response.status_code == 202
    assert response.headers["range"] == f"0-{len(DATA) - 1}"


async def test_upload_finishes_after_restart_with_correct_content(client: httpx.AsyncClient,
                                                                  restarted: httpx.AsyncClient,
                                                                  settings: Settings) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:HALF], 0)).status_code == 202
    assert (await patch_chunk(restarted, location, DATA[HALF:], HALF)).status_code == 202
    done = await restarted.put(location, params={"digest": digest_of(DATA)})
    assert done.status_code == 201, done.text
    assert done.headers["docker-content-digest"] == digest_of(DATA)
    assert (await restarted.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA
    assert (await client.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA
    assert [p.read_bytes() for p in stored_blob_files(settings.data_dir)] == [DATA]


async def test_upload_finishes_after_restart_with_final_chunk_in_put(client: httpx.AsyncClient,
                                                                     restarted: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:HALF], 0)).status_code == 202
    done = await restarted.put(location, params={"digest": digest_of(DATA)}, content=DATA[HALF:],
                               headers={"Content-Range": f"{HALF}-{len(DATA) - 1}"})
    assert done.status_code == 201, done.text
    assert (await restarted.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA


async def test_sha512_upload_finishes_after_restart(client: httpx.AsyncClient,
                                                    restarted: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA, 0)).status_code == 202
    digest = digest_of(DATA, "sha512")
    done = await restarted.put(location, params={"digest": digest})
    assert done.status_code == 201, done.text
    assert (await restarted.get(f"/v2/{REPO}/blobs/{digest}")).content == DATA


async def test_wrong_digest_after_restart_returns_400_digest_invalid(client: httpx.AsyncClient,
                                                                     restarted: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:HALF], 0)).status_code == 202
    assert (await patch_chunk(restarted, location, DATA[HALF:], HALF)).status_code == 202
    wrong = digest_of(DATA[:-1] + b"?")
    response = await restarted.put(location, params={"digest": wrong})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


async def test_wrong_digest_after_restart_stores_nothing(client: httpx.AsyncClient,
                                                         restarted: httpx.AsyncClient,
                                                         settings: Settings) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA, 0)).status_code == 202
    wrong = digest_of(DATA[:-1] + b"?")
    assert (await restarted.put(location, params={"digest": wrong})).status_code == 400
    assert (await restarted.head(f"/v2/{REPO}/blobs/{wrong}")).status_code == 404
    assert (await client.head(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).status_code == 404
    assert (await restarted.get(location)).status_code == 404
    assert stored_blob_files(settings.data_dir) == []


async def test_first_instance_continues_after_second_appended(client: httpx.AsyncClient,
                                                              restarted: httpx.AsyncClient) -> None:
    third = len(DATA) // 3
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:third], 0)).status_code == 202
    assert (await patch_chunk(restarted, location, DATA[third:2 * third], third)).status_code == 202
    assert (await patch_chunk(client, location, DATA[2 * third:], 2 * third)).status_code == 202
    done = await client.put(location, params={"digest": digest_of(DATA)})
    assert done.status_code == 201, done.text
    assert (await client.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA
