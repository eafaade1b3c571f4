"""Blob uploads: monolithic, chunked, streamed, mounted, cancelled (dist-spec "Pushing blobs")."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from factories import digest_of, patch_chunk, push_blob, push_chunked, start_upload

REPO = "proj/app"
DATA = b"The quick brown fox jumps over the lazy dog"  # 43 bytes
UPLOAD_LOCATION = re.compile(r"^/v2/proj/app/blobs/uploads/(?P<id>[0-9a-f]{32})$")


async def test_post_upload_returns_202_with_location_range_and_uuid(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/v2/{REPO}/blobs/uploads/")
    assert response.status_code == 202
    match = UPLOAD_LOCATION.match(response.headers["location"])
    assert match is not None, response.headers["location"]
    assert response.headers["docker-upload-uuid"] == match["id"]
    assert response.headers["range"] == "0-0"
    assert response.headers["content-length"] == "0"


async def test_post_upload_with_digest_returns_201_with_blob_location(client: httpx.AsyncClient) -> None:
    digest = digest_of(DATA)
    response = await client.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": digest}, content=DATA)
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/{REPO}/blobs/{digest}"
    assert response.headers["docker-content-digest"] == digest


async def test_monolithic_upload_makes_blob_readable(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.content == DATA


async def test_post_upload_with_wrong_digest_returns_400_digest_invalid(client: httpx.AsyncClient) -> None:
    wrong = digest_of(b"other bytes")
    response = await client.post(f"/v2/{REPO}/blobs/uploads/", params={"digest": wrong}, content=DATA)
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "code": "DIGEST_INVALID", "message": f"content digest {digest_of(DATA)} does not match {wrong}",
    }]}
    assert (await client.head(f"/v2/{REPO}/blobs/{wrong}")).status_code == 404


async def test_patch_with_content_range_returns_202_with_range(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await patch_chunk(client, location, DATA[:10], 0)
    assert response.status_code == 202
    assert response.headers["range"] == "0-9"
    assert response.headers["location"] == location
    response = await patch_chunk(client, location, DATA[10:25], 10)
    assert response.status_code == 202
    assert response.headers["range"] == "0-24"


async def test_patch_without_content_range_appends_streamed_bytes(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    first = await client.patch(location, content=DATA[:20])
    assert first.status_code == 202
    assert first.headers["range"] == "0-19"
    second = await client.patch(location, content=DATA[20:])
    assert second.headers["range"] == "0-42"
    done = await client.put(location, params={"digest": digest_of(DATA)})
    assert done.status_code == 201
    assert (await client.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA


async def test_patch_with_chunked_transfer_appends_streamed_bytes(client: httpx.AsyncClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield DATA[:7]
        yield DATA[7:]

    location = await start_upload(client, REPO)
    response = await client.patch(location, content=body())
    assert response.status_code == 202
    assert response.headers["range"] == "0-42"


async def test_patch_upload_with_gap_returns_416(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:10], 0)).status_code == 202
    response = await patch_chunk(client, location, DATA[20:30], 20)
    assert response.status_code == 416
    assert response.headers["range"] == "0-9"
    assert response.json() == {"errors": [{
        "code": "BLOB_UPLOAD_INVALID", "message": "chunk starts at 20, upload is at 10",
    }]}


async def test_patch_upload_repeating_a_chunk_returns_416(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:10], 0)).status_code == 202
    response = await patch_chunk(client, location, DATA[:10], 0)
    assert response.status_code == 416
    assert response.headers["range"] == "0-9"


async def test_first_chunk_not_at_zero_returns_416_with_range_0_0(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await patch_chunk(client, location, DATA[5:10], 5)
    assert response.status_code == 416
    assert response.headers["range"] == "0-0"


async def test_upload_continues_after_a_rejected_chunk(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:10], 0)).status_code == 202
    assert (await patch_chunk(client, location, DATA[30:], 30)).status_code == 416
    assert (await patch_chunk(client, location, DATA[10:], 10)).status_code == 202
    response = await client.put(location, params={"digest": digest_of(DATA)})
    assert response.status_code == 201
    assert (await client.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA


async def test_patch_shorter_than_content_range_returns_400_size_invalid(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await client.patch(location, content=DATA[:5], headers={"Content-Range": "0-9"})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": "SIZE_INVALID", "message": "received 5 bytes, expected 10"}]}
    status = await client.get(location)
    assert status.headers["range"] == "0-0"


async def test_get_upload_returns_204_with_range(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:12], 0)).status_code == 202
    response = await client.get(location)
    assert response.status_code == 204
    assert response.headers["range"] == "0-11"
    assert response.headers["location"] == location
    assert response.headers["docker-upload-uuid"] == location.rsplit("/", 1)[1]


async def test_get_new_upload_returns_range_0_0(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await client.get(location)
    assert response.status_code == 204
    assert response.headers["range"] == "0-0"


async def test_put_without_body_completes_chunked_upload(client: httpx.AsyncClient) -> None:
    digest = await push_chunked(client, REPO, DATA, chunk_size=8)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == DATA


async def test_put_with_final_chunk_returns_201_with_blob_location(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA[:20], 0)).status_code == 202
    digest = digest_of(DATA)
    response = await client.put(location, params={"digest": digest}, content=DATA[20:],
                                headers={"Content-Range": "20-42"})
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/{REPO}/blobs/{digest}"
    assert response.headers["docker-content-digest"] == digest
    assert (await client.get(f"/v2/{REPO}/blobs/{digest}")).content == DATA


async def test_put_with_whole_body_and_no_patch_returns_201(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await client.put(location, params={"digest": digest_of(DATA)}, content=DATA)
    assert response.status_code == 201
    assert (await client.get(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).content == DATA


async def test_put_with_wrong_digest_returns_400_digest_invalid(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA, 0)).status_code == 202
    response = await client.put(location, params={"digest": digest_of(b"different")})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


async def test_put_with_wrong_digest_removes_the_upload(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA, 0)).status_code == 202
    assert (await client.put(location, params={"digest": digest_of(b"different")})).status_code == 400
    response = await client.get(location)
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": "BLOB_UPLOAD_UNKNOWN",
                                           "message": "blob upload unknown to registry"}]}


async def test_put_with_wrong_digest_leaves_no_blob(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA, 0)).status_code == 202
    wrong = digest_of(b"different")
    assert (await client.put(location, params={"digest": wrong})).status_code == 400
    assert (await client.head(f"/v2/{REPO}/blobs/{wrong}")).status_code == 404
    assert (await client.head(f"/v2/{REPO}/blobs/{digest_of(DATA)}")).status_code == 404


async def test_put_without_digest_returns_400_digest_invalid(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await client.put(location, content=DATA)
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": "DIGEST_INVALID",
                                           "message": "PUT needs a digest query parameter"}]}


async def test_put_with_malformed_digest_returns_400_digest_invalid(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await client.put(location, params={"digest": "sha256:nothex"}, content=DATA)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


async def test_put_twice_returns_404_the_second_time(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await client.put(location, params={"digest": digest_of(DATA)}, content=DATA)).status_code == 201
    response = await client.put(location, params={"digest": digest_of(DATA)}, content=DATA)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


async def test_delete_upload_returns_204(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await patch_chunk(client, location, DATA, 0)).status_code == 202
    response = await client.delete(location)
    assert response.status_code == 204


async def test_get_upload_after_delete_returns_404_blob_upload_unknown(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await client.delete(location)).status_code == 204
    response = await client.get(location)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


async def test_patch_after_delete_returns_404_blob_upload_unknown(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    assert (await client.delete(location)).status_code == 204
    response = await patch_chunk(client, location, DATA, 0)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("upload_id", ["0" * 32, "not-an-upload-id", "A" * 32])
async def test_unknown_upload_id_returns_404_blob_upload_unknown(client: httpx.AsyncClient, method: str,
                                                                 upload_id: str) -> None:
    await start_upload(client, REPO)
    response = await client.request(method, f"/v2/{REPO}/blobs/uploads/{upload_id}",
                                    params={"digest": digest_of(DATA)} if method == "PUT" else None)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


async def test_upload_id_of_another_repository_returns_404(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    await start_upload(client, "proj/other")
    response = await client.get(location.replace("/proj/app/", "/proj/other/"))
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


async def test_mount_from_repository_with_blob_returns_201(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, "proj/source", DATA)
    response = await client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest, "from": "proj/source"})
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/{REPO}/blobs/{digest}"
    assert response.headers["docker-content-digest"] == digest


async def test_mounted_blob_is_readable_in_target(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, "proj/source", DATA)
    await client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest, "from": "proj/source"})
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == DATA


async def test_mount_from_repository_without_blob_returns_202_session(client: httpx.AsyncClient) -> None:
    await push_blob(client, "proj/source", b"another blob")
    response = await client.post(f"/v2/{REPO}/blobs/uploads/",
                                 params={"mount": digest_of(DATA), "from": "proj/source"})
    assert response.status_code == 202
    assert UPLOAD_LOCATION.match(response.headers["location"])
    assert response.headers["range"] == "0-0"
    follow = await client.put(response.headers["location"], params={"digest": digest_of(DATA)}, content=DATA)
    assert follow.status_code == 201


async def test_mount_from_unknown_repository_returns_202_session(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/v2/{REPO}/blobs/uploads/",
                                 params={"mount": digest_of(DATA), "from": "proj/nowhere"})
    assert response.status_code == 202
    assert UPLOAD_LOCATION.match(response.headers["location"])


async def test_mount_without_from_returns_202_session(client: httpx.AsyncClient) -> None:
    await push_blob(client, "proj/source", DATA)
    response = await client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": digest_of(DATA)})
    assert response.status_code == 202
    assert UPLOAD_LOCATION.match(response.headers["location"])


async def test_mount_with_invalid_digest_returns_400(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/v2/{REPO}/blobs/uploads/", params={"mount": "sha256:zz", "from": "proj/a"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


async def test_sha512_monolithic_upload_round_trips(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA, algorithm="sha512")
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.content == DATA
    assert response.headers["docker-content-digest"] == digest


async def test_sha512_chunked_upload_round_trips(client: httpx.AsyncClient) -> None:
    digest = await push_chunked(client, REPO, DATA, chunk_size=10, algorithm="sha512")
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.content == DATA
    assert response.headers["docker-content-digest"] == digest


async def test_sha512_upload_with_wrong_digest_returns_400(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, REPO)
    response = await client.put(location, params={"digest": digest_of(b"x", "sha512")}, content=DATA)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


async def test_upload_of_existing_blob_returns_201_again(client: httpx.AsyncClient) -> None:
    first = await push_blob(client, REPO, DATA)
    second = await push_blob(client, REPO, DATA)
    assert first == second
    assert (await client.get(f"/v2/{REPO}/blobs/{first}")).content == DATA
