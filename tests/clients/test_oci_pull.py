"""The OCI pull client against a fake token-authenticated registry served over real HTTP:
the Bearer token flow, digest verification of manifests and blobs, and size bounds."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapter_support import serving
from portside.clients.oci import PullError, RegistryPullClient

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BLOB = b"layer bytes " * 100
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}).encode()
BASIC = "Basic " + base64.b64encode(b"robot$scan:secret").decode()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def fake_registry(*, realm_host: str | None = None, blob: bytes = BLOB) -> Starlette:
    """/v2 answers 401 + Bearer challenge unless the request carries the token `tok`, which
    /token hands out for the Basic credentials BASIC."""

    def challenge(request: Request) -> Response:
        host = realm_host or request.headers["host"]
        return Response(status_code=401, headers={
            "WWW-Authenticate": f'Bearer realm="http://{host}/token",service="fake"'})

    async def token(request: Request) -> Response:
        if request.headers.get("authorization") != BASIC:
            return Response(status_code=401)
        assert request.query_params["scope"] == "repository:proj/app:pull"
        return JSONResponse({"token": "tok"})

    async def manifest(request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer tok":
            return challenge(request)
        return Response(MANIFEST, media_type=OCI_MANIFEST)

    async def blob_handler(request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer tok":
            return challenge(request)
        return Response(blob, media_type="application/octet-stream")

    return Starlette(routes=[Route("/token", token), Route("/v2/proj/app/manifests/{reference}", manifest),
                             Route("/v2/proj/app/blobs/{digest}", blob_handler)])


async def test_the_token_flow_gets_a_pull_token_with_the_basic_credentials() -> None:
    async with serving(fake_registry()) as url, RegistryPullClient(url, BASIC) as registry:
        pulled = await registry.manifest("proj/app", digest_of(MANIFEST))
    assert (pulled.media_type, pulled.digest, pulled.content) == (OCI_MANIFEST, digest_of(MANIFEST), MANIFEST)


async def test_a_blob_is_streamed_into_the_file(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    async with serving(fake_registry()) as url, RegistryPullClient(url, BASIC) as registry:
        size = await registry.blob_to_file("proj/app", digest_of(BLOB), target)
    assert (size, target.read_bytes()) == (len(BLOB), BLOB)


async def test_a_blob_that_does_not_match_its_digest_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    async with serving(fake_registry(blob=b"tampered")) as url, RegistryPullClient(url, BASIC) as registry:
        with pytest.raises(PullError, match="does not match its digest"):
            await registry.blob_to_file("proj/app", digest_of(BLOB), target)
    assert not target.exists()


async def test_a_blob_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    async with serving(fake_registry()) as url, RegistryPullClient(url, BASIC, max_blob_bytes=100) as registry:
        with pytest.raises(PullError, match="exceeds 100 bytes"):
            await registry.blob_to_file("proj/app", digest_of(BLOB), target)
    assert not target.exists()


async def test_a_manifest_that_does_not_match_the_digest_is_refused() -> None:
    async with serving(fake_registry()) as url, RegistryPullClient(url, BASIC) as registry:
        with pytest.raises(PullError, match="the manifest's digest is"):
            await registry.manifest("proj/app", digest_of(b"another manifest"))


async def test_credentials_are_never_sent_to_a_realm_on_another_host() -> None:
    async with serving(fake_registry(realm_host="elsewhere.example")) as url, \
            RegistryPullClient(url, BASIC) as registry:
        with pytest.raises(PullError, match="is not on 127.0.0.1"):
            await registry.manifest("proj/app", "1.0")


async def test_wrong_credentials_fail_at_the_token_service() -> None:
    wrong = "Basic " + base64.b64encode(b"robot$scan:wrong").decode()
    async with serving(fake_registry()) as url, RegistryPullClient(url, wrong) as registry:
        with pytest.raises(PullError, match="refused a pull token"):
            await registry.manifest("proj/app", "1.0")
