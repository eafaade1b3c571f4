"""Portal forms: each one changes what the API shows, and only where the policy allows it."""

from __future__ import annotations

import httpx
import pytest
from portal_support import (
    API,
    PASSWORD,
    browser,
    create_project,
    insert_member,
    notice_after,
    page_token,
    push_image,
    repo_url,
    sign_in,
    signed_in,
    submit,
)
from starlette.types import ASGIApp

from fixture_values import ADMIN_PASSWORD
from portside.domain.identity import PROJECT_NAME_RULE
from portside.domain.rbac import Role
from portside.services.bundle import Services

MEMBERS = "/harbor/projects/team/members"
REPOSITORY = "/harbor/projects/team/repositories/notebook"


@pytest.fixture
async def team(client: httpx.AsyncClient, services: Services) -> str:
    """A private project `team` with team/notebook:1.0, its projectAdmin `owner`, maintainer `keeper`
    and developer `dev`; `outsider` belongs to none."""
    await create_project(client, "team")
    await push_image(client, "team/notebook", "1.0")
    await insert_member(services, "owner", "team", Role.PROJECT_ADMIN)
    await insert_member(services, "keeper", "team", Role.MAINTAINER)
    await insert_member(services, "dev", "team", Role.DEVELOPER)
    await insert_member(services, "outsider")
    return "team"


async def members_of(client: httpx.AsyncClient) -> dict[str, int]:
    listed = await client.get(f"{API}/projects/team/members")
    return {member["entity_name"]: member["role_id"] for member in listed.json()}


async def member_id(client: httpx.AsyncClient, username: str) -> int:
    listed = await client.get(f"{API}/projects/team/members", params={"entityname": username})
    return int(listed.json()[0]["id"])


async def tags_of(client: httpx.AsyncClient) -> list[str]:
    listed = await client.get(f"{repo_url('team/notebook')}/artifacts", params={"with_tag": "true"})
    return sorted(tag["name"] for artifact in listed.json() for tag in artifact.get("tags") or [])


async def test_creating_a_project_with_a_bad_name_explains_the_rule(app: ASGIApp, client: httpx.AsyncClient,
                                                                    services: Services) -> None:
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        response = await submit(portal, "/harbor/projects", "/harbor/projects", {"project_name": "Bad Name"})
        notice = await notice_after(portal, response)
    assert PROJECT_NAME_RULE.replace("'", "&#39;") in notice


async def test_creating_a_project_makes_the_user_its_admin(app: ASGIApp, client: httpx.AsyncClient,
                                                           services: Services) -> None:
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        response = await submit(portal, "/harbor/projects", "/harbor/projects",
                                {"project_name": "alice-lab", "public": "true"})
    assert response.headers["location"] == "/harbor/projects/alice-lab"
    project = (await client.get(f"{API}/projects/alice-lab")).json()
    assert (project["owner_name"], project["metadata"]["public"]) == ("alice", "true")


async def test_a_maintainer_adds_a_member_by_name(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    async with signed_in(app, "keeper") as portal:
        response = await submit(portal, MEMBERS, MEMBERS, {"username": "outsider", "role_id": "3"})
    assert response.status_code == 303
    assert (await members_of(client))["outsider"] == int(Role.GUEST)


async def test_a_maintainer_cannot_grant_project_admin(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    async with signed_in(app, "keeper") as portal:
        response = await submit(portal, MEMBERS, MEMBERS, {"username": "outsider", "role_id": "1"})
        notice = await notice_after(portal, response)
    assert "only a projectAdmin can grant" in notice
    assert "outsider" not in await members_of(client)


async def test_a_developer_cannot_add_members(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    async with signed_in(app, "dev") as portal:
        response = await submit(portal, REPOSITORY, MEMBERS, {"username": "outsider", "role_id": "2"})
        notice = await notice_after(portal, response)
    assert notice == "requested access to the resource is denied"
    assert "outsider" not in await members_of(client)


async def test_a_project_admin_changes_a_role(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    target = await member_id(client, "dev")
    async with signed_in(app, "owner") as portal:
        response = await submit(portal, MEMBERS, f"{MEMBERS}/{target}/role", {"role_id": "4"})
    assert response.status_code == 303
    assert (await members_of(client))["dev"] == int(Role.MAINTAINER)


async def test_a_project_admin_removes_a_member(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    target = await member_id(client, "dev")
    async with signed_in(app, "owner") as portal:
        await submit(portal, MEMBERS, f"{MEMBERS}/{target}/remove", {})
    assert "dev" not in await members_of(client)


async def test_a_session_cannot_act_on_another_users_private_project(app: ASGIApp, client: httpx.AsyncClient,
                                                                     team: str) -> None:
    async with signed_in(app, "outsider") as portal:
        response = await submit(portal, "/harbor/projects", MEMBERS, {"username": "outsider", "role_id": "1"})
        notice = await notice_after(portal, response)
    assert notice == "project team not found"
    assert "outsider" not in await members_of(client)


async def test_the_configuration_form_sets_publicity_and_scanning(app: ASGIApp, client: httpx.AsyncClient,
                                                                  team: str) -> None:
    page = "/harbor/projects/team/configuration"
    async with signed_in(app, "owner") as portal:
        await submit(portal, page, page, {"public": "true", "auto_scan": "true", "prevent_vul": "true",
                                          "severity": "high"})
    metadata = (await client.get(f"{API}/projects/team")).json()["metadata"]
    assert {key: metadata.get(key) for key in ("public", "auto_scan", "prevent_vul", "severity")} == {
        "public": "true", "auto_scan": "true", "prevent_vul": "true", "severity": "high"}


async def test_a_developer_cannot_change_the_configuration(app: ASGIApp, client: httpx.AsyncClient,
                                                           team: str) -> None:
    page = "/harbor/projects/team/configuration"
    async with signed_in(app, "dev") as portal:
        await submit(portal, page, page, {"public": "true"})
    assert (await client.get(f"{API}/projects/team")).json()["metadata"]["public"] == "false"


async def test_making_a_project_private_locks_out_anonymous_visitors(app: ASGIApp, client: httpx.AsyncClient,
                                                                     team: str) -> None:
    page = "/harbor/projects/team/configuration"
    async with signed_in(app, "owner") as portal:
        await submit(portal, page, page, {"public": "true"})
        async with browser(app) as anonymous:
            assert (await anonymous.get(REPOSITORY)).status_code == 200
            await submit(portal, page, page, {})
            assert (await anonymous.get(REPOSITORY)).status_code == 303


async def test_the_description_form_saves_the_description(app: ASGIApp, client: httpx.AsyncClient,
                                                          team: str) -> None:
    async with signed_in(app, "dev") as portal:
        await submit(portal, REPOSITORY, "/harbor/projects/team/describe/notebook", {"description": "Astro tools"})
    assert (await client.get(repo_url("team/notebook"))).json()["description"] == "Astro tools"


async def test_a_developer_adds_a_tag(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    async with signed_in(app, "dev") as portal:
        response = await submit(portal, REPOSITORY, "/harbor/projects/team/tag/notebook/1.0", {"tag": "stable"})
        notice = await notice_after(portal, response)
    assert notice == "Tag stable added."
    assert await tags_of(client) == ["1.0", "stable"]


async def test_a_developer_removes_a_tag(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    await client.post(f"{repo_url('team/notebook')}/artifacts/1.0/tags", json={"name": "old"})
    async with signed_in(app, "dev") as portal:
        await submit(portal, REPOSITORY, "/harbor/projects/team/untag/notebook/1.0", {"tag": "old"})
    assert await tags_of(client) == ["1.0"]


async def test_a_developer_cannot_delete_an_artifact(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    async with signed_in(app, "dev") as portal:
        await submit(portal, REPOSITORY, "/harbor/projects/team/delete-artifact/notebook/1.0", {})
    assert await tags_of(client) == ["1.0"]


async def test_a_maintainer_deletes_an_artifact(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    async with signed_in(app, "keeper") as portal:
        response = await submit(portal, REPOSITORY, "/harbor/projects/team/delete-artifact/notebook/1.0", {})
    assert response.headers["location"] == REPOSITORY
    assert (await client.get(f"{repo_url('team/notebook')}/artifacts")).json() == []


async def test_the_password_form_changes_the_password(app: ASGIApp, services: Services) -> None:
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        response = await submit(portal, "/harbor/profile", "/harbor/profile/password", {
            "old_password": PASSWORD, "new_password": "N3wPassword", "confirm_password": "N3wPassword"})
        assert response.headers["location"] == "/harbor/sign-in"
        assert (await sign_in(portal, "alice", "N3wPassword")).status_code == 303


async def test_the_password_form_checks_the_confirmation(app: ASGIApp, services: Services) -> None:
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        response = await submit(portal, "/harbor/profile", "/harbor/profile/password", {
            "old_password": PASSWORD, "new_password": "N3wPassword", "confirm_password": "N3wPasswordX"})
        notice = await notice_after(portal, response)
    assert notice == "the new password and its confirmation differ"


async def test_the_profile_regenerates_the_cli_secret_through_the_api(app: ASGIApp, services: Services) -> None:
    user_id = await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        token = await page_token(portal, "/harbor/profile")
        response = await portal.put(f"{API}/users/{user_id}/cli_secret", json={"secret": ""},
                                    headers={"X-Harbor-CSRF-Token": token})
        secret = response.json()["secret"]
    async with browser(app) as again:
        assert (await sign_in(again, "alice", secret)).status_code == 303


async def test_a_system_admin_creates_a_user(app: ASGIApp, client: httpx.AsyncClient) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as portal:
        response = await submit(portal, "/harbor/admin/users", "/harbor/admin/users", {
            "username": "carol", "email": "carol@example.org", "password": PASSWORD})
        notice = await notice_after(portal, response)
    assert notice == "User carol created."
    assert (await client.get(f"{API}/users/search", params={"username": "carol"})).json()[0]["username"] == "carol"


async def test_other_users_cannot_create_users(app: ASGIApp, client: httpx.AsyncClient, services: Services) -> None:
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        await submit(portal, "/harbor/projects", "/harbor/admin/users", {
            "username": "mallory", "email": "m@example.org", "password": PASSWORD})
    assert (await client.get(f"{API}/users/search", params={"username": "mallory"})).json() == []
