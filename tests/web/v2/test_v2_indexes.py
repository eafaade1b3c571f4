"""Image indexes and Docker manifest lists, and Accept negotiation for them."""

from __future__ import annotations

import httpx
import pytest
from factories import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
    image_manifest,
    index_manifest,
    push_image,
    push_index,
    put_manifest,
    tags_of,
)

REPO = "proj/multi"
IMAGE_ONLY_ACCEPT = f"{OCI_MANIFEST}, {DOCKER_MANIFEST}"


async def _two_platforms(client: httpx.AsyncClient) -> list[tuple[bytes, str]]:
    amd64, _ = await push_image(client, REPO, "amd64", layers=[b"amd64 layer"])
    arm64, _ = await push_image(client, REPO, "arm64", layers=[b"arm64 layer"])
    return [(amd64, OCI_MANIFEST), (arm64, OCI_MANIFEST)]


async def test_put_oci_index_returns_201(client: httpx.AsyncClient) -> None:
    children = await _two_platforms(client)
    content = index_manifest(children)
    response = await put_manifest(client, REPO, "latest", content, OCI_INDEX)
    assert response.status_code == 201
    assert response.headers["docker-content-digest"] == digest_of(content)


async def test_get_oci_index_returns_exact_bytes_and_type(client: httpx.AsyncClient) -> None:
    content, digest = await push_index(client, REPO, "latest", await _two_platforms(client))
    response = await client.get(f"/v2/{REPO}/manifests/latest")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == OCI_INDEX
    assert response.headers["docker-content-digest"] == digest


async def test_get_index_by_digest_returns_it(client: httpx.AsyncClient) -> None:
    content, digest = await push_index(client, REPO, "latest", await _two_platforms(client))
    response = await client.get(f"/v2/{REPO}/manifests/{digest}")
    assert response.content == content


async def test_index_children_are_pullable_by_digest(client: httpx.AsyncClient) -> None:
    children = await _two_platforms(client)
    await push_index(client, REPO, "latest", children)
    for content, _ in children:
        response = await client.get(f"/v2/{REPO}/manifests/{digest_of(content)}")
        assert response.status_code == 200
        assert response.content == content


async def test_index_with_missing_child_returns_400_manifest_blob_unknown(client: httpx.AsyncClient) -> None:
    (present, present_type), _ = await _two_platforms(client)
    absent = image_manifest(b"{}", [b"never"])
    response = await put_manifest(client, REPO, "latest", index_manifest([(present, present_type),
                                                                          (absent, OCI_MANIFEST)]), OCI_INDEX)
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "code": "MANIFEST_BLOB_UNKNOWN", "message": f"manifest {digest_of(absent)} is not in this repository",
        "detail": {"digest": digest_of(absent)},
    }]}


async def test_index_with_child_of_another_repository_returns_400(client: httpx.AsyncClient) -> None:
    child, _ = await push_image(client, "proj/elsewhere", "v1")
    await push_image(client, REPO, "v1", layers=[b"local"])
    response = await put_manifest(client, REPO, "latest", index_manifest([(child, OCI_MANIFEST)]), OCI_INDEX)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"


async def test_empty_index_is_accepted(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    content = index_manifest([])
    assert (await put_manifest(client, REPO, "empty", content, OCI_INDEX)).status_code == 201
    assert (await client.get(f"/v2/{REPO}/manifests/empty")).content == content


async def test_index_without_manifests_list_returns_400_manifest_invalid(client: httpx.AsyncClient) -> None:
    response = await put_manifest(client, REPO, "bad", b'{"schemaVersion":2,"mediaType":"%s"}' % OCI_INDEX.encode(),
                                  OCI_INDEX)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


async def test_docker_manifest_list_round_trips(client: httpx.AsyncClient) -> None:
    amd64, _ = await push_image(client, REPO, "amd64", layers=[b"a"], media_type=DOCKER_MANIFEST,
                                config_type=DOCKER_CONFIG, layer_type=DOCKER_LAYER)
    arm64, _ = await push_image(client, REPO, "arm64", layers=[b"b"], media_type=DOCKER_MANIFEST,
                                config_type=DOCKER_CONFIG, layer_type=DOCKER_LAYER)
    content, digest = await push_index(client, REPO, "list", [(amd64, DOCKER_MANIFEST), (arm64, DOCKER_MANIFEST)],
                                       media_type=DOCKER_MANIFEST_LIST)
    response = await client.get(f"/v2/{REPO}/manifests/list")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == DOCKER_MANIFEST_LIST
    assert response.headers["docker-content-digest"] == digest


async def test_nested_index_is_accepted(client: httpx.AsyncClient) -> None:
    inner, _ = await push_index(client, REPO, "inner", await _two_platforms(client))
    outer = index_manifest([(inner, OCI_INDEX)])
    response = await put_manifest(client, REPO, "outer", outer, OCI_INDEX)
    assert response.status_code == 201


async def test_delete_index_by_digest_keeps_its_children(client: httpx.AsyncClient) -> None:
    children = await _two_platforms(client)
    _, digest = await push_index(client, REPO, "latest", children)
    assert (await client.delete(f"/v2/{REPO}/manifests/{digest}")).status_code == 202
    assert (await client.get(f"/v2/{REPO}/manifests/{digest_of(children[0][0])}")).status_code == 200
    assert await tags_of(client, REPO) == ["amd64", "arm64"]


async def test_get_index_with_image_only_accept_returns_404_manifest_unknown(client: httpx.AsyncClient) -> None:
    await push_index(client, REPO, "latest", await _two_platforms(client))
    response = await client.get(f"/v2/{REPO}/manifests/latest", headers={"Accept": IMAGE_ONLY_ACCEPT})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


async def test_head_index_with_image_only_accept_returns_404(client: httpx.AsyncClient) -> None:
    await push_index(client, REPO, "latest", await _two_platforms(client))
    response = await client.head(f"/v2/{REPO}/manifests/latest", headers={"Accept": IMAGE_ONLY_ACCEPT})
    assert response.status_code == 404


async def test_get_index_with_image_only_accept_in_separate_headers_returns_404(
        client: httpx.AsyncClient) -> None:
    await push_index(client, REPO, "latest", await _two_platforms(client))
    response = await client.get(f"/v2/{REPO}/manifests/latest",
                                headers=[("Accept", OCI_MANIFEST), ("Accept", DOCKER_MANIFEST)])
    assert response.status_code == 404


async def test_get_index_without_accept_returns_it(client: httpx.AsyncClient) -> None:
    content, _ = await push_index(client, REPO, "latest", await _two_platforms(client))
    request = client.build_request("GET", f"/v2/{REPO}/manifests/latest")
    del request.headers["accept"]
    response = await client.send(request)
    assert response.status_code == 200
    assert response.content == content


@pytest.mark.parametrize("accept", [
    "*/*",
    OCI_INDEX,
    f"{OCI_MANIFEST}, {OCI_INDEX};q=0.9",
    f"{DOCKER_MANIFEST}, {DOCKER_MANIFEST_LIST}",
    f"{OCI_MANIFEST}, */*;q=0.1",
    "application/*",
])
async def test_get_index_with_accept_listing_an_index_type_or_wildcard_returns_it(
        client: httpx.AsyncClient, accept: str) -> None:
    content, _ = await push_index(client, REPO, "latest", await _two_platforms(client))
    response = await client.get(f"/v2/{REPO}/manifests/latest", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == OCI_INDEX


async def test_get_image_manifest_with_other_image_accept_still_returns_it(client: httpx.AsyncClient) -> None:
    content, _ = await push_image(client, REPO, "v1")
    response = await client.get(f"/v2/{REPO}/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert response.status_code == 200
    assert response.content == content
