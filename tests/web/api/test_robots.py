"""The Harbor robot account API (`/api/v2.0/robots...`) in process, and what robots may then do on
/v2 and the token service: exactly their permissions, never more than their creator's."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from accounts_support import add_member, project_id, push_image, signed_in
from harborapi.models import Robot as HarborRobot
from harborapi.models import RobotCreated as HarborRobotCreated
from sqlalchemy import select
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.store import robots as robot_store
from portside.store.tables import audit_logs

API = "/api/v2.0"
PASSWORD = "Passw0rdOfAlice"
DAY = 86_400
ROBOT_FIELDS = {"id", "name", "description", "level", "duration", "editable", "disable", "expires_at",
                "permissions", "creator_type", "creator_ref", "creation_time", "update_time"}


# --- helpers ------------------------------------------------------------------------------------

def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of an error response with exactly one error."""
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return response.status_code, errors[0]["code"], errors[0]["message"]


async def create_user(client: httpx.AsyncClient, username: str) -> int:
    response = await client.post(f"{API}/users", json={"username": username, "password": PASSWORD,
                                                       "email": f"{username}@example.org"})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def access(*pairs: str) -> list[dict[str, str]]:
    """Access entries from 'resource:action' strings."""
    return [{"resource": pair.split(":")[0], "action": pair.split(":")[1]} for pair in pairs]


def project_robot(name: str, project: str, *pairs: str, **extra: Any) -> dict[str, Any]:
    """A RobotCreate body for a project robot granted `pairs` on `project`."""
    return {"name": name, "level": "project", "description": f"{name} robot",
            "permissions": [{"kind": "project", "namespace": project, "access": access(*pairs)}], **extra}


async def create_robot(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """POST /robots, asserting 201; the RobotCreated body."""
    response = await http.post(f"{API}/robots", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def token_actions(response: httpx.Response) -> list[str]:
    """The actions of the single access entry of a token service response."""
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["token"], options={"verify_signature": False})
    (entry,) = claims["access"]
    actions: list[str] = entry["actions"]
    return actions


async def start_upload_status(http: httpx.AsyncClient, repository: str) -> httpx.Response:
    return await http.post(f"/v2/{repository}/blobs/uploads/")


@pytest.fixture
async def team(client: httpx.AsyncClient) -> str:
    """A private project `team` (with `team/app:v1`), created by the admin's push."""
    await push_image(client, "team/app")
    return "team"


@pytest.fixture
async def puller(client: httpx.AsyncClient, team: str) -> dict[str, Any]:
    """A pull-only project robot of `team`: RobotCreated."""
    return await create_robot(client, project_robot("puller", team, "repository:pull"))


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> int:
    return await create_user(client, "alice")


@pytest.fixture
async def alice_client(app: ASGIApp, alice: int) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(app, "alice", PASSWORD) as http:
        yield http


# --- creating robots ----------------------------------------------------------------------------

async def test_a_project_robot_is_named_after_its_project(client: httpx.AsyncClient, team: str) -> None:
    before = int(time.time())

    response = await client.post(f"{API}/robots", json=project_robot("ci", team, "repository:pull"))

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "name", "secret", "creation_time", "expires_at"}
    assert body["name"] == "robot$team+ci"
    assert response.headers["location"] == f"{API}/robots/{body['id']}"
    assert before + 30 * DAY - 5 <= body["expires_at"] <= int(time.time()) + 30 * DAY + 5
    assert HarborRobotCreated.model_validate(body).secret == body["secret"]


async def test_a_generated_robot_secret_meets_the_password_policy(puller: dict[str, Any]) -> None:
    secret = puller["secret"]

    assert len(secret) == 32
    assert any(c.isupper() for c in secret) and any(c.islower() for c in secret) and any(c.isdigit() for c in secret)


async def test_a_robot_is_served_with_harbors_fields_and_never_its_secret(client: httpx.AsyncClient,
                                                                          puller: dict[str, Any]) -> None:
    response = await client.get(f"{API}/robots/{puller['id']}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ROBOT_FIELDS
    assert puller["secret"] not in response.text
    assert (body["name"], body["level"], body["duration"], body["disable"], body["editable"]) == (
        "robot$team+puller", "project", 30, False, True)
    assert body["permissions"] == [{"kind": "project", "namespace": "team",
                                    "access": [{"resource": "repository", "action": "pull", "effect": "allow"}]}]
    assert (body["creator_type"], body["expires_at"]) == ("local", puller["expires_at"])
    assert HarborRobot.model_validate(body).id == puller["id"]


async def test_an_admin_creates_a_system_robot(client: httpx.AsyncClient, team: str) -> None:
    created = await create_robot(client, {"name": "mirror", "level": "system", "duration": -1, "permissions": [
        {"kind": "system", "namespace": "/", "access": access("project:list")},
        {"kind": "project", "namespace": "*", "access": access("repository:pull")}]})

    assert (created["name"], created["expires_at"]) == ("robot$mirror", -1)
    assert (await client.get(f"{API}/robots/{created['id']}")).json()["level"] == "system"


async def test_a_system_robot_with_all_projects_pulls_from_any_project(app: ASGIApp, client: httpx.AsyncClient,
                                                                       team: str) -> None:
    created = await create_robot(client, {"name": "mirror", "level": "system", "permissions": [
        {"kind": "project", "namespace": "*", "access": access("repository:pull")}]})

    async with signed_in(app, created["name"], created["secret"]) as robot:
        assert (await robot.get("/v2/team/app/manifests/v1")).status_code == 200


async def test_a_non_admin_cannot_create_a_system_robot(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.post(f"{API}/robots", json={"name": "mine", "level": "system", "permissions": [
        {"kind": "system", "namespace": "/", "access": access("project:create")}]})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_anonymous_cannot_create_robots(anonymous_client: httpx.AsyncClient, team: str) -> None:
    response = await anonymous_client.post(f"{API}/robots", json=project_robot("ci", team, "repository:pull"))

    assert error_of(response)[:2] == (401, "UNAUTHORIZED")


async def test_an_own_policy_valid_secret_is_kept(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    created = await create_robot(client, project_robot("ci", team, "repository:pull", secret="MyRob0tSecret"))

    assert created["secret"] == "MyRob0tSecret"
    async with signed_in(app, "robot$team+ci", "MyRob0tSecret") as robot:
        assert (await robot.get("/v2/team/app/manifests/v1")).status_code == 200


@pytest.mark.parametrize("change", [
    {"secret": "weak"},
    {"name": "Bad Name"},
    {"name": ""},
    {"level": "galaxy"},
    {"duration": 0},
    {"duration": -2},
    {"permissions": []},
    {"permissions": [{"kind": "project", "namespace": "team", "access": access("repository:fly")}]},
    {"permissions": [{"kind": "project", "namespace": "team", "access": access("spaceship:pull")}]},
    {"permissions": [{"kind": "project", "namespace": "team", "access": []}]},
    {"permissions": [{"kind": "cluster", "namespace": "team", "access": access("repository:pull")}]},
    {"permissions": [{"kind": "project", "namespace": "team",
                      "access": [{"resource": "repository", "action": "pull", "effect": "maybe"}]}]},
    {"permissions": [{"kind": "system", "namespace": "/", "access": access("user:list")}]},
    {"permissions": [{"kind": "project", "namespace": "*", "access": access("repository:pull")}]},
    {"permissions": [{"kind": "project", "namespace": "team", "access": access("repository:pull")},
                     {"kind": "project", "namespace": "team", "access": access("repository:push")}]},
], ids=["weak-secret", "bad-name", "empty-name", "bad-level", "zero-duration", "negative-duration",
        "no-permissions", "unknown-action", "unknown-resource", "no-access", "unknown-kind", "unknown-effect",
        "project-robot-with-system-kind", "project-robot-on-all-projects", "two-permissions"])
async def test_invalid_robot_requests_are_400(client: httpx.AsyncClient, team: str, change: dict[str, Any]) -> None:
    response = await client.post(f"{API}/robots", json={**project_robot("ci", team, "repository:pull"), **change})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_a_robot_for_an_unknown_project_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/robots", json=project_robot("ci", "nowhere", "repository:pull"))

    assert error_of(response)[:2] == (404, "NOT_FOUND")


async def test_a_duplicate_robot_name_is_409(client: httpx.AsyncClient, puller: dict[str, Any]) -> None:
    response = await client.post(f"{API}/robots", json=project_robot("puller", "team", "repository:pull"))

    assert error_of(response)[:2] == (409, "CONFLICT")


async def test_a_project_admin_creates_a_push_robot(client: httpx.AsyncClient, services: Services, team: str,
                                                    alice: int, alice_client: httpx.AsyncClient) -> None:
    await add_member(services, team, alice, Role.PROJECT_ADMIN)

    created = await create_robot(alice_client, project_robot("builder", team, "repository:pull", "repository:push"))

    robot = (await alice_client.get(f"{API}/robots/{created['id']}")).json()
    assert (robot["creator_type"], robot["creator_ref"]) == ("local", alice)


async def test_a_developer_cannot_create_a_robot_with_artifact_delete(services: Services, team: str, alice: int,
                                                                      alice_client: httpx.AsyncClient) -> None:
    await add_member(services, team, alice, Role.DEVELOPER)

    response = await alice_client.post(f"{API}/robots", json=project_robot("cleaner", team, "artifact:delete"))

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_a_creator_cannot_grant_what_they_lack(services: Services, team: str, alice: int,
                                                     alice_client: httpx.AsyncClient) -> None:
    await add_member(services, team, alice, Role.PROJECT_ADMIN)

    response = await alice_client.post(f"{API}/robots", json=project_robot(
        "sneaky", team, "repository:pull", "immutable-tag:read"))

    status, code, message = error_of(response)
    assert (status, code) == (403, "FORBIDDEN")
    assert message.startswith("permission scope is invalid")
    assert "team:immutable-tag:read" in message


async def test_a_non_member_gets_404_for_a_private_project(alice_client: httpx.AsyncClient, team: str) -> None:
    response = await alice_client.post(f"{API}/robots", json=project_robot("ci", team, "repository:pull"))

    assert error_of(response)[:2] == (404, "NOT_FOUND")


async def test_a_robot_creates_robots_only_within_its_own_scope(app: ASGIApp, client: httpx.AsyncClient,
                                                                team: str) -> None:
    maker = await create_robot(client, project_robot("maker", team, "robot:create", "repository:pull"))

    async with signed_in(app, maker["name"], maker["secret"]) as robot:
        refused = await robot.post(f"{API}/robots", json=project_robot("pusher", team, "repository:push"))
        allowed = await robot.post(f"{API}/robots", json=project_robot("child", team, "repository:pull"))

    assert error_of(refused)[:2] == (403, "FORBIDDEN")
    assert "permission scope is invalid" in error_of(refused)[2]
    assert allowed.status_code == 201, allowed.text
    child = (await client.get(f"{API}/robots/{allowed.json()['id']}")).json()
    assert (child["creator_type"], child["creator_ref"]) == ("robot", maker["id"])


async def test_a_robot_that_never_expires_has_expires_at_minus_one(client: httpx.AsyncClient, team: str) -> None:
    created = await create_robot(client, project_robot("forever", team, "repository:pull", duration=-1))

    assert created["expires_at"] == -1


async def test_creating_a_robot_is_audited(client: httpx.AsyncClient, services: Services,
                                           puller: dict[str, Any]) -> None:
    await services.flush()

    rows = await audit_rows(services, "create")
    assert rows == [("admin", "robot$team+puller", await project_id(services, "team"))]


async def audit_rows(services: Services, operation: str) -> list[tuple[Any, ...]]:
    async with services.db.read() as conn:
        result = await conn.execute(select(audit_logs.c.username, audit_logs.c.resource, audit_logs.c.project_id)
                                    .where(audit_logs.c.resource_type == "robot",
                                           audit_logs.c.operation == operation))
    return [tuple(row) for row in result]


# --- what robots may do on /v2 and the token service --------------------------------------------

async def test_a_pull_only_robot_token_grants_only_pull(app: ASGIApp, puller: dict[str, Any]) -> None:
    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        response = await robot.get("/service/token", params={"service": "harbor-registry",
                                                             "scope": "repository:team/app:pull,push"})

    assert token_actions(response) == ["pull"]


async def test_a_pull_only_robot_pulls_with_basic_auth(app: ASGIApp, client: httpx.AsyncClient, team: str,
                                                       puller: dict[str, Any]) -> None:
    digest = (await client.head("/v2/team/app/manifests/v1")).headers["docker-content-digest"]

    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        response = await robot.get("/v2/team/app/manifests/v1")

    assert response.status_code == 200, response.text
    assert response.headers["docker-content-digest"] == digest


async def test_a_pull_only_robot_cannot_push_with_basic_auth(app: ASGIApp, puller: dict[str, Any]) -> None:
    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        response = await start_upload_status(robot, "team/app")

    assert error_of(response)[:2] == (403, "DENIED")


async def test_a_project_robot_gets_nothing_in_another_project(app: ASGIApp, client: httpx.AsyncClient,
                                                               puller: dict[str, Any]) -> None:
    await push_image(client, "other/app")

    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        response = await robot.get("/service/token", params={"service": "harbor-registry",
                                                             "scope": "repository:other/app:pull"})

    assert token_actions(response) == []


async def test_a_push_robot_pushes(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    pusher = await create_robot(client, project_robot("pusher", team, "repository:pull", "repository:push"))

    async with signed_in(app, pusher["name"], pusher["secret"]) as robot:
        await push_image(robot, "team/built", "v2")


async def test_a_disabled_robot_cannot_sign_in(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    created = await create_robot(client, project_robot("off", team, "repository:pull", disable=True))

    async with signed_in(app, created["name"], created["secret"]) as robot:
        registry = await robot.get("/v2/team/app/manifests/v1")
        token = await robot.get("/service/token", params={"service": "harbor-registry",
                                                          "scope": "repository:team/app:pull"})

    assert (registry.status_code, token.status_code) == (401, 401)


async def test_an_expired_robot_cannot_sign_in(app: ASGIApp, services: Services, puller: dict[str, Any]) -> None:
    async with services.db.write() as conn:
        await robot_store.update_fields(conn, puller["id"], expires_at=int(time.time()) - 60)
    services.authenticator.forget_all()

    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        registry = await robot.get("/v2/team/app/manifests/v1")
        api = await robot.get(f"{API}/robots/{puller['id']}")

    assert (registry.status_code, api.status_code) == (401, 401)


async def test_a_wrong_robot_secret_is_401(app: ASGIApp, puller: dict[str, Any]) -> None:
    async with signed_in(app, puller["name"], "Wr0ngSecretValue") as robot:
        assert (await robot.get("/v2/team/app/manifests/v1")).status_code == 401


async def test_a_robot_lists_its_own_permissions(app: ASGIApp, puller: dict[str, Any]) -> None:
    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        response = await robot.get(f"{API}/users/current/permissions",
                                   params={"scope": "/project/team", "relative": "true"})

    assert response.json() == [{"resource": "repository", "action": "pull"}]


# --- listing robots -----------------------------------------------------------------------------

async def test_an_admin_lists_robots_by_project(client: httpx.AsyncClient, services: Services,
                                                puller: dict[str, Any]) -> None:
    await push_image(client, "other/app")
    await create_robot(client, project_robot("elsewhere", "other", "repository:pull"))
    pid = await project_id(services, "team")

    response = await client.get(f"{API}/robots", params={"q": f"Level=project,ProjectID={pid}"})

    assert response.status_code == 200, response.text
    assert [robot["name"] for robot in response.json()] == ["robot$team+puller"]
    assert response.headers["x-total-count"] == "1"


async def test_an_admin_lists_every_robot_paged_and_fuzzy(client: httpx.AsyncClient, team: str) -> None:
    for name in ("build-a", "build-b", "deploy"):
        await create_robot(client, project_robot(name, team, "repository:pull"))

    response = await client.get(f"{API}/robots", params={"q": "name=~build", "page_size": 1, "sort": "-name"})

    assert [robot["name"] for robot in response.json()] == ["robot$team+build-b"]
    assert response.headers["x-total-count"] == "2"
    assert 'rel="next"' in response.headers["link"]


async def test_a_member_lists_only_robots_of_their_projects(client: httpx.AsyncClient, services: Services,
                                                            puller: dict[str, Any], alice: int,
                                                            alice_client: httpx.AsyncClient) -> None:
    await push_image(client, "other/app")
    await create_robot(client, project_robot("elsewhere", "other", "repository:pull"))
    await create_robot(client, {"name": "sys", "level": "system", "permissions": [
        {"kind": "system", "namespace": "/", "access": access("project:list")}]})
    await add_member(services, "team", alice, Role.GUEST)

    response = await alice_client.get(f"{API}/robots")

    assert [robot["name"] for robot in response.json()] == ["robot$team+puller"]


async def test_a_non_member_sees_no_robots(alice_client: httpx.AsyncClient, puller: dict[str, Any]) -> None:
    response = await alice_client.get(f"{API}/robots")

    assert (response.status_code, response.json(), response.headers["x-total-count"]) == (200, [], "0")


async def test_a_non_member_asking_for_a_project_gets_404(services: Services, alice_client: httpx.AsyncClient,
                                                          puller: dict[str, Any]) -> None:
    pid = await project_id(services, "team")

    response = await alice_client.get(f"{API}/robots", params={"q": f"ProjectID={pid}"})

    assert error_of(response)[:2] == (404, "NOT_FOUND")


async def test_a_non_admin_cannot_list_system_robots(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.get(f"{API}/robots", params={"q": "Level=system"})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


@pytest.mark.parametrize("q", ["ProjectID=abc", "Level=galaxy", "secret=x"])
async def test_bad_robot_queries_are_400(client: httpx.AsyncClient, q: str) -> None:
    assert error_of(await client.get(f"{API}/robots", params={"q": q}))[:2] == (400, "BAD_REQUEST")


async def test_anonymous_cannot_list_robots(anonymous_client: httpx.AsyncClient) -> None:
    assert error_of(await anonymous_client.get(f"{API}/robots"))[:2] == (401, "UNAUTHORIZED")


# --- one robot: get, update, refresh, delete ----------------------------------------------------

async def test_an_unknown_robot_is_404(client: httpx.AsyncClient) -> None:
    assert error_of(await client.get(f"{API}/robots/4242"))[:2] == (404, "NOT_FOUND")


async def test_a_robot_of_a_hidden_project_is_404(alice_client: httpx.AsyncClient, puller: dict[str, Any]) -> None:
    assert error_of(await alice_client.get(f"{API}/robots/{puller['id']}"))[:2] == (404, "NOT_FOUND")


async def test_a_limited_guest_cannot_read_project_robots(services: Services, alice: int,
                                                          alice_client: httpx.AsyncClient,
                                                          puller: dict[str, Any]) -> None:
    await add_member(services, "team", alice, Role.LIMITED_GUEST)

    assert error_of(await alice_client.get(f"{API}/robots/{puller['id']}"))[:2] == (403, "FORBIDDEN")


async def test_an_update_changes_description_duration_and_disable(client: httpx.AsyncClient,
                                                                  puller: dict[str, Any]) -> None:
    robot = (await client.get(f"{API}/robots/{puller['id']}")).json()
    created = int(HarborRobot.model_validate(robot).creation_time.timestamp())  # type: ignore[union-attr]

    response = await client.put(f"{API}/robots/{puller['id']}",
                                json={**robot, "description": "nightly", "duration": 7, "disable": True})

    assert response.status_code == 200, response.text
    updated = (await client.get(f"{API}/robots/{puller['id']}")).json()
    assert (updated["description"], updated["duration"], updated["disable"]) == ("nightly", 7, True)
    assert abs(updated["expires_at"] - (created + 7 * DAY)) <= 1


async def test_disabling_a_robot_locks_it_out_at_once(app: ASGIApp, client: httpx.AsyncClient,
                                                      puller: dict[str, Any]) -> None:
    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        assert (await robot.get("/v2/team/app/manifests/v1")).status_code == 200
        await client.put(f"{API}/robots/{puller['id']}", json={"disable": True})

        assert (await robot.get("/v2/team/app/manifests/v1")).status_code == 401


async def test_an_update_replaces_the_permissions(app: ASGIApp, client: httpx.AsyncClient,
                                                  puller: dict[str, Any]) -> None:
    response = await client.put(f"{API}/robots/{puller['id']}", json={"permissions": [
        {"kind": "project", "namespace": "team", "access": access("repository:pull", "repository:push")}]})

    assert response.status_code == 200, response.text
    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        token = await robot.get("/service/token", params={"service": "harbor-registry",
                                                          "scope": "repository:team/app:pull,push"})
    assert token_actions(token) == ["pull", "push"]


async def test_an_update_cannot_rename_a_robot(client: httpx.AsyncClient, puller: dict[str, Any]) -> None:
    response = await client.put(f"{API}/robots/{puller['id']}", json={"name": "robot$team+renamed"})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_an_update_cannot_move_a_robot_to_another_project(client: httpx.AsyncClient,
                                                                puller: dict[str, Any]) -> None:
    await push_image(client, "other/app")

    response = await client.put(f"{API}/robots/{puller['id']}", json={"permissions": [
        {"kind": "project", "namespace": "other", "access": access("repository:pull")}]})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_an_updater_cannot_grant_what_they_lack(services: Services, alice: int,
                                                      alice_client: httpx.AsyncClient,
                                                      puller: dict[str, Any]) -> None:
    await add_member(services, "team", alice, Role.PROJECT_ADMIN)

    response = await alice_client.put(f"{API}/robots/{puller['id']}", json={"permissions": [
        {"kind": "project", "namespace": "team", "access": access("project:create")}]})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_a_guest_cannot_update_robots(services: Services, alice: int, alice_client: httpx.AsyncClient,
                                            puller: dict[str, Any]) -> None:
    await add_member(services, "team", alice, Role.GUEST)

    response = await alice_client.put(f"{API}/robots/{puller['id']}", json={"description": "mine"})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_updating_a_robot_is_audited(client: httpx.AsyncClient, services: Services,
                                           puller: dict[str, Any]) -> None:
    await client.put(f"{API}/robots/{puller['id']}", json={"description": "nightly"})
    await services.flush()

    assert await audit_rows(services, "update") == [("admin", "robot$team+puller", await project_id(services, "team"))]


async def test_a_refresh_generates_a_new_secret_and_retires_the_old(app: ASGIApp, client: httpx.AsyncClient,
                                                                    puller: dict[str, Any]) -> None:
    response = await client.patch(f"{API}/robots/{puller['id']}", json={"secret": ""})

    assert response.status_code == 200, response.text
    new_secret = response.json()["secret"]
    assert new_secret != puller["secret"] and len(new_secret) == 32
    async with signed_in(app, puller["name"], new_secret) as new, signed_in(app, puller["name"],
                                                                             puller["secret"]) as old:
        assert (await new.get("/v2/team/app/manifests/v1")).status_code == 200
        assert (await old.get("/v2/team/app/manifests/v1")).status_code == 401


async def test_a_refresh_keeps_a_policy_valid_own_secret(app: ASGIApp, client: httpx.AsyncClient,
                                                         puller: dict[str, Any]) -> None:
    response = await client.patch(f"{API}/robots/{puller['id']}", json={"secret": "Chosen5ecret"})

    assert response.json() == {"secret": "Chosen5ecret"}
    async with signed_in(app, puller["name"], "Chosen5ecret") as robot:
        assert (await robot.get("/v2/team/app/manifests/v1")).status_code == 200


async def test_a_refresh_with_a_weak_secret_is_400(client: httpx.AsyncClient, puller: dict[str, Any]) -> None:
    response = await client.patch(f"{API}/robots/{puller['id']}", json={"secret": "weak"})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_a_robot_refreshes_its_own_secret(app: ASGIApp, puller: dict[str, Any]) -> None:
    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        response = await robot.patch(f"{API}/robots/{puller['id']}", json={"secret": ""})

    assert response.status_code == 200, response.text
    async with signed_in(app, puller["name"], response.json()["secret"]) as renewed:
        assert (await renewed.get("/v2/team/app/manifests/v1")).status_code == 200


async def test_a_delete_removes_the_robot_and_its_access(app: ASGIApp, client: httpx.AsyncClient,
                                                         puller: dict[str, Any]) -> None:
    response = await client.delete(f"{API}/robots/{puller['id']}")

    assert response.status_code == 200, response.text
    assert error_of(await client.get(f"{API}/robots/{puller['id']}"))[:2] == (404, "NOT_FOUND")
    async with signed_in(app, puller["name"], puller["secret"]) as robot:
        assert (await robot.get("/v2/team/app/manifests/v1")).status_code == 401


async def test_deleting_an_unknown_robot_is_404(client: httpx.AsyncClient) -> None:
    assert error_of(await client.delete(f"{API}/robots/4242"))[:2] == (404, "NOT_FOUND")


async def test_a_developer_cannot_delete_robots(services: Services, alice: int, alice_client: httpx.AsyncClient,
                                                puller: dict[str, Any]) -> None:
    await add_member(services, "team", alice, Role.DEVELOPER)

    assert error_of(await alice_client.delete(f"{API}/robots/{puller['id']}"))[:2] == (403, "FORBIDDEN")


async def test_deleting_a_robot_is_audited(client: httpx.AsyncClient, services: Services,
                                           puller: dict[str, Any]) -> None:
    await client.delete(f"{API}/robots/{puller['id']}")
    await services.flush()

    assert await audit_rows(services, "delete") == [("admin", "robot$team+puller", await project_id(services, "team"))]
