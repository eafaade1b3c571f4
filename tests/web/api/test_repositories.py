"""Harbor's repository API: listing (all, per project), get, description, delete, permissions."""

from __future__ import annotations

import httpx
from artifacts_support import (
    API,
    error_of,
    make_public,
    member_client,
    push_image,
    push_multiarch,
    repo_url,
)
from sqlalchemy import select
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.store.tables import audit_logs

REPOSITORIES = f"{API}/projects/astro/repositories"


async def _names(client: httpx.AsyncClient, url: str = REPOSITORIES, **params: str) -> list[str]:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return [repository["name"] for repository in response.json()]


async def test_repository_json_matches_harbor(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    response = await client.get(repo_url("astro/notebook"))
    assert response.status_code == 200
    repository = response.json()
    assert set(repository) == {"id", "project_id", "name", "description", "artifact_count", "pull_count",
                               "creation_time", "update_time"}
    assert (repository["name"], repository["description"], repository["artifact_count"],
            repository["pull_count"]) == ("astro/notebook", "", 1, 0)
    assert repository["creation_time"].endswith("Z") and repository["update_time"] >= repository["creation_time"]


async def test_artifact_count_leaves_out_index_children(client: httpx.AsyncClient) -> None:
    await push_multiarch(client, "astro/notebook")
    await push_image(client, "astro/notebook", None, layers=[b"untagged"])
    assert (await client.get(repo_url("astro/notebook"))).json()["artifact_count"] == 2


async def test_project_listing_shows_only_its_repositories(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    await push_image(client, "astro/team/app", "v1")
    await push_image(client, "other/tool", "v1")
    assert await _names(client, sort="name") == ["astro/notebook", "astro/team/app"]


async def test_project_listing_sorts_by_name_descending(client: httpx.AsyncClient) -> None:
    for name in ("astro/b", "astro/a", "astro/c"):
        await push_image(client, name, "v1")
    assert await _names(client, sort="-name") == ["astro/c", "astro/b", "astro/a"]


async def test_project_listing_defaults_to_newest_first(client: httpx.AsyncClient) -> None:
    for name in ("astro/b", "astro/a", "astro/c"):
        await push_image(client, name, "v1")
    assert await _names(client) == ["astro/c", "astro/a", "astro/b"]


async def test_sort_by_update_time_puts_the_latest_push_first(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/a", "v1")
    await push_image(client, "astro/b", "v1")
    await push_image(client, "astro/a", "v2", layers=[b"newer"])
    assert await _names(client, sort="-update_time") == ["astro/a", "astro/b"]


async def test_project_listing_filters_by_fuzzy_name(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    await push_image(client, "astro/pipeline", "v1")
    assert await _names(client, q="name=~note") == ["astro/notebook"]


async def test_project_listing_pages_with_total_count_and_links(client: httpx.AsyncClient) -> None:
    for name in ("astro/a", "astro/b", "astro/c"):
        await push_image(client, name, "v1")
    response = await client.get(REPOSITORIES, params={"page": "1", "page_size": "2", "sort": "name"})
    assert [repository["name"] for repository in response.json()] == ["astro/a", "astro/b"]
    assert response.headers["x-total-count"] == "3"
    assert response.headers["link"] == f'<{REPOSITORIES}?page=2&page_size=2&sort=name>; rel="next"'


async def test_sort_by_an_unknown_field_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/a", "v1")
    response = await client.get(REPOSITORIES, params={"sort": "size"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_malformed_q_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/a", "v1")
    response = await client.get(REPOSITORIES, params={"q": "name"})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_all_repositories_for_an_admin_span_projects(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    await push_image(client, "other/tool", "v1")
    assert await _names(client, f"{API}/repositories", sort="name") == ["astro/notebook", "other/tool"]


async def test_all_repositories_for_a_member_are_its_projects_and_public_ones(
        client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_image(client, "astro/notebook", "v1")
    await push_image(client, "library/base", "v1")
    await push_image(client, "secret/tool", "v1")
    await make_public(services, "library")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        assert await _names(guest, f"{API}/repositories", sort="name") == ["astro/notebook", "library/base"]


async def test_all_repositories_for_anonymous_are_the_public_ones(
        client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient, services: Services) -> None:
    await push_image(client, "astro/notebook", "v1")
    await push_image(client, "library/base", "v1")
    await make_public(services, "library")
    assert await _names(anonymous_client, f"{API}/repositories") == ["library/base"]


async def test_all_repositories_filter_by_fuzzy_name(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    await push_image(client, "other/notes", "v1")
    await push_image(client, "other/tool", "v1")
    assert await _names(client, f"{API}/repositories", q="name=~note", sort="name") == [
        "astro/notebook", "other/notes"]


async def test_get_accepts_a_double_encoded_slash(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/team/app", "v1")
    response = await client.get(f"{REPOSITORIES}/team%252Fapp")
    assert (response.status_code, response.json()["name"]) == (200, "astro/team/app")


async def test_get_accepts_a_single_encoded_slash(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/team/app", "v1")
    response = await client.get(f"{REPOSITORIES}/team%2Fapp")
    assert (response.status_code, response.json()["name"]) == (200, "astro/team/app")


async def test_get_accepts_a_plain_slash(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/team/app", "v1")
    response = await client.get(f"{REPOSITORIES}/team/app")
    assert (response.status_code, response.json()["name"]) == (200, "astro/team/app")


async def test_get_of_a_missing_repository_is_not_found(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    response = await client.get(f"{REPOSITORIES}/missing")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_get_of_an_invalid_name_is_bad_request(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    response = await client.get(f"{REPOSITORIES}/Upper%2520Case")
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_update_sets_the_description(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    response = await client.put(repo_url("astro/notebook"),
                                json={"description": "X-ray analysis with XSPEC", "name": "ignored"})
    assert response.status_code == 200
    repository = (await client.get(repo_url("astro/notebook"))).json()
    assert (repository["description"], repository["name"]) == ("X-ray analysis with XSPEC", "astro/notebook")


async def test_guest_member_cannot_update_the_description(client: httpx.AsyncClient, services: Services,
                                                          app: ASGIApp) -> None:
    await push_image(client, "astro/notebook", "v1")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.put(repo_url("astro/notebook"), json={"description": "mine"})
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_delete_removes_the_repository_and_its_images(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    await push_image(client, "astro/keep", "v1")
    assert (await client.delete(repo_url("astro/notebook"))).status_code == 200
    assert (await client.get(repo_url("astro/notebook"))).status_code == 404
    assert (await client.get("/v2/astro/notebook/manifests/v1")).status_code == 404
    assert await _names(client) == ["astro/keep"]


async def test_delete_of_a_slash_repository(client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/team/app", "v1")
    assert (await client.delete(f"{REPOSITORIES}/team%252Fapp")).status_code == 200
    assert await _names(client) == []


async def test_delete_is_audited(client: httpx.AsyncClient, services: Services) -> None:
    await push_image(client, "astro/notebook", "v1")
    assert (await client.delete(repo_url("astro/notebook"))).status_code == 200
    await services.flush()
    async with services.db.read() as conn:
        rows = (await conn.execute(select(audit_logs.c.operation, audit_logs.c.resource_type,
                                          audit_logs.c.resource, audit_logs.c.username)
                                   .where(audit_logs.c.resource_type == "repository"))).all()
    assert [tuple(row) for row in rows] == [("delete", "repository", "astro/notebook", "admin")]


async def test_developer_cannot_delete_a_repository(client: httpx.AsyncClient, services: Services,
                                                    app: ASGIApp) -> None:
    await push_image(client, "astro/notebook", "v1")
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        response = await developer.delete(repo_url("astro/notebook"))
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_maintainer_may_delete_a_repository(client: httpx.AsyncClient, services: Services,
                                                  app: ASGIApp) -> None:
    await push_image(client, "astro/notebook", "v1")
    async with await member_client(services, app, "astro", "master", Role.MAINTAINER) as maintainer:
        assert (await maintainer.delete(repo_url("astro/notebook"))).status_code == 200


async def test_anonymous_caller_on_a_private_project_is_unauthorized(
        client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient) -> None:
    await push_image(client, "astro/notebook", "v1")
    response = await anonymous_client.get(REPOSITORIES)
    assert (response.status_code, error_of(response)["code"]) == (401, "UNAUTHORIZED")


async def test_anonymous_caller_may_list_a_public_project(client: httpx.AsyncClient,
                                                          anonymous_client: httpx.AsyncClient,
                                                          services: Services) -> None:
    await push_image(client, "astro/notebook", "v1")
    await make_public(services, "astro")
    assert await _names(anonymous_client) == ["astro/notebook"]


async def test_anonymous_caller_cannot_delete_in_a_public_project(client: httpx.AsyncClient,
                                                                  anonymous_client: httpx.AsyncClient,
                                                                  services: Services) -> None:
    await push_image(client, "astro/notebook", "v1")
    await make_public(services, "astro")
    response = await anonymous_client.delete(repo_url("astro/notebook"))
    assert (response.status_code, error_of(response)["code"]) == (401, "UNAUTHORIZED")


async def test_non_member_gets_not_found(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_image(client, "astro/notebook", "v1")
    async with await member_client(services, app, "astro", "stranger", None) as stranger:
        response = await stranger.get(repo_url("astro/notebook"))
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")
