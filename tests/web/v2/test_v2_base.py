"""The base endpoint, unknown routes and unsupported methods (dist-spec "Determining support")."""

from __future__ import annotations

import httpx
import pytest

API_VERSION = "registry/2.0"


async def test_get_base_returns_200_with_api_version_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/")
    assert response.status_code == 200
    assert response.headers["docker-distribution-api-version"] == API_VERSION
    assert response.json() == {}


async def test_get_base_without_trailing_slash_returns_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2")
    assert response.status_code == 200
    assert response.headers["docker-distribution-api-version"] == API_VERSION


async def test_head_base_returns_200_without_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/v2/")
    assert response.status_code == 200
    assert response.headers["docker-distribution-api-version"] == API_VERSION
    assert response.content == b""


async def test_error_responses_carry_api_version_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/proj/missing/tags/list")
    assert response.status_code == 404
    assert response.headers["docker-distribution-api-version"] == API_VERSION


async def test_unknown_path_under_v2_returns_404_with_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/proj/app/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": [{"code": "NAME_UNKNOWN",
                                           "message": "no /v2 endpoint at '/v2/proj/app/nothing-here'"}]}


async def test_unknown_path_under_blobs_returns_404_with_json_errors(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/proj/app/blobs/uploads/a/b")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


async def test_patch_manifest_returns_405_unsupported_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.patch("/v2/proj/app/manifests/latest", content=b"{}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PUT, DELETE"
    assert response.json() == {"errors": [{"code": "UNSUPPORTED", "message": "PATCH is not supported here"}]}


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("POST", "/v2/", "GET, HEAD"),
    ("DELETE", "/v2/_catalog", "GET"),
    ("PUT", "/v2/proj/app/tags/list", "GET"),
    ("POST", "/v2/proj/app/referrers/sha256:" + "a" * 64, "GET"),
    ("PUT", "/v2/proj/app/blobs/sha256:" + "a" * 64, "GET, HEAD, DELETE"),
])
async def test_wrong_method_returns_405(client: httpx.AsyncClient, method: str, path: str, allow: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"


async def test_post_to_an_upload_id_returns_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/proj/app/blobs/uploads/" + "0" * 32)
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED"

