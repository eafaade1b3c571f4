"""Pushing, pulling and deleting image manifests and artifacts (dist-spec "Pushing/Pulling manifests")."""

from __future__ import annotations

import json

import httpx
import pytest
from factories import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    EMPTY_CONFIG,
    OCI_EMPTY,
    OCI_MANIFEST,
    digest_of,
    image_manifest,
    push_artifact,
    push_blob,
    push_image,
    put_manifest,
    tags_of,
)

REPO = "proj/app"


async def test_put_manifest_by_tag_returns_201_with_location_and_digest(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    await push_blob(client, REPO, b"layer")
    content = image_manifest(b"{}", [b"layer"])
    response = await put_manifest(client, REPO, "v1", content)
    assert response.status_code == 201
    assert response.headers["location"] == f"/v2/{REPO}/manifests/{digest_of(content)}"
    assert response.headers["docker-content-digest"] == digest_of(content)
    assert "oci-subject" not in response.headers


async def test_get_manifest_by_tag_returns_exact_bytes(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "v1")
    response = await client.get(f"/v2/{REPO}/manifests/v1")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == OCI_MANIFEST
    assert response.headers["docker-content-digest"] == digest
    assert response.headers["content-length"] == str(len(content))


async def test_get_manifest_by_digest_returns_exact_bytes(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "v1")
    response = await client.get(f"/v2/{REPO}/manifests/{digest}")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["docker-content-digest"] == digest


async def test_head_manifest_by_tag_returns_headers_without_body(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "v1")
    response = await client.head(f"/v2/{REPO}/manifests/v1")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == OCI_MANIFEST
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["docker-content-digest"] == digest


async def test_head_manifest_by_digest_returns_200(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "v1")
    response = await client.head(f"/v2/{REPO}/manifests/{digest}")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(content))


async def test_put_manifest_by_digest_stores_it_untagged(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [])
    digest = digest_of(content)
    response = await put_manifest(client, REPO, digest, content)
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest
    assert (await client.get(f"/v2/{REPO}/manifests/{digest}")).content == content
    assert await tags_of(client, REPO) == []


async def test_put_manifest_by_sha512_digest_is_served_under_it(client: httpx.AsyncClient) -> None:
    config = await push_blob(client, REPO, b"{}", algorithm="sha512")
    layer = await push_blob(client, REPO, b"layer", algorithm="sha512")
    content = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                     "digest": config, "size": 2},
                          "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                      "digest": layer, "size": 5}]}).encode()
    digest = digest_of(content, "sha512")
    response = await put_manifest(client, REPO, digest, content)
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest
    got = await client.get(f"/v2/{REPO}/manifests/{digest}")
    assert got.content == content
    assert got.headers["docker-content-digest"] == digest


async def test_put_manifest_by_digest_with_other_content_returns_400_digest_invalid(
        client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [])
    claimed = digest_of(b"something else")
    response = await put_manifest(client, REPO, claimed, content)
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "code": "DIGEST_INVALID",
        "message": f"manifest digest {digest_of(content)} does not match the reference {claimed}",
    }]}


async def test_put_manifest_with_tag_query_returns_oci_tag_header(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [])
    digest = digest_of(content)
    response = await client.put(f"/v2/{REPO}/manifests/{digest}?tag=a&tag=b", content=content,
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201
    assert response.headers["oci-tag"] == "a, b"


async def test_put_manifest_with_tag_query_tags_it(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [])
    digest = digest_of(content)
    await client.put(f"/v2/{REPO}/manifests/{digest}?tag=a&tag=b", content=content,
                     headers={"Content-Type": OCI_MANIFEST})
    assert await tags_of(client, REPO) == ["a", "b"]
    assert (await client.get(f"/v2/{REPO}/manifests/b")).content == content


async def test_put_manifest_with_invalid_tag_query_returns_400(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [])
    response = await client.put(f"/v2/{REPO}/manifests/{digest_of(content)}?tag=-bad", content=content,
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


async def test_put_same_manifest_twice_is_idempotent(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "v1")
    again = await put_manifest(client, REPO, "v2", content)
    assert again.status_code == 201
    assert again.headers["docker-content-digest"] == digest
    assert await tags_of(client, REPO) == ["v1", "v2"]


async def test_put_tag_again_moves_it_to_the_new_manifest(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "latest", layers=[b"one"])
    second, digest = await push_image(client, REPO, "latest", layers=[b"two"])
    response = await client.get(f"/v2/{REPO}/manifests/latest")
    assert response.content == second
    assert response.headers["docker-content-digest"] == digest


async def test_get_unknown_tag_returns_404_manifest_unknown(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"/v2/{REPO}/manifests/nope")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": "MANIFEST_UNKNOWN",
                                           "message": "manifest nope unknown to repository 'proj/app'"}]}


async def test_get_unknown_digest_returns_404_manifest_unknown(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"/v2/{REPO}/manifests/{digest_of(b'nothing')}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


async def test_head_unknown_manifest_returns_404_without_body(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.head(f"/v2/{REPO}/manifests/nope")
    assert response.status_code == 404
    assert response.content == b""


async def test_get_manifest_of_unknown_repository_returns_404_name_unknown(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/proj/nothing/manifests/latest")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


async def test_delete_manifest_by_tag_returns_202_and_removes_only_the_tag(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "v1")
    await put_manifest(client, REPO, "v2", content)
    response = await client.delete(f"/v2/{REPO}/manifests/v1")
    assert response.status_code == 202
    assert (await client.get(f"/v2/{REPO}/manifests/v1")).status_code == 404
    assert (await client.get(f"/v2/{REPO}/manifests/{digest}")).content == content
    assert await tags_of(client, REPO) == ["v2"]


async def test_delete_manifest_by_digest_returns_202_and_removes_it(client: httpx.AsyncClient) -> None:
    _content, digest = await push_image(client, REPO, "v1")
    response = await client.delete(f"/v2/{REPO}/manifests/{digest}")
    assert response.status_code == 202
    got = await client.get(f"/v2/{REPO}/manifests/{digest}")
    assert got.status_code == 404
    assert got.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


async def test_delete_manifest_by_digest_removes_all_its_tags(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "v1")
    await put_manifest(client, REPO, "v2", content)
    await push_image(client, REPO, "other", layers=[b"other layer"])
    assert (await client.delete(f"/v2/{REPO}/manifests/{digest}")).status_code == 202
    assert await tags_of(client, REPO) == ["other"]
    assert (await client.get(f"/v2/{REPO}/manifests/v1")).status_code == 404
    assert (await client.get(f"/v2/{REPO}/manifests/v2")).status_code == 404


async def test_delete_unknown_tag_returns_404_manifest_unknown(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.delete(f"/v2/{REPO}/manifests/nope")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


async def test_delete_unknown_digest_returns_404_manifest_unknown(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.delete(f"/v2/{REPO}/manifests/{digest_of(b'nothing')}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


async def test_delete_manifest_of_unknown_repository_returns_404_name_unknown(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v2/proj/nothing/manifests/latest")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NAME_UNKNOWN"


async def test_docker_schema2_manifest_round_trips(client: httpx.AsyncClient) -> None:
    content, digest = await push_image(client, REPO, "docker", media_type=DOCKER_MANIFEST,
                                       config_type=DOCKER_CONFIG, layer_type=DOCKER_LAYER)
    response = await client.get(f"/v2/{REPO}/manifests/docker")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == DOCKER_MANIFEST
    assert response.headers["docker-content-digest"] == digest


async def test_manifest_without_media_type_is_served_with_put_content_type(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [], media_type=None)
    assert b"mediaType\": \"application/vnd.oci.image.manifest" not in content
    response = await put_manifest(client, REPO, "bare", content, OCI_MANIFEST)
    assert response.status_code == 201
    got = await client.get(f"/v2/{REPO}/manifests/bare")
    assert got.content == content
    assert got.headers["content-type"] == OCI_MANIFEST


async def test_docker_manifest_without_media_type_keeps_docker_content_type(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [], media_type=None, config_type=DOCKER_CONFIG)
    assert (await put_manifest(client, REPO, "bare", content, DOCKER_MANIFEST)).status_code == 201
    got = await client.head(f"/v2/{REPO}/manifests/bare")
    assert got.headers["content-type"] == DOCKER_MANIFEST


async def test_manifest_with_content_type_parameters_is_accepted(client: httpx.AsyncClient) -> None:
    await push_blob(client, REPO, b"{}")
    content = image_manifest(b"{}", [])
    response = await put_manifest(client, REPO, "v1", content, OCI_MANIFEST + "; charset=utf-8")
    assert response.status_code == 201
    assert (await client.get(f"/v2/{REPO}/manifests/v1")).headers["content-type"] == OCI_MANIFEST


async def test_oci_artifact_with_empty_config_round_trips(client: httpx.AsyncClient) -> None:
    content, digest = await push_artifact(client, REPO, "application/vnd.example.sbom+json", b"sbom",
                                          tag="sbom")
    assert json.loads(content)["config"] == {"mediaType": OCI_EMPTY, "digest": digest_of(EMPTY_CONFIG), "size": 2}
    response = await client.get(f"/v2/{REPO}/manifests/sbom")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["docker-content-digest"] == digest
    empty = await client.get(f"/v2/{REPO}/blobs/{digest_of(EMPTY_CONFIG)}")
    assert empty.content == b"{}"


@pytest.mark.parametrize("repo", ["proj/repo/sub", "proj/a/b/c/d", "p.r-o_j/re__po.x"])
async def test_multi_level_repository_names_work(client: httpx.AsyncClient, repo: str) -> None:
    content, digest = await push_image(client, repo, "v1")
    response = await client.get(f"/v2/{repo}/manifests/v1")
    assert response.status_code == 200
    assert response.content == content
    assert await tags_of(client, repo) == ["v1"]
    assert (await client.get(f"/v2/{repo}/blobs/{digest_of(b'layer')}")).content == b"layer"
