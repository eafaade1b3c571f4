"""Blob reads and deletes (dist-spec "Pulling blobs", "Deleting blobs")."""

from __future__ import annotations

import httpx
import pytest
from factories import digest_of, push_blob

REPO = "proj/app"
DATA = b"0123456789abcdefghij"  # 20 bytes


async def test_head_blob_returns_200_with_length_and_digest(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.head(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 200
    assert response.headers["content-length"] == "20"
    assert response.headers["docker-content-digest"] == digest
    assert response.content == b""


async def test_get_blob_returns_exact_bytes_with_headers(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-length"] == "20"
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["content-type"] == "application/octet-stream"


async def test_get_empty_blob_returns_200_with_zero_length(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, b"")
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 200
    assert response.headers["content-length"] == "0"
    assert response.content == b""


async def test_get_blob_with_range_returns_206_with_content_range(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Range": "bytes=2-5"})
    assert response.status_code == 206
    assert response.content == b"2345"
    assert response.headers["content-range"] == "bytes 2-5/20"
    assert response.headers["content-length"] == "4"
    assert response.headers["docker-content-digest"] == digest


async def test_get_blob_with_open_range_returns_the_rest(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Range": "bytes=15-"})
    assert response.status_code == 206
    assert response.content == b"fghij"
    assert response.headers["content-range"] == "bytes 15-19/20"


async def test_get_blob_with_suffix_range_returns_last_bytes(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Range": "bytes=-3"})
    assert response.status_code == 206
    assert response.content == b"hij"
    assert response.headers["content-range"] == "bytes 17-19/20"


async def test_get_blob_with_range_past_end_is_clamped(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Range": "bytes=18-1000"})
    assert response.status_code == 206
    assert response.content == b"ij"
    assert response.headers["content-range"] == "bytes 18-19/20"


@pytest.mark.parametrize("value", ["bytes=20-30", "bytes=100-", "bytes=5-2", "bytes=-0"])
async def test_get_blob_with_unsatisfiable_range_returns_416(client: httpx.AsyncClient, value: str) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}", headers={"Range": value})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */20"


async def test_head_blob_with_range_returns_206_without_body(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.head(f"/v2/{REPO}/blobs/{digest}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.headers["content-length"] == "10"
    assert response.content == b""


async def test_get_unknown_blob_returns_404_blob_unknown(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, DATA)
    missing = digest_of(b"not pushed")
    response = await client.get(f"/v2/{REPO}/blobs/{missing}")
    assert response.status_code == 404
    assert response.json() == {"errors": [{
        "code": "BLOB_UNKNOWN", "message": f"blob {missing} unknown to repository 'proj/app'",
    }]}


async def test_head_unknown_blob_returns_404_without_body(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, DATA)
    response = await client.head(f"/v2/{REPO}/blobs/{digest_of(b'other')}")
    assert response.status_code == 404
    assert response.content == b""


async def test_get_blob_of_unknown_repository_returns_404_name_unknown(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v2/proj/nothing/blobs/{digest_of(DATA)}")
    assert response.status_code == 404
    assert response.json() == {"errors": [{
        "code": "NAME_UNKNOWN", "message": "repository 'proj/nothing' not known to registry",
    }]}


async def test_blob_of_another_repository_is_not_visible(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, "proj/one", DATA)
    await push_blob(client, "proj/two", b"something else")
    response = await client.get(f"/v2/proj/two/blobs/{digest}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


async def test_get_blob_with_invalid_digest_returns_400_digest_invalid(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/sha256:abc")
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "code": "DIGEST_INVALID", "message": "invalid sha256 digest: expected 64 lowercase hex characters",
    }]}


@pytest.mark.parametrize("digest", ["md5:" + "a" * 32, "sha256:" + "A" * 64, "nocolon", "sha256:" + "a" * 63])
async def test_get_blob_with_malformed_digest_returns_400(client: httpx.AsyncClient, digest: str) -> None:
    await push_blob(client, REPO, DATA)
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


async def test_delete_blob_returns_202(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    response = await client.delete(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 202
    assert response.content == b""


async def test_get_blob_after_delete_returns_404_blob_unknown(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    assert (await client.delete(f"/v2/{REPO}/blobs/{digest}")).status_code == 202
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


async def test_delete_blob_keeps_it_in_other_repositories(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, "proj/one", DATA)
    await push_blob(client, "proj/two", DATA)
    assert (await client.delete(f"/v2/proj/one/blobs/{digest}")).status_code == 202
    response = await client.get(f"/v2/proj/two/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == DATA


async def test_delete_unknown_blob_returns_404_blob_unknown(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, DATA)
    response = await client.delete(f"/v2/{REPO}/blobs/{digest_of(b'never pushed')}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


async def test_delete_blob_twice_returns_404_the_second_time(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA)
    assert (await client.delete(f"/v2/{REPO}/blobs/{digest}")).status_code == 202
    response = await client.delete(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 404


async def test_delete_blob_of_unknown_repository_returns_404_name_unknown(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"/v2/proj/nothing/blobs/{digest_of(DATA)}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


async def test_sha512_blob_is_served_under_its_digest(client: httpx.AsyncClient) -> None:
    digest = await push_blob(client, REPO, DATA, algorithm="sha512")
    assert digest.startswith("sha512:")
    response = await client.get(f"/v2/{REPO}/blobs/{digest}")
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["docker-content-digest"] == digest
