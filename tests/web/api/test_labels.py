"""Harbor's label API: global and project labels, attaching them to artifacts, filtering by them."""

from __future__ import annotations

from typing import Any

import httpx
from artifacts_support import API, error_of, member_client, push_image, repo_url
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services

LABELS = f"{API}/labels"
REPO = "astro/notebook"
ARTIFACTS = f"{repo_url(REPO)}/artifacts"


async def _create(client: httpx.AsyncClient, name: str, **fields: Any) -> int:
    response = await client.post(LABELS, json={"name": name, "color": "#0065AB", "description": "d", **fields})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def _project_id(client: httpx.AsyncClient, repository: str = REPO) -> int:
    return int((await client.get(repo_url(repository))).json()["project_id"])


async def _attach(client: httpx.AsyncClient, label_id: int, reference: str = "v1") -> httpx.Response:
    return await client.post(f"{ARTIFACTS}/{reference}/labels", json={"id": label_id})


# --- labels ------------------------------------------------------------------------------------

async def test_create_global_label_answers_201_with_location(client: httpx.AsyncClient) -> None:
    response = await client.post(LABELS, json={"name": "production", "scope": "g"})
    assert response.status_code == 201
    assert response.headers["location"].startswith(f"{LABELS}/")


async def test_get_label_shows_harbor_fields(client: httpx.AsyncClient) -> None:
    label_id = await _create(client, "production", scope="g")
    label = (await client.get(f"{LABELS}/{label_id}")).json()
    assert {key: label[key] for key in ("id", "name", "description", "color", "scope", "project_id")} == {
        "id": label_id, "name": "production", "description": "d", "color": "#0065AB", "scope": "g",
        "project_id": 0}
    assert label["creation_time"].endswith("Z") and label["update_time"].endswith("Z")


async def test_duplicate_global_label_is_a_conflict(client: httpx.AsyncClient) -> None:
    await _create(client, "production", scope="g")
    response = await client.post(LABELS, json={"name": "production", "scope": "g"})
    assert (response.status_code, error_of(response)["code"]) == (409, "CONFLICT")


async def test_label_without_a_name_is_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(LABELS, json={"scope": "g"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_label_with_an_unknown_scope_is_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(LABELS, json={"name": "x", "scope": "q"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_list_global_labels_by_name(client: httpx.AsyncClient) -> None:
    for name in ("production", "testing", "prod-candidate"):
        await _create(client, name, scope="g")
    response = await client.get(LABELS, params={"scope": "g", "name": "prod"})
    assert [label["name"] for label in response.json()] == ["prod-candidate", "production"]
    assert response.headers["x-total-count"] == "2"


async def test_list_without_scope_is_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.get(LABELS)
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_project_label_is_listed_in_its_project_only(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    await push_image(client, "other/tool", "v1")
    astro, other = await _project_id(client), await _project_id(client, "other/tool")
    await _create(client, "reviewed", scope="p", project_id=astro)
    await _create(client, "global", scope="g")
    astro_labels = (await client.get(LABELS, params={"scope": "p", "project_id": str(astro)})).json()
    other_labels = (await client.get(LABELS, params={"scope": "p", "project_id": str(other)})).json()
    assert ([(label["name"], label["project_id"]) for label in astro_labels], other_labels) == (
        [("reviewed", astro)], [])


async def test_same_name_may_exist_in_two_projects(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    await push_image(client, "other/tool", "v1")
    await _create(client, "reviewed", scope="p", project_id=await _project_id(client))
    response = await client.post(LABELS, json={"name": "reviewed", "scope": "p",
                                               "project_id": await _project_id(client, "other/tool")})
    assert response.status_code == 201


async def test_update_label_changes_name_color_and_description(client: httpx.AsyncClient) -> None:
    label_id = await _create(client, "production", scope="g")
    response = await client.put(f"{LABELS}/{label_id}",
                                json={"name": "prod", "color": "#FF0000", "description": "live", "scope": "p"})
    assert response.status_code == 200
    label = (await client.get(f"{LABELS}/{label_id}")).json()
    assert (label["name"], label["color"], label["description"], label["scope"]) == ("prod", "#FF0000", "live", "g")


async def test_delete_label(client: httpx.AsyncClient) -> None:
    label_id = await _create(client, "production", scope="g")
    assert (await client.delete(f"{LABELS}/{label_id}")).status_code == 200
    response = await client.get(f"{LABELS}/{label_id}")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_non_admin_cannot_create_a_global_label(client: httpx.AsyncClient, services: Services,
                                                      app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    async with await member_client(services, app, "astro", "owner", Role.PROJECT_ADMIN) as owner:
        response = await owner.post(LABELS, json={"name": "production", "scope": "g"})
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_maintainer_may_create_a_project_label(client: httpx.AsyncClient, services: Services,
                                                     app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    project_id = await _project_id(client)
    async with await member_client(services, app, "astro", "master", Role.MAINTAINER) as maintainer:
        response = await maintainer.post(LABELS, json={"name": "reviewed", "scope": "p", "project_id": project_id})
    assert response.status_code == 201


async def test_developer_cannot_create_a_project_label(client: httpx.AsyncClient, services: Services,
                                                       app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    project_id = await _project_id(client)
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        response = await developer.post(LABELS, json={"name": "reviewed", "scope": "p", "project_id": project_id})
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_non_member_cannot_see_project_labels(client: httpx.AsyncClient, services: Services,
                                                    app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    project_id = await _project_id(client)
    label_id = await _create(client, "reviewed", scope="p", project_id=project_id)
    async with await member_client(services, app, "astro", "stranger", None) as stranger:
        response = await stranger.get(f"{LABELS}/{label_id}")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


# --- labels on artifacts -----------------------------------------------------------------------

async def test_attached_label_is_shown_with_label(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    label_id = await _create(client, "production", scope="g")
    assert (await _attach(client, label_id)).status_code == 200
    artifact = (await client.get(f"{ARTIFACTS}/v1", params={"with_label": "true"})).json()
    assert [(label["id"], label["name"]) for label in artifact["labels"]] == [(label_id, "production")]


async def test_labels_are_left_out_without_with_label(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    assert (await _attach(client, await _create(client, "production", scope="g"))).status_code == 200
    assert (await client.get(f"{ARTIFACTS}/v1")).json()["labels"] is None


async def test_q_labels_lists_artifacts_with_all_the_labels(client: httpx.AsyncClient) -> None:
    both = await push_image(client, REPO, "v1", layers=[b"one"])
    await push_image(client, REPO, "v2", layers=[b"two"])
    first, second = await _create(client, "a", scope="g"), await _create(client, "b", scope="g")
    for label_id in (first, second):
        assert (await _attach(client, label_id, "v1")).status_code == 200
    assert (await _attach(client, first, "v2")).status_code == 200
    listed = (await client.get(ARTIFACTS, params={"q": f"labels=({first} {second})"})).json()
    assert [artifact["digest"] for artifact in listed] == [both.digest]


async def test_attaching_twice_is_a_conflict(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    label_id = await _create(client, "production", scope="g")
    assert (await _attach(client, label_id)).status_code == 200
    response = await _attach(client, label_id)
    assert (response.status_code, error_of(response)["code"]) == (409, "CONFLICT")


async def test_attaching_another_projects_label_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    await push_image(client, "other/tool", "v1")
    label_id = await _create(client, "reviewed", scope="p", project_id=await _project_id(client, "other/tool"))
    response = await _attach(client, label_id)
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_attaching_a_missing_label_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    response = await _attach(client, 999)
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_detach_removes_the_label(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    label_id = await _create(client, "production", scope="g")
    assert (await _attach(client, label_id)).status_code == 200
    assert (await client.delete(f"{ARTIFACTS}/v1/labels/{label_id}")).status_code == 200
    assert (await client.get(f"{ARTIFACTS}/v1", params={"with_label": "true"})).json()["labels"] is None


async def test_detach_of_a_label_not_attached_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    label_id = await _create(client, "production", scope="g")
    response = await client.delete(f"{ARTIFACTS}/v1/labels/{label_id}")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_deleting_a_label_detaches_it(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "v1")
    label_id = await _create(client, "production", scope="g")
    assert (await _attach(client, label_id)).status_code == 200
    assert (await client.delete(f"{LABELS}/{label_id}")).status_code == 200
    assert (await client.get(f"{ARTIFACTS}/v1", params={"with_label": "true"})).json()["labels"] is None


async def test_developer_may_attach_a_project_label(client: httpx.AsyncClient, services: Services,
                                                    app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    label_id = await _create(client, "reviewed", scope="p", project_id=await _project_id(client))
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        assert (await _attach(developer, label_id)).status_code == 200


async def test_guest_member_cannot_attach_a_label(client: httpx.AsyncClient, services: Services,
                                                  app: ASGIApp) -> None:
    await push_image(client, REPO, "v1")
    label_id = await _create(client, "production", scope="g")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await _attach(guest, label_id)
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")
