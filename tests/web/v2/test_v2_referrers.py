"""The referrers API and the OCI-Subject header (dist-spec 1.1 "Listing referrers")."""

from __future__ import annotations

import json

import httpx
from factories import (
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    descriptor,
    digest_of,
    image_manifest,
    push_artifact,
    push_blob,
    push_image,
    put_manifest,
)

REPO = "proj/app"
SBOM = "application/vnd.example.sbom+json"
SIGNATURE = "application/vnd.example.signature"


async def _subject(client: httpx.AsyncClient) -> tuple[bytes, dict[str, object]]:
    content, _ = await push_image(client, REPO, "v1")
    return content, descriptor(OCI_MANIFEST, content)


async def test_put_manifest_with_subject_returns_oci_subject_header(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    await push_blob(client, REPO, b"{}")
    await push_blob(client, REPO, b"sig")
    referrer = image_manifest(b"{}", [b"sig"], config_type=OCI_EMPTY, artifactType=SIGNATURE, subject=subject)
    response = await put_manifest(client, REPO, digest_of(referrer), referrer)
    assert response.status_code == 201
    assert response.headers["oci-subject"] == digest_of(content)


async def test_referrers_lists_descriptor_with_artifact_type_and_annotations(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    annotations = {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
    referrer, digest = await push_artifact(client, REPO, SBOM, b"sbom", subject=subject, annotations=annotations)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == OCI_INDEX
    assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [{
        "mediaType": OCI_MANIFEST, "digest": digest, "size": len(referrer), "artifactType": SBOM,
        "annotations": annotations,
    }]}
    assert "oci-filters-applied" not in response.headers


async def test_referrer_without_artifact_type_reports_config_media_type(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    config_type = "application/vnd.example.config.v1+json"
    _, digest = await push_artifact(client, REPO, None, b"payload", config_type=config_type, subject=subject)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}")
    [entry] = response.json()["manifests"]
    assert entry["digest"] == digest
    assert entry["artifactType"] == config_type
    assert "annotations" not in entry


async def test_referrers_lists_every_referrer_of_the_subject(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    _, sbom = await push_artifact(client, REPO, SBOM, b"sbom", subject=subject)
    _, signature = await push_artifact(client, REPO, SIGNATURE, b"sig", subject=subject)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}")
    digests = {entry["digest"]: entry["artifactType"] for entry in response.json()["manifests"]}
    assert digests == {sbom: SBOM, signature: SIGNATURE}


async def test_referrers_filter_by_artifact_type(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    _, sbom = await push_artifact(client, REPO, SBOM, b"sbom", subject=subject)
    await push_artifact(client, REPO, SIGNATURE, b"sig", subject=subject)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}", params={"artifactType": SBOM})
    assert response.status_code == 200
    assert [entry["digest"] for entry in response.json()["manifests"]] == [sbom]


async def test_referrers_filter_sets_oci_filters_applied(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    await push_artifact(client, REPO, SBOM, b"sbom", subject=subject)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}", params={"artifactType": SBOM})
    assert response.headers["oci-filters-applied"] == "artifactType"


async def test_referrers_filter_matching_nothing_returns_empty_list(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    await push_artifact(client, REPO, SBOM, b"sbom", subject=subject)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}",
                                params={"artifactType": "application/vnd.none"})
    assert response.status_code == 200
    assert response.json()["manifests"] == []
    assert response.headers["oci-filters-applied"] == "artifactType"


async def test_referrers_of_unknown_subject_returns_empty_index(client: httpx.AsyncClient) -> None:
    await _subject(client)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(b'no such subject')}")
    assert response.status_code == 200
    assert response.headers["content-type"] == OCI_INDEX
    assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


async def test_referrers_in_unknown_repository_returns_empty_index(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v2/proj/nothing/referrers/{digest_of(b'x')}")
    assert response.status_code == 200
    assert response.json()["manifests"] == []


async def test_referrers_with_invalid_digest_returns_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v2/{REPO}/referrers/sha256:nothex")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "DIGEST_INVALID"


async def test_referrer_pushed_before_its_subject_is_listed(client: httpx.AsyncClient) -> None:
    future = descriptor(OCI_MANIFEST, b'{"not yet pushed": true}')
    _, digest = await push_artifact(client, REPO, SBOM, b"sbom", subject=future)
    response = await client.get(f"/v2/{REPO}/referrers/{future['digest']}")
    assert [entry["digest"] for entry in response.json()["manifests"]] == [digest]


async def test_referrers_are_scoped_to_the_repository(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    await push_artifact(client, "proj/other", SBOM, b"sbom", subject=subject)
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}")
    assert response.json()["manifests"] == []


async def test_deleted_referrer_is_no_longer_listed(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    _, digest = await push_artifact(client, REPO, SBOM, b"sbom", subject=subject)
    assert (await client.delete(f"/v2/{REPO}/manifests/{digest}")).status_code == 202
    response = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}")
    assert response.json()["manifests"] == []


async def test_index_with_subject_is_listed_as_referrer(client: httpx.AsyncClient) -> None:
    content, subject = await _subject(client)
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": SBOM,
                        "manifests": [], "subject": subject}).encode()
    response = await put_manifest(client, REPO, digest_of(index), index, OCI_INDEX)
    assert response.status_code == 201
    assert response.headers["oci-subject"] == digest_of(content)
    listed = await client.get(f"/v2/{REPO}/referrers/{digest_of(content)}")
    assert listed.json()["manifests"] == [{"mediaType": OCI_INDEX, "digest": digest_of(index),
                                           "size": len(index), "artifactType": SBOM}]
