"""Manifests the registry must refuse, and how it says so."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from factories import OCI_MANIFEST, digest_of, image_manifest, push_blob, put_manifest

REPO = "proj/app"
SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
SCHEMA1_BODY = json.dumps({"schemaVersion": 1, "name": REPO, "tag": "v1", "architecture": "amd64",
                           "fsLayers": [], "history": []}).encode()


async def test_manifest_with_missing_layer_returns_400_manifest_blob_unknown(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [b"never pushed"])
    missing = digest_of(b"never pushed")
    response = await put_manifest(client, REPO, "v1", content)
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "code": "MANIFEST_BLOB_UNKNOWN", "message": f"blob {missing} is not in this repository",
        "detail": {"digest": missing},
    }]}


async def test_manifest_with_missing_config_returns_400_manifest_blob_unknown(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"layer")
    response = await put_manifest(client, REPO, "v1", image_manifest(b'{"missing":1}', [b"layer"]))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


async def test_manifest_with_blob_of_another_repository_returns_400(client: httpx.AsyncClient) -> None:
    await push_blob(client, "proj/other", b"{}")
    await push_blob(client, REPO, b"unrelated")
    response = await put_manifest(client, REPO, "v1", image_manifest(b"{}", []))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


async def test_refused_manifest_leaves_no_tag(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    assert (await put_manifest(client, REPO, "v1", image_manifest(b"{}", [b"missing"]))).status_code == 400
    response = await client.get(f"/v2/{REPO}/manifests/v1")
    assert response.status_code == 404


async def test_schema1_content_type_returns_400_manifest_invalid_naming_schema_1(
        client: httpx.AsyncClient) -> None:
    response = await put_manifest(client, REPO, "v1", SCHEMA1_BODY, SCHEMA1_SIGNED)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["code"] == "MANIFEST_INVALID"
    assert "schema 1" in errors[0]["message"]


@pytest.mark.parametrize("content_type", [SCHEMA1, "application/json", OCI_MANIFEST])
async def test_schema_version_1_returns_400_manifest_invalid_naming_schema_1(
        client: httpx.AsyncClient, content_type: str) -> None:
    response = await put_manifest(client, REPO, "v1", SCHEMA1_BODY, content_type)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["code"] == "MANIFEST_INVALID"
    assert "schema 1" in errors[0]["message"]


async def test_manifest_over_4_mib_returns_413_manifest_invalid(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    padding = "x" * (4 * 1024 * 1024)
    content = image_manifest(b"{}", [], annotations={"padding": padding})
    response = await put_manifest(client, REPO, "big", content)
    assert response.status_code == 413
    assert response.json() == {"errors": [{"code": "MANIFEST_INVALID",
                                           "message": "manifest exceeds the 4 MiB limit"}]}


async def test_streamed_manifest_over_4_mib_returns_413(client: httpx.AsyncClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * (1024 * 1024)

    response = await client.put(f"/v2/{REPO}/manifests/big", content=body(),
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


async def test_manifest_of_exactly_4_mib_is_not_refused_for_size(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    base = image_manifest(b"{}", [], annotations={"padding": ""})
    content = image_manifest(b"{}", [], annotations={"padding": "x" * (4 * 1024 * 1024 - len(base))})
    assert len(content) == 4 * 1024 * 1024
    response = await put_manifest(client, REPO, "edge", content)
    assert response.status_code == 201


async def test_invalid_json_returns_400_manifest_invalid(client: httpx.AsyncClient) -> None:
    response = await put_manifest(client, REPO, "v1", b"{not json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["code"] == "MANIFEST_INVALID"
    assert errors[0]["message"].startswith("manifest is not valid JSON")


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"", b"\xff\xfe"])
async def test_non_object_body_returns_400_manifest_invalid(client: httpx.AsyncClient, body: bytes) -> None:
    response = await put_manifest(client, REPO, "v1", body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


async def test_unknown_media_type_returns_400_manifest_invalid(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [], media_type=None)
    response = await put_manifest(client, REPO, "v1", content, "application/vnd.example.unknown+json")
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "code": "MANIFEST_INVALID",
        "message": "unsupported manifest media type 'application/vnd.example.unknown+json'",
    }]}


async def test_media_type_field_contradicting_content_type_returns_400(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [])
    response = await put_manifest(client, REPO, "v1", content, "application/vnd.docker.distribution.manifest.v2+json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


@pytest.mark.parametrize("change", [
    {"config": None},
    {"config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:nothex", "size": 2}},
    {"config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + "a" * 64, "size": -1}},
    {"layers": "not a list"},
    {"schemaVersion": 3},
    {"annotations": {"key": 1}},
    {"artifactType": 7},
])
async def test_structurally_invalid_manifest_returns_400_manifest_invalid(client: httpx.AsyncClient,
                                                                          change: dict[str, object]) -> None:
    await push_blob(client, REPO, b"{}")
    body = json.loads(image_manifest(b"{}", []))
    body.update(change)
    response = await put_manifest(client, REPO, "v1", json.dumps(body).encode())
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


@pytest.mark.parametrize("tag", ["-bad", ".hidden", "a" * 129, "with space", "semi;colon"])
async def test_put_manifest_with_invalid_tag_returns_400(client: httpx.AsyncClient, tag: str) -> None:
    await push_blob(client, REPO, b"{}")
    response = await put_manifest(client, REPO, tag, image_manifest(b"{}", []))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


async def test_get_manifest_with_invalid_tag_returns_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v2/{REPO}/manifests/-bad")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


async def test_tag_of_128_characters_is_accepted(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    tag = "t" * 128
    response = await put_manifest(client, REPO, tag, image_manifest(b"{}", []))
    assert response.status_code == 201
    assert (await client.get(f"/v2/{REPO}/manifests/{tag}")).status_code == 200


async def test_get_manifest_with_invalid_digest_returns_400_digest_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v2/{REPO}/manifests/sha256:short")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"
