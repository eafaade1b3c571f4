"""Harbor's artifact API: the Artifact JSON, filters, sorting, paging, copy, delete, additions
and who may do what."""

from __future__ import annotations

import json

import httpx
from artifacts_support import (
    API,
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    NOTEBOOK_HISTORY,
    NOTEBOOK_LABELS,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    digest_of,
    error_of,
    member_client,
    notebook_config,
    push_image,
    push_multiarch,
    push_referrer,
    put_manifest,
    repo_url,
)
from harborapi.models import Artifact as HarborArtifact
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services

REPO = "astro/notebook"
ARTIFACTS = f"{repo_url(REPO)}/artifacts"


async def _get(client: httpx.AsyncClient, reference: str, **params: str) -> dict[str, object]:
    response = await client.get(f"{ARTIFACTS}/{reference}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def _list(client: httpx.AsyncClient, url: str = ARTIFACTS, **params: str) -> list[dict[str, object]]:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, object]] = response.json()
    return body


# --- the Artifact JSON -------------------------------------------------------------------------

async def test_image_artifact_shows_config_labels_in_extra_attrs(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    artifact = await _get(client, "v1")
    assert artifact["extra_attrs"] == {
        "architecture": "amd64", "os": "linux", "created": "2024-03-15T10:30:00Z", "author": "CANFAR Research Team",
        "config": {"User": "jovyan", "Env": ["PATH=/opt/conda/bin:/usr/bin", "LANG=C.UTF-8"],
                   "Entrypoint": ["tini", "-g", "--"], "Cmd": ["start-notebook.sh"], "WorkingDir": "/home/jovyan",
                   "ExposedPorts": {"8888/tcp": {}}, "Labels": NOTEBOOK_LABELS},
    }


async def test_image_artifact_fields_match_harbor(client: httpx.AsyncClient) -> None:
    pushed = await push_image(client, REPO, "v1", layers=[b"layer one", b"layer two!"])
    artifact = await _get(client, "v1")
    project_id = (await client.get(repo_url(REPO))).json()["project_id"]
    assert {key: artifact[key] for key in ("type", "media_type", "manifest_media_type", "artifact_type",
                                           "repository_name", "digest", "size", "icon", "pull_time",
                                           "references", "labels", "accessories", "project_id")} == {
        "type": "IMAGE", "media_type": OCI_CONFIG, "manifest_media_type": OCI_MANIFEST, "artifact_type": OCI_CONFIG,
        "repository_name": REPO, "digest": pushed.digest, "size": pushed.size, "icon": "", "pull_time": None,
        "references": None, "labels": None, "accessories": None, "project_id": project_id,
    }


async def test_image_artifact_has_rfc3339_push_time(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    push_time = str((await _get(client, "v1"))["push_time"])
    assert len(push_time) == len("2024-03-15T10:30:00.000Z") and push_time.endswith("Z") and push_time[10] == "T"


async def test_image_artifact_lists_its_tags(client: httpx.AsyncClient) -> None:
    pushed = await push_image(client, REPO, "v1")
    await push_image(client, REPO, "latest")
    artifact = await _get(client, pushed.digest)
    tags = artifact["tags"]
    assert isinstance(tags, list)
    assert sorted(tag["name"] for tag in tags) == ["latest", "v1"]
    assert {(tag["artifact_id"], tag["repository_id"], tag["immutable"], tag["pull_time"]) for tag in tags} == {
        (artifact["id"], artifact["repository_id"], False, None)}


async def test_image_artifact_links_build_history_double_encoded(client: httpx.AsyncClient) -> None:
    pushed = await push_image(client, "astro/team/app", "v1")
    artifact = (await client.get(f"{repo_url('astro/team/app')}/artifacts/v1")).json()
    assert artifact["addition_links"] == {
        "build_history": {"href": f"{API}/projects/astro/repositories/team%252Fapp/artifacts/{pushed.digest}"
                                  "/additions/build_history", "absolute": False},
        "vulnerabilities": {"href": f"{API}/projects/astro/repositories/team%252Fapp/artifacts/{pushed.digest}"
                                    "/additions/vulnerabilities", "absolute": False},
    }


async def test_author_falls_back_to_the_maintainer_label(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1", config=notebook_config(author=None))
    extra = (await _get(client, "v1"))["extra_attrs"]
    assert isinstance(extra, dict) and extra["author"] == "research-team@university.edu"


async def test_docker_image_is_an_image_artifact(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1", media_type=DOCKER_MANIFEST, config_type=DOCKER_CONFIG)
    artifact = await _get(client, "v1")
    assert (artifact["type"], artifact["media_type"], artifact["manifest_media_type"]) == (
        "IMAGE", DOCKER_CONFIG, DOCKER_MANIFEST)


async def test_malformed_config_does_not_fail_the_push(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1", config=b"{not json")
    artifact = await _get(client, "v1")
    assert (artifact["type"], artifact["extra_attrs"]) == ("IMAGE", None)


async def test_non_image_artifact_is_unknown_without_extra_attrs(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1", config=b"{}", config_type="application/vnd.oci.empty.v1+json",
                     artifactType="application/vnd.example.data")
    artifact = await _get(client, "v1")
    assert (artifact["type"], artifact["extra_attrs"], artifact["addition_links"]) == ("UNKNOWN", None, {})


async def test_index_lists_references_with_platforms(client: httpx.AsyncClient) -> None:
    index, children = await push_multiarch(client, REPO)
    artifact = await _get(client, "latest")
    ids = {child.digest: (await _get(client, child.digest))["id"] for child in children}
    assert artifact["references"] == [
        {"parent_id": artifact["id"], "child_id": ids[children[0].digest], "child_digest": children[0].digest,
         "platform": {"architecture": "amd64", "os": "linux"}, "annotations": None, "urls": None},
        {"parent_id": artifact["id"], "child_id": ids[children[1].digest], "child_digest": children[1].digest,
         "platform": {"architecture": "arm64", "os": "linux", "'os.version'": "5.15", "variant": "v8"},
         "annotations": None, "urls": None},
    ]


async def test_index_size_includes_its_children(client: httpx.AsyncClient) -> None:
    index, _ = await push_multiarch(client, REPO)
    artifact = await _get(client, "latest")
    assert (artifact["size"], artifact["type"], artifact["media_type"], artifact["digest"]) == (
        index.size, "IMAGE", OCI_INDEX, index.digest)


async def test_pull_time_appears_after_a_pull_is_flushed(client: httpx.AsyncClient, services: Services) -> None:
    await push_image(client, REPO, "v1")
    assert (await client.get(f"/v2/{REPO}/manifests/v1")).status_code == 200
    assert (await _get(client, "v1"))["pull_time"] is None  # batched: reading never writes
    await services.flush()
    assert str((await _get(client, "v1"))["pull_time"]).endswith("Z")


async def test_unknown_reference_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"{ARTIFACTS}/v2")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_unknown_repository_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"{repo_url('astro/missing')}/artifacts")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_malformed_digest_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"{ARTIFACTS}/sha256:nothex")
    assert response.status_code == 400


# --- accessories -------------------------------------------------------------------------------

async def test_signature_is_an_accessory_of_its_subject(client: httpx.AsyncClient) -> None:
    image = await push_image(client, REPO, "v1")
    signature = await push_referrer(client, REPO, image)
    accessories = (await _get(client, "v1"))["accessories"]
    assert isinstance(accessories, list) and len(accessories) == 1
    accessory = accessories[0]
    assert {key: accessory[key] for key in ("digest", "type", "size", "subject_artifact_digest",
                                            "subject_artifact_repo")} == {
        "digest": signature.digest, "type": "signature.cosign", "size": signature.size,
        "subject_artifact_digest": image.digest, "subject_artifact_repo": REPO}


async def test_accessories_are_not_listed_as_artifacts(client: httpx.AsyncClient) -> None:
    image = await push_image(client, REPO, "v1")
    await push_referrer(client, REPO, image)
    assert [artifact["digest"] for artifact in await _list(client)] == [image.digest]


# --- listing: filters, sort, paging ------------------------------------------------------------

async def test_list_hides_untagged_index_children(client: httpx.AsyncClient) -> None:
    index, _ = await push_multiarch(client, REPO)
    untagged = await push_image(client, REPO, None, layers=[b"dangling"])
    assert sorted(artifact["digest"] for artifact in await _list(client)) == sorted([index.digest, untagged.digest])


async def test_q_tags_star_lists_only_tagged(client: httpx.AsyncClient) -> None:
    tagged = await push_image(client, REPO, "v1")
    await push_image(client, REPO, None, layers=[b"dangling"])
    assert [artifact["digest"] for artifact in await _list(client, q="tags=*")] == [tagged.digest]


async def test_q_tags_nil_lists_only_untagged(client: httpx.AsyncClient) -> None:
    await push_multiarch(client, REPO)
    untagged = await push_image(client, REPO, None, layers=[b"dangling"])
    assert [artifact["digest"] for artifact in await _list(client, q="tags=nil")] == [untagged.digest]


async def test_q_tags_fuzzy_matches_part_of_a_tag(client: httpx.AsyncClient) -> None:
    release = await push_image(client, REPO, "v1.2.0", layers=[b"one"])
    await push_image(client, REPO, "nightly", layers=[b"two"])
    assert [artifact["digest"] for artifact in await _list(client, q="tags=~1.2")] == [release.digest]


async def test_q_tags_exact_matches_a_whole_tag(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1.2.0", layers=[b"one"])
    short = await push_image(client, REPO, "v1", layers=[b"two"])
    assert [artifact["digest"] for artifact in await _list(client, q="tags=v1")] == [short.digest]


async def test_q_media_type_filters_by_config_type(client: httpx.AsyncClient) -> None:
    docker = await push_image(client, REPO, "docker", media_type=DOCKER_MANIFEST, config_type=DOCKER_CONFIG)
    await push_image(client, REPO, "oci", layers=[b"oci"])
    listed = await _list(client, q=f"media_type={DOCKER_CONFIG}")
    assert [artifact["digest"] for artifact in listed] == [docker.digest]


async def test_q_digest_finds_one_artifact(client: httpx.AsyncClient) -> None:
    first = await push_image(client, REPO, "a", layers=[b"one"])
    await push_image(client, REPO, "b", layers=[b"two"])
    assert [artifact["digest"] for artifact in await _list(client, q=f"digest={first.digest}")] == [first.digest]


async def test_q_with_an_unknown_key_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(ARTIFACTS, params={"q": "colour=red"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_default_order_is_newest_push_first(client: httpx.AsyncClient) -> None:
    first = await push_image(client, REPO, "a", layers=[b"one"])
    second = await push_image(client, REPO, "b", layers=[b"two"])
    assert [artifact["digest"] for artifact in await _list(client)] == [second.digest, first.digest]


async def test_sort_push_time_ascending_lists_oldest_first(client: httpx.AsyncClient) -> None:
    first = await push_image(client, REPO, "a", layers=[b"one"])
    second = await push_image(client, REPO, "b", layers=[b"two"])
    assert [artifact["digest"] for artifact in await _list(client, sort="push_time")] == [first.digest,
                                                                                         second.digest]


async def test_sort_by_an_unknown_field_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(ARTIFACTS, params={"sort": "colour"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_list_pages_with_total_count_and_links(client: httpx.AsyncClient) -> None:
    for number in range(3):
        await push_image(client, REPO, f"v{number}", layers=[f"layer {number}".encode()])
    response = await client.get(ARTIFACTS, params={"page": "2", "page_size": "1"})
    assert (response.status_code, len(response.json()), response.headers["x-total-count"]) == (200, 1, "3")
    assert response.headers["link"] == (
        f'<{ARTIFACTS}?page=1&page_size=1>; rel="prev" , <{ARTIFACTS}?page=3&page_size=1>; rel="next"')


async def test_with_tag_false_leaves_tags_out(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    assert [artifact["tags"] for artifact in await _list(client, with_tag="false")] == [None]


async def test_slash_repository_accepts_single_encoding(client: httpx.AsyncClient) -> None:
    pushed = await push_image(client, "astro/team/app", "v1")
    listed = await _list(client, f"{API}/projects/astro/repositories/team%2Fapp/artifacts")
    assert [artifact["digest"] for artifact in listed] == [pushed.digest]


# --- delete ------------------------------------------------------------------------------------

async def test_delete_removes_the_manifest_and_its_tags(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    await push_image(client, REPO, "latest")
    assert (await client.delete(f"{ARTIFACTS}/v1")).status_code == 200
    assert (await client.get(f"/v2/{REPO}/manifests/latest")).status_code == 404
    assert await _list(client) == []


async def test_delete_index_removes_its_untagged_children(client: httpx.AsyncClient) -> None:
    _, children = await push_multiarch(client, REPO)
    assert (await client.delete(f"{ARTIFACTS}/latest")).status_code == 200
    assert [(await client.get(f"/v2/{REPO}/manifests/{child.digest}")).status_code for child in children] == [
        404, 404]


async def test_delete_of_an_index_child_is_refused(client: httpx.AsyncClient) -> None:
    _, children = await push_multiarch(client, REPO)
    response = await client.delete(f"{ARTIFACTS}/{children[0].digest}")
    assert (response.status_code, error_of(response)["code"]) == (412, "PRECONDITION")


async def test_delete_removes_the_signatures_too(client: httpx.AsyncClient) -> None:
    image = await push_image(client, REPO, "v1")
    signature = await push_referrer(client, REPO, image)
    assert (await client.delete(f"{ARTIFACTS}/v1")).status_code == 200
    assert (await client.get(f"/v2/{REPO}/manifests/{signature.digest}")).status_code == 404


# --- copy --------------------------------------------------------------------------------------

async def test_copy_by_tag_creates_the_artifact_with_its_tags(client: httpx.AsyncClient) -> None:
    pushed = await push_image(client, REPO, "v1")
    response = await client.post(f"{repo_url('astro/copy')}/artifacts", params={"from": f"{REPO}:v1"})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{repo_url('astro/copy')}/artifacts/v1"
    copied = (await client.get(f"{repo_url('astro/copy')}/artifacts/v1")).json()
    assert (copied["digest"], [tag["name"] for tag in copied["tags"]], copied["size"]) == (
        pushed.digest, ["v1"], pushed.size)


async def test_copied_image_is_pullable(client: httpx.AsyncClient) -> None:
    pushed = await push_image(client, REPO, "v1", layers=[b"the layer"])
    await push_image(client, "other/existing", "v1", layers=[b"creates the project"])
    response = await client.post(f"{repo_url('other/copy')}/artifacts", params={"from": f"{REPO}@{pushed.digest}"})
    assert response.status_code == 201, response.text
    assert (await client.get(f"/v2/other/copy/manifests/{pushed.digest}")).content == pushed.content
    blob = await client.get(f"/v2/other/copy/blobs/{digest_of(b'the layer')}")
    assert blob.content == b"the layer"


async def test_copy_of_an_index_copies_its_children(client: httpx.AsyncClient) -> None:
    index, children = await push_multiarch(client, REPO)
    response = await client.post(f"{repo_url('astro/copy')}/artifacts", params={"from": f"{REPO}:latest"})
    assert response.status_code == 201, response.text
    copied = (await client.get(f"{repo_url('astro/copy')}/artifacts/latest")).json()
    assert (copied["size"], [ref["child_digest"] for ref in copied["references"]]) == (
        index.size, [child.digest for child in children])


async def test_copy_from_a_malformed_source_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.post(f"{repo_url('astro/copy')}/artifacts", params={"from": "no-reference"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_copy_from_a_missing_artifact_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.post(f"{repo_url('astro/copy')}/artifacts", params={"from": f"{REPO}:missing"})
    assert response.status_code == 404


async def test_copy_from_a_project_the_caller_cannot_see_is_not_found(client: httpx.AsyncClient,
                                                                      services: Services, app: ASGIApp) -> None:
    await push_image(client, "secret/image", "v1")
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        response = await developer.post(f"{repo_url('astro/copy')}/artifacts", params={"from": "secret/image:v1"})
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


# --- additions ---------------------------------------------------------------------------------

async def test_build_history_lists_the_config_history(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"{ARTIFACTS}/v1/additions/build_history")
    assert response.status_code == 200
    assert response.json() == NOTEBOOK_HISTORY


async def test_other_additions_are_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"{ARTIFACTS}/v1/additions/readme.md")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_build_history_of_an_index_is_not_found(client: httpx.AsyncClient) -> None:
    await push_multiarch(client, REPO)
    assert (await client.get(f"{ARTIFACTS}/latest/additions/build_history")).status_code == 404


async def test_vulnerabilities_addition_is_empty_without_a_scanner(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.get(f"{ARTIFACTS}/v1/additions/vulnerabilities")
    assert (response.status_code, response.json()) == (200, {})


# --- permissions -------------------------------------------------------------------------------

async def test_guest_member_may_list_artifacts(client: httpx.AsyncClient, services: Services,
                                               app: ASGIApp) -> None:
    pushed = await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        assert [artifact["digest"] for artifact in await _list(guest)] == [pushed.digest]


async def test_guest_member_cannot_delete_an_artifact(client: httpx.AsyncClient, services: Services,
                                                      app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.delete(f"{ARTIFACTS}/v1")
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_developer_cannot_delete_an_artifact(client: httpx.AsyncClient, services: Services,
                                                   app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        response = await developer.delete(f"{ARTIFACTS}/v1")
    assert response.status_code == 403


async def test_maintainer_may_delete_an_artifact(client: httpx.AsyncClient, services: Services,
                                                 app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "master", Role.MAINTAINER) as maintainer:
        assert (await maintainer.delete(f"{ARTIFACTS}/v1")).status_code == 200


async def test_guest_member_cannot_copy_into_the_project(client: httpx.AsyncClient, services: Services,
                                                         app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.post(f"{repo_url('astro/copy')}/artifacts", params={"from": f"{REPO}:v1"})
    assert response.status_code == 403


async def test_anonymous_caller_on_a_private_project_is_unauthorized(client: httpx.AsyncClient,
                                                                     anonymous_client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await anonymous_client.get(ARTIFACTS)
    assert (response.status_code, error_of(response)["code"]) == (401, "UNAUTHORIZED")


async def test_non_member_gets_not_found(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "stranger", None) as stranger:
        response = await stranger.get(f"{ARTIFACTS}/v1")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_artifact_json_is_readable_by_harborapi(client: httpx.AsyncClient) -> None:
    await push_multiarch(client, REPO)
    artifact = HarborArtifact.model_validate(await _get(client, "latest"))
    assert artifact.references is not None and artifact.references[1].platform is not None
    assert artifact.references[1].platform.field_os_version_ == "5.15"
    assert json.loads(artifact.model_dump_json())["type"] == "IMAGE"


async def test_list_accessories_pages_the_signatures(client: httpx.AsyncClient) -> None:
    image = await push_image(client, REPO, "v1")
    signature = await push_referrer(client, REPO, image)
    response = await client.get(f"{ARTIFACTS}/v1/accessories")
    assert response.status_code == 200 and response.headers["x-total-count"] == "1"
    assert [(item["digest"], item["subject_artifact_id"]) for item in response.json()] == [
        (signature.digest, (await _get(client, "v1"))["id"])]


async def test_pulls_set_the_tag_pull_time_and_count_in_the_repository(client: httpx.AsyncClient,
                                                                       services: Services) -> None:
    pushed = await push_image(client, REPO, "v1")
    await put_manifest(client, REPO, "v2", pushed.content, OCI_MANIFEST)
    for reference in ("v1", "v1", pushed.digest):
        assert (await client.get(f"/v2/{REPO}/manifests/{reference}")).status_code == 200
    assert (await client.head(f"/v2/{REPO}/manifests/v1")).status_code == 200  # a HEAD is not a pull
    await services.flush()
    tags = {tag["name"]: tag["pull_time"] for tag in (await _get(client, "v1"))["tags"]}
    assert str(tags["v1"]).endswith("Z") and tags["v2"] is None
    project, name = REPO.split("/", 1)
    repository = (await client.get(f"/api/v2.0/projects/{project}/repositories/{name}")).json()
    assert repository["pull_count"] == 3
