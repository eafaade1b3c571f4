"""Malformed names, tags, ranges and lengths: always a 4xx with a spec error body, never a 5xx."""

from __future__ import annotations

import json

import httpx
import pytest
from factories import admin_auth, asgi_request, digest_of, patch_chunk, push_blob, start_upload
from starlette.types import ASGIApp

from portside.core.config import Settings

DIGEST = digest_of(b"x")
LONG_NAME = "proj/" + "a" * 251  # 256 characters
ENDPOINTS = [
    ("GET", "/v2/{name}/tags/list"),
    ("GET", "/v2/{name}/manifests/latest"),
    ("PUT", "/v2/{name}/manifests/latest"),
    ("DELETE", "/v2/{name}/manifests/latest"),
    ("HEAD", "/v2/{name}/blobs/" + DIGEST),
    ("DELETE", "/v2/{name}/blobs/" + DIGEST),
    ("POST", "/v2/{name}/blobs/uploads/"),
    ("GET", "/v2/{name}/blobs/uploads/" + "0" * 32),
    ("GET", "/v2/{name}/referrers/" + DIGEST),
]
INVALID_NAMES = ["Proj/App", "proj/App", "alpine", "proj//app", "proj/app/", "-proj/app", "proj/a..b",
                 "proj/%2e%2e", "proj/%2e%2e/app", "proj/a%20b", "proj/caf%C3%A9", LONG_NAME]


@pytest.fixture
def auth(settings: Settings) -> tuple[str, str]:
    return admin_auth(settings)


async def test_uppercase_name_returns_400_name_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/Proj/app/tags/list")
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "code": "NAME_INVALID",
        "message": "invalid repository name 'Proj/app': components are lowercase letters and digits, "
                   "separated by '.', '_', '__' or '-', joined by '/'",
    }]}


async def test_name_without_project_returns_400_name_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/alpine/blobs/uploads/")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "NAME_INVALID", "message": "repository name 'alpine' has no project: use <project>/<repository>",
    }


async def test_name_over_255_characters_returns_400_name_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/v2/{LONG_NAME}/blobs/uploads/")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NAME_INVALID"


async def test_name_of_255_characters_is_accepted(client: httpx.AsyncClient) -> None:
    name = "proj/" + "a" * 250
    response = await client.post(f"/v2/{name}/blobs/uploads/")
    assert response.status_code == 202


@pytest.mark.parametrize("name", INVALID_NAMES)
async def test_invalid_name_returns_400_on_every_endpoint(client: httpx.AsyncClient, name: str) -> None:
    for method, template in ENDPOINTS:
        response = await client.request(method, template.format(name=name))
        assert response.status_code == 400, (method, template, response.text)
        if method != "HEAD":
            assert response.json()["errors"][0]["code"] == "NAME_INVALID", (method, template)


@pytest.mark.parametrize("path", [
    "/v2/proj/../etc/tags/list",
    "/v2/../proj/app/tags/list",
    "/v2/proj/app/../other/blobs/uploads/",
    "/v2/proj/./app/manifests/latest",
])
async def test_dot_segments_in_name_return_400_name_invalid(app: ASGIApp, auth: tuple[str, str], path: str) -> None:
    method = "POST" if path.endswith("/uploads/") else "GET"
    status, headers, body = await asgi_request(app, method, path, auth=auth)
    assert status == 400, body
    assert json.loads(body)["errors"][0]["code"] == "NAME_INVALID"
    assert headers["content-type"] == "application/json"


async def test_invalid_from_in_mount_returns_400_name_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/proj/app/blobs/uploads/", params={"mount": DIGEST, "from": "../x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NAME_INVALID"


@pytest.mark.parametrize("tag", ["-bad", ".bad", "a" * 129, "tag%20x", "t%C3%A4g"])
async def test_invalid_tag_in_get_returns_400_manifest_invalid(client: httpx.AsyncClient, tag: str) -> None:
    response = await client.get(f"/v2/proj/app/manifests/{tag}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


@pytest.mark.parametrize("value", ["bytes=abc", "5-2", "abc", "-5", "0-", "1-2-3", "0-99999999999999999999",
                                   "0-5/abc", "bytes 0-5/-1"])
async def test_garbage_content_range_is_refused_without_5xx(client: httpx.AsyncClient, value: str) -> None:
    location = await start_upload(client, "proj/app")
    response = await client.patch(location, content=b"abcdef", headers={"Content-Range": value})
    assert response.status_code in (400, 416), response.text
    assert response.json()["errors"][0]["code"] in ("BLOB_UPLOAD_INVALID", "SIZE_INVALID")


async def test_content_range_with_non_ascii_digits_returns_416(app: ASGIApp, auth: tuple[str, str],
                                                               client: httpx.AsyncClient) -> None:
    location = await start_upload(client, "proj/app")
    status, _headers, body = await asgi_request(app, "PATCH", location, auth=auth, body=b"ab",
                                                headers=[("Content-Range", "\u00b2-\u00b3")])
    assert status == 416, body
    assert json.loads(body)["errors"][0]["code"] == "BLOB_UPLOAD_INVALID"


async def test_content_range_end_before_start_returns_416_blob_upload_invalid(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, "proj/app")
    response = await client.patch(location, content=b"abcd", headers={"Content-Range": "5-2"})
    assert response.status_code == 416
    assert response.json() == {"errors": [{"code": "BLOB_UPLOAD_INVALID",
                                           "message": "invalid Content-Range '5-2': end before start"}]}


async def test_garbage_content_range_leaves_upload_unchanged(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, "proj/app")
    assert (await patch_chunk(client, location, b"abc", 0)).status_code == 202
    assert (await client.patch(location, content=b"def", headers={"Content-Range": "bytes=abc"})).status_code == 416
    status = await client.get(location)
    assert status.headers["range"] == "0-2"
    assert (await patch_chunk(client, location, b"def", 3)).status_code == 202


async def test_garbage_content_range_on_put_is_refused_without_5xx(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, "proj/app")
    response = await client.put(location, params={"digest": DIGEST}, content=b"x",
                                headers={"Content-Range": "bytes=abc"})
    assert response.status_code in (400, 416)


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 25, "²", " 1", ""])
async def test_invalid_content_length_on_patch_returns_400_size_invalid(app: ASGIApp, auth: tuple[str, str],
                                                                        client: httpx.AsyncClient, value: str) -> None:
    location = await start_upload(client, "proj/app")
    status, _headers, body = await asgi_request(app, "PATCH", location, auth=auth, body=b"x",
                                                headers=[("Content-Length", value)])
    assert status == 400, body
    assert json.loads(body)["errors"][0]["code"] == "SIZE_INVALID"


async def test_invalid_content_length_returns_full_size_invalid_body(client: httpx.AsyncClient) -> None:
    location = await start_upload(client, "proj/app")
    response = await client.patch(location, content=b"x", headers={"Content-Length": "abc"})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": "SIZE_INVALID", "message": "invalid Content-Length 'abc'"}]}


async def test_invalid_content_length_on_monolithic_upload_returns_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/proj/app/blobs/uploads/", params={"digest": DIGEST}, content=b"x",
                                 headers={"Content-Length": "abc"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "SIZE_INVALID"


async def test_invalid_content_length_on_manifest_put_returns_400(client: httpx.AsyncClient) -> None:
    response = await client.put("/v2/proj/app/manifests/v1", content=b"{}",
                                headers={"Content-Length": "abc",
                                         "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "SIZE_INVALID"


async def test_content_length_larger_than_body_returns_400_size_invalid(app: ASGIApp, auth: tuple[str, str],
                                                                        client: httpx.AsyncClient) -> None:
    location = await start_upload(client, "proj/app")
    status, _headers, body = await asgi_request(app, "PATCH", location, auth=auth, body=b"short",
                                                headers=[("Content-Length", "10")])
    assert status == 400, body
    assert json.loads(body)["errors"][0]["code"] == "SIZE_INVALID"


@pytest.mark.parametrize("digest", ["sha256:" + "g" * 64, "sha256:" + "a" * 64 + "\n", "sha1:" + "a" * 40,
                                    "sha256:", ":abc", "sha256:" + "a" * 65])
async def test_invalid_digest_on_monolithic_upload_returns_400_digest_invalid(client: httpx.AsyncClient,
                                                                              digest: str) -> None:
    response = await client.post("/v2/proj/app/blobs/uploads/", params={"digest": digest}, content=b"x")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


@pytest.mark.parametrize("value", ["bytes=abc-def", "bytes=1-2,5-6", "items=0-1", "bytes=-"])
async def test_unparseable_blob_range_returns_whole_blob(client: httpx.AsyncClient, value: str) -> None:
    digest = await push_blob(client, "proj/app", b"0123456789")
    response = await client.get(f"/v2/proj/app/blobs/{digest}", headers={"Range": value})
    assert response.status_code == 200
    assert response.content == b"0123456789"
