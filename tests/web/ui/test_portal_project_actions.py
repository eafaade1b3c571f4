"""Portal: robot accounts, repository and project deletion — each through the same services and
policy as the API, refused (and nothing changed) where the API would refuse."""

from __future__ import annotations

import re

import httpx
import pytest
from portal_support import (
    API,
    create_project,
    insert_member,
    notice_after,
    page_token,
    push_image,
    repo_url,
    signed_in,
    submit,
)
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services

ROBOTS = "/harbor/projects/team/robots"
CONFIGURATION = "/harbor/projects/team/configuration"
REPOSITORIES = "/harbor/projects/team/repositories"


@pytest.fixture
async def team(client: httpx.AsyncClient, services: Services) -> str:
    """Private project `team` with team/notebook:1.0; projectAdmin `owner`, developer `dev`, guest `viewer`."""
    await create_project(client, "team")
    await push_image(client, "team/notebook", "1.0")
    await insert_member(services, "owner", "team", Role.PROJECT_ADMIN)
    await insert_member(services, "dev", "team", Role.DEVELOPER)
    await insert_member(services, "viewer", "team", Role.GUEST)
    return "team"


async def robots_of(client: httpx.AsyncClient) -> dict[str, dict[str, object]]:
    listed = await client.get(f"{API}/robots", params={"page_size": "100"})
    assert listed.status_code == 200, listed.text
    return {robot["name"]: robot for robot in listed.json()}


async def create_robot(portal: httpx.AsyncClient, name: str, permissions: list[str], **fields: str) -> httpx.Response:
    token = await page_token(portal, ROBOTS)
    return await portal.post(ROBOTS, data={"csrf_token": token, "back": ROBOTS, "name": name, "days": "30",
                                           "permission": permissions, **fields})


async def test_a_project_admin_creates_a_robot_and_sees_its_secret_once(app: ASGIApp, client: httpx.AsyncClient,
                                                                         team: str) -> None:
    async with signed_in(app, "owner") as portal:
        response = await create_robot(portal, "ci", ["repository:pull", "repository:push"], never="true",
                                      description="<script>alert(1)</script>")
        assert response.status_code == 200, response.text
        secret = re.search(r'<code id="robot-secret-value">([^<]+)</code>', response.text)
        assert secret is not None
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text and "<script>alert" not in response.text
        again = await portal.get(ROBOTS)
        assert secret.group(1) not in again.text  # shown only in the answer to the creation
    robot = (await robots_of(client))["robot$team+ci"]
    assert robot["duration"] == -1
    granted = {(a["resource"], a["action"]) for p in robot["permissions"] for a in p["access"]}  # type: ignore[attr-defined]
    assert granted == {("repository", "pull"), ("repository", "push")}
    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url),
                                 auth=("robot$team+ci", secret.group(1))) as robot_client:
        assert (await robot_client.get("/v2/team/notebook/manifests/1.0")).status_code == 200


async def test_a_robot_needs_a_permission_and_a_valid_expiry(app: ASGIApp, client: httpx.AsyncClient,
                                                             team: str) -> None:
    async with signed_in(app, "owner") as portal:
        assert "choose at least one permission" in await notice_after(portal, await create_robot(portal, "none", []))
        bad_days = await create_robot(portal, "late", ["repository:pull"], days="soon")
        assert "number of days" in await notice_after(portal, bad_days)
    assert await robots_of(client) == {}


async def test_a_developer_sees_no_robot_form_and_cannot_create_one(app: ASGIApp, client: httpx.AsyncClient,
                                                                   team: str) -> None:
    async with signed_in(app, "dev") as portal:
        page = await portal.get(ROBOTS)
        assert page.status_code == 200 and "Create robot account" not in page.text
        response = await create_robot(portal, "sneaky", ["repository:pull"])
        assert response.status_code == 303
        assert "denied" in (await notice_after(portal, response)).lower()
    assert await robots_of(client) == {}


async def test_a_robot_is_disabled_enabled_given_a_new_secret_and_deleted(app: ASGIApp, client: httpx.AsyncClient,
                                                                          team: str) -> None:
    async with signed_in(app, "owner") as portal:
        created = await create_robot(portal, "ci", ["repository:pull"])
        first = re.search(r'<code id="robot-secret-value">([^<]+)</code>', created.text)
        assert first is not None
        robot_id = (await robots_of(client))["robot$team+ci"]["id"]
        base = f"{ROBOTS}/{robot_id}"
        assert "is disabled" in await notice_after(portal, await submit(portal, ROBOTS, f"{base}/enable",
                                                                        {"disable": "true"}))
        assert (await robots_of(client))["robot$team+ci"]["disable"] is True
        assert "is enabled" in await notice_after(portal, await submit(portal, ROBOTS, f"{base}/enable",
                                                                       {"disable": "false"}))
        refreshed = await submit(portal, ROBOTS, f"{base}/secret", {})
        second = re.search(r'<code id="robot-secret-value">([^<]+)</code>', refreshed.text)
        assert refreshed.status_code == 200 and second is not None and second.group(1) != first.group(1)
        assert "deleted" in await notice_after(portal, await submit(portal, ROBOTS, f"{base}/delete", {}))
    assert await robots_of(client) == {}


async def test_a_robot_form_without_the_csrf_token_is_refused(app: ASGIApp, client: httpx.AsyncClient,
                                                              team: str) -> None:
    async with signed_in(app, "owner") as portal:
        await portal.get(ROBOTS)
        response = await portal.post(ROBOTS, data={"name": "ci", "days": "30", "permission": "repository:pull"})
        assert response.status_code == 403
    assert await robots_of(client) == {}


async def test_repositories_are_deleted_by_maintainers_not_guests(app: ASGIApp, client: httpx.AsyncClient,
                                                                  services: Services, team: str) -> None:
    action = "/harbor/projects/team/delete-repository/notebook"
    async with signed_in(app, "viewer") as portal:
        page = await portal.get(REPOSITORIES)
        assert "team/notebook" in page.text and action not in page.text
        refused = await submit(portal, REPOSITORIES, action, {})
        assert refused.status_code == 303 and (await client.get(repo_url("team/notebook"))).status_code == 200
    await insert_member(services, "keeper", "team", Role.MAINTAINER)
    async with signed_in(app, "keeper") as portal:
        assert action in (await portal.get(f"{REPOSITORIES}/notebook")).text
        done = await submit(portal, REPOSITORIES, action, {})
        assert done.headers["location"] == REPOSITORIES
        assert "Repository team/notebook deleted." in await notice_after(portal, done)
    assert (await client.get(repo_url("team/notebook"))).status_code == 404


async def test_a_project_is_deleted_only_once_empty_and_only_by_its_admin(app: ASGIApp, client: httpx.AsyncClient,
                                                                         team: str) -> None:
    async with signed_in(app, "dev") as portal:
        assert "Delete project" not in (await portal.get(CONFIGURATION)).text
        await submit(portal, CONFIGURATION, "/harbor/projects/team/delete", {})
    assert (await client.get(f"{API}/projects/team")).status_code == 200
    async with signed_in(app, "owner") as portal:
        assert "Delete project" in (await portal.get(CONFIGURATION)).text
        blocked = await submit(portal, CONFIGURATION, "/harbor/projects/team/delete", {})
        assert blocked.headers["location"] == CONFIGURATION
        assert "repositor" in await notice_after(portal, blocked)
        assert (await client.delete(repo_url("team/notebook"))).status_code == 200
        done = await submit(portal, CONFIGURATION, "/harbor/projects/team/delete", {})
        assert done.headers["location"] == "/harbor/projects"
        assert "Project team deleted." in await notice_after(portal, done)
    assert (await client.get(f"{API}/projects/team")).status_code == 404


async def test_the_secret_page_is_not_cached_and_other_projects_robots_are_out_of_reach(
        app: ASGIApp, client: httpx.AsyncClient, services: Services, team: str) -> None:
    await create_project(client, "other")
    await insert_member(services, "rival", "other", Role.PROJECT_ADMIN)
    async with signed_in(app, "owner") as portal:
        created = await create_robot(portal, "ci", ["repository:pull"])
        assert created.headers["cache-control"] == "no-store"
    robot_id = (await robots_of(client))["robot$team+ci"]["id"]
    async with signed_in(app, "rival") as portal:  # admin of `other`, a stranger to `team`
        other_robots = "/harbor/projects/other/robots"
        refused = await submit(portal, other_robots, f"{other_robots}/{robot_id}/delete", {})
        assert "not found" in await notice_after(portal, refused)
        hidden = await submit(portal, "/harbor/projects", f"{ROBOTS}/{robot_id}/enable", {"disable": "true"})
        assert hidden.status_code == 303
    robot = (await robots_of(client))["robot$team+ci"]
    assert robot["disable"] is False


async def test_strangers_and_guests_delete_nothing(app: ASGIApp, client: httpx.AsyncClient, services: Services,
                                                  team: str) -> None:
    await insert_member(services, "stranger")
    async with signed_in(app, "stranger") as portal:
        assert (await portal.get(CONFIGURATION, headers={"accept": "text/html"})).status_code == 404
        for action in ("/harbor/projects/team/delete", "/harbor/projects/team/delete-repository/notebook"):
            refused = await submit(portal, "/harbor/projects", action, {})
            assert "not found" in await notice_after(portal, refused)
    assert (await client.get(repo_url("team/notebook"))).status_code == 200
    async with signed_in(app, "viewer") as portal:
        page = await portal.get(CONFIGURATION)
        assert page.status_code == 200 and "Delete project" not in page.text
        # empty: only the permission stands in the way
        assert (await client.delete(repo_url("team/notebook"))).status_code == 200
        refused = await submit(portal, CONFIGURATION, "/harbor/projects/team/delete", {})
        assert "denied" in (await notice_after(portal, refused)).lower()
    assert (await client.get(f"{API}/projects/team")).status_code == 200


async def test_deletes_without_the_csrf_token_are_refused(app: ASGIApp, client: httpx.AsyncClient,
                                                          services: Services, team: str) -> None:
    await create_project(client, "empty")
    await insert_member(services, "boss", "empty", Role.PROJECT_ADMIN)
    async with signed_in(app, "owner") as portal:
        await portal.get(REPOSITORIES)
        refused = await portal.post("/harbor/projects/team/delete-repository/notebook", data={"back": REPOSITORIES})
        assert refused.status_code == 403
    async with signed_in(app, "boss") as portal:
        await portal.get("/harbor/projects/empty/configuration")
        refused = await portal.post("/harbor/projects/empty/delete", data={"back": "/harbor/projects"})
        assert refused.status_code == 403
    assert (await client.get(repo_url("team/notebook"))).status_code == 200
    assert (await client.get(f"{API}/projects/empty")).status_code == 200


@pytest.mark.parametrize("robot_id", [str(2**31), "0", "12345678901234567"])
async def test_a_robot_id_that_can_name_no_row_is_not_found(app: ASGIApp, team: str, robot_id: str) -> None:
    async with signed_in(app, "owner") as portal:
        response = await submit(portal, ROBOTS, f"{ROBOTS}/{robot_id}/delete", {})
        assert f"robot {robot_id} not found" in await notice_after(portal, response)
