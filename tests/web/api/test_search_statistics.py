"""/api/v2.0/search and /api/v2.0/statistics: only what the caller may see, totals for admins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from harborapi.models import Search as HarborSearch
from harborapi.models import Statistic as HarborStatistic
from projects_support import API, Accounts, add_member, create_project, error_of, push_image
from sqlalchemy import update
from starlette.types import ASGIApp

from portside.services.bundle import Services
from portside.store.tables import repositories


@pytest.fixture
async def accounts(services: Services, app: ASGIApp) -> AsyncIterator[Accounts]:
    async with Accounts(services, app) as made:
        yield made


@pytest.fixture
async def sky(client: httpx.AsyncClient) -> dict[str, int]:
    """Public `sky-public` with sky-public/telescope and /radio; private `sky-private` with
    sky-private/telescope; public `ground`, empty. Returns the bytes of each repository's blobs."""
    await create_project(client, "sky-public", public=True)
    await create_project(client, "sky-private")
    await create_project(client, "ground", public=True)
    return {
        "sky-public/telescope": await push_image(client, "sky-public/telescope", b"public telescope"),
        "sky-public/radio": await push_image(client, "sky-public/radio", b"public radio"),
        "sky-private/telescope": await push_image(client, "sky-private/telescope", b"private telescope"),
    }


async def _search(client: httpx.AsyncClient, q: str) -> dict[str, list[dict[str, object]]]:
    response = await client.get(f"{API}/search", params={"q": q})
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- search -------------------------------------------------------------------------------------

async def test_search_finds_projects_by_part_of_the_name(client: httpx.AsyncClient, sky: dict[str, int]) -> None:
    found = await _search(client, "SKY")
    assert [p["name"] for p in found["project"]] == ["sky-private", "sky-public"]


async def test_search_finds_repositories_with_their_project(client: httpx.AsyncClient, services: Services,
                                                             sky: dict[str, int]) -> None:
    async with services.db.write() as conn:  # nothing counts pulls yet: set the column the result shows
        await conn.execute(update(repositories).where(repositories.c.name == "sky-public/radio").values(pull_count=7))
    project_id = (await client.get(f"{API}/projects/sky-public")).json()["project_id"]
    found = await _search(client, "radio")
    assert found["repository"] == [{"project_id": project_id, "project_name": "sky-public", "project_public": True,
                                    "repository_name": "sky-public/radio", "pull_count": 7, "artifact_count": 1}]
    assert HarborSearch.model_validate(found).repository[0].repository_name == "sky-public/radio"


async def test_search_hides_private_projects_from_non_members(accounts: Accounts, sky: dict[str, int]) -> None:
    outsider = await accounts.client("outsider")
    found = await _search(outsider, "telescope")
    assert [r["repository_name"] for r in found["repository"]] == ["sky-public/telescope"]
    assert [p["name"] for p in (await _search(outsider, "sky"))["project"]] == ["sky-public"]


async def test_search_hides_private_projects_from_anonymous_callers(anonymous_client: httpx.AsyncClient,
                                                                    sky: dict[str, int]) -> None:
    found = await _search(anonymous_client, "private")
    assert found == {"project": [], "repository": []}


async def test_members_find_their_private_projects(client: httpx.AsyncClient, accounts: Accounts,
                                                   sky: dict[str, int]) -> None:
    member = await accounts.client("member")
    await add_member(client, "sky-private", "member", 3)
    found = await _search(member, "private")
    assert [(p["name"], p["current_user_role_id"]) for p in found["project"]] == [("sky-private", 3)]
    assert [r["repository_name"] for r in found["repository"]] == ["sky-private/telescope"]


async def test_search_needs_q(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/search")
    assert response.status_code == 400
    assert error_of(response)["code"] == "BAD_REQUEST"


# --- statistics ---------------------------------------------------------------------------------

async def test_admins_get_every_count_and_the_storage(client: httpx.AsyncClient, sky: dict[str, int]) -> None:
    statistics = (await client.get(f"{API}/statistics")).json()
    assert statistics == {"private_project_count": 1, "private_repo_count": 1, "public_project_count": 2,
                          "public_repo_count": 2, "total_project_count": 3, "total_repo_count": 3,
                          "total_storage_consumption": sum(sky.values())}
    assert HarborStatistic.model_validate(statistics).total_repo_count == 3


async def test_users_count_public_and_their_own_projects(client: httpx.AsyncClient, accounts: Accounts,
                                                         sky: dict[str, int]) -> None:
    member = await accounts.client("member")
    await create_project(client, "other-private")
    await add_member(client, "sky-private", "member", 2)
    assert (await member.get(f"{API}/statistics")).json() == {
        "private_project_count": 1, "private_repo_count": 1, "public_project_count": 2, "public_repo_count": 2,
        "total_project_count": 0, "total_repo_count": 0, "total_storage_consumption": 0}


async def test_non_members_count_public_projects_only(accounts: Accounts, sky: dict[str, int]) -> None:
    outsider = await accounts.client("outsider")
    statistics = (await outsider.get(f"{API}/statistics")).json()
    assert (statistics["private_project_count"], statistics["private_repo_count"]) == (0, 0)
    assert (statistics["public_project_count"], statistics["public_repo_count"]) == (2, 2)


async def test_anonymous_callers_must_sign_in_for_statistics(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get(f"{API}/statistics")
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"
