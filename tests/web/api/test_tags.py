"""Harbor's tag API on artifacts: create, list, delete, and who may manage tags."""

from __future__ import annotations

import httpx
from artifacts_support import error_of, member_client, push_image, repo_url
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services

REPO = "astro/notebook"
ARTIFACTS = f"{repo_url(REPO)}/artifacts"


async def _tags_v2(client: httpx.AsyncClient, repository: str = REPO) -> list[str]:
    response = await client.get(f"/v2/{repository}/tags/list")
    assert response.status_code == 200, response.text
    return list(response.json()["tags"] or [])


async def test_create_tag_tags_the_artifact(client: httpx.AsyncClient) -> None:
    pushed = await push_image(client, REPO, "v1")
    response = await client.post(f"{ARTIFACTS}/{pushed.digest}/tags", json={"name": "stable"})
    assert (response.status_code, response.content) == (201, b"")
    assert (await client.get(f"/v2/{REPO}/manifests/stable")).headers["docker-content-digest"] == pushed.digest


async def test_create_tag_by_tag_reference(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    assert (await client.post(f"{ARTIFACTS}/v1/tags", json={"name": "stable"})).status_code == 201
    assert await _tags_v2(client) == ["stable", "v1"]


async def test_create_existing_tag_is_a_conflict(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1", layers=[b"one"])
    await push_image(client, REPO, "v2", layers=[b"two"])
    response = await client.post(f"{ARTIFACTS}/v1/tags", json={"name": "v2"})
    assert (response.status_code, error_of(response)["code"]) == (409, "CONFLICT")
    assert (await client.get(f"{ARTIFACTS}/v2")).json()["tags"][0]["name"] == "v2"


async def test_create_invalid_tag_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.post(f"{ARTIFACTS}/v1/tags", json={"name": "-bad tag"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_create_tag_without_a_name_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.post(f"{ARTIFACTS}/v1/tags", json={})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_create_tag_on_a_missing_artifact_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await client.post(f"{ARTIFACTS}/v9/tags", json={"name": "stable"})
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_list_tags_shows_tag_fields(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    artifact = (await client.get(f"{ARTIFACTS}/v1")).json()
    response = await client.get(f"{ARTIFACTS}/v1/tags")
    assert response.status_code == 200
    [tag] = response.json()
    assert {key: tag[key] for key in ("name", "artifact_id", "repository_id", "immutable", "pull_time")} == {
        "name": "v1", "artifact_id": artifact["id"], "repository_id": artifact["repository_id"],
        "immutable": False, "pull_time": None}
    assert tag["push_time"].endswith("Z")


async def test_list_tags_pages_with_total_count(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    for name in ("a", "b", "c"):
        assert (await client.post(f"{ARTIFACTS}/v1/tags", json={"name": name})).status_code == 201
    response = await client.get(f"{ARTIFACTS}/v1/tags", params={"sort": "name", "page_size": "2", "page": "2"})
    assert [tag["name"] for tag in response.json()] == ["c", "v1"]
    assert response.headers["x-total-count"] == "4"
    assert 'rel="prev"' in response.headers["link"] and 'rel="next"' not in response.headers["link"]


async def test_list_tags_filters_by_fuzzy_name(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    for name in ("release-1", "nightly"):
        assert (await client.post(f"{ARTIFACTS}/v1/tags", json={"name": name})).status_code == 201
    response = await client.get(f"{ARTIFACTS}/v1/tags", params={"q": "name=~release"})
    assert [tag["name"] for tag in response.json()] == ["release-1"]


async def test_delete_tag_removes_only_that_tag(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    assert (await client.post(f"{ARTIFACTS}/v1/tags", json={"name": "stable"})).status_code == 201
    assert (await client.delete(f"{ARTIFACTS}/v1/tags/stable")).status_code == 200
    assert await _tags_v2(client) == ["v1"]


async def test_delete_tag_of_another_artifact_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1", layers=[b"one"])
    await push_image(client, REPO, "v2", layers=[b"two"])
    response = await client.delete(f"{ARTIFACTS}/v1/tags/v2")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")
    assert await _tags_v2(client) == ["v1", "v2"]


async def test_tags_of_a_slash_repository(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/team/app", "v1")
    url = f"{repo_url('astro/team/app')}/artifacts/v1/tags"
    assert (await client.post(url, json={"name": "stable"})).status_code == 201
    assert await _tags_v2(client, "astro/team/app") == ["stable", "v1"]


async def test_developer_may_create_and_delete_tags(client: httpx.AsyncClient, services: Services,
                                                    app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        created = await developer.post(f"{ARTIFACTS}/v1/tags", json={"name": "stable"})
        deleted = await developer.delete(f"{ARTIFACTS}/v1/tags/v1")
    assert (created.status_code, deleted.status_code) == (201, 200)
    assert await _tags_v2(client) == ["stable"]


async def test_guest_member_cannot_create_a_tag(client: httpx.AsyncClient, services: Services,
                                                app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.post(f"{ARTIFACTS}/v1/tags", json={"name": "stable"})
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_guest_member_cannot_delete_a_tag(client: httpx.AsyncClient, services: Services,
                                                app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.delete(f"{ARTIFACTS}/v1/tags/v1")
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")
    assert await _tags_v2(client) == ["v1"]


async def test_guest_member_may_list_tags(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.get(f"{ARTIFACTS}/v1/tags")
    assert [tag["name"] for tag in response.json()] == ["v1"]


async def test_anonymous_caller_cannot_tag_in_a_private_project(client: httpx.AsyncClient,
                                                                anonymous_client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await anonymous_client.post(f"{ARTIFACTS}/v1/tags", json={"name": "stable"})
    assert (response.status_code, error_of(response)["code"]) == (401, "UNAUTHORIZED")
