"""/api/v2.0/projects: create, read, list, HEAD, delete (with force), in process on the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from harborapi.models import Project as HarborProject
from projects_support import (
    API,
    Accounts,
    add_member,
    audit_trail,
    create_project,
    create_robot,
    error_of,
    push_image,
)
from starlette.types import ASGIApp

from portside.domain.identity import PROJECT_NAME_RULE
from portside.services.bundle import Services


@pytest.fixture
async def accounts(services: Services, app: ASGIApp) -> AsyncIterator[Accounts]:
    async with Accounts(services, app) as made:
        yield made


# --- create -------------------------------------------------------------------------------------

async def test_create_answers_201_with_the_id_in_location(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/projects", json={"project_name": "myteam-radio-analysis"})
    assert response.status_code == 201, response.text
    project_id = response.headers["location"].rsplit("/", 1)[1]
    assert response.headers["location"] == f"{API}/projects/{project_id}"
    assert (await client.get(f"{API}/projects/{project_id}")).json()["name"] == "myteam-radio-analysis"


async def test_create_puts_the_name_in_location_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/projects", json={"project_name": "xray-spectroscopy"},
                                 headers={"X-Resource-Name-In-Location": "true"})
    assert response.headers["location"] == f"{API}/projects/xray-spectroscopy"


@pytest.mark.parametrize("name", ["MyTeam_Radio_Analysis", "my team radio", "special-chars-@#$", "-lead", ""])
async def test_names_against_the_rule_are_refused_citing_it(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post(f"{API}/projects", json={"project_name": name})
    assert response.status_code == 400
    assert error_of(response)["code"] == "BAD_REQUEST"
    assert PROJECT_NAME_RULE in error_of(response)["message"]


async def test_a_duplicate_name_is_a_conflict(client: httpx.AsyncClient) -> None:
    await create_project(client, "survey-processing-tools")
    response = await client.post(f"{API}/projects", json={"project_name": "survey-processing-tools"})
    assert response.status_code == 409
    assert error_of(response) == {"code": "CONFLICT", "message": "the project survey-processing-tools already exists"}


async def test_anonymous_callers_cannot_create(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.post(f"{API}/projects", json={"project_name": "mine"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


async def test_the_creator_owns_the_project_as_its_project_admin(accounts: Accounts) -> None:
    alice = await accounts.client("alice")
    await create_project(alice, "alice-lab")
    project = (await alice.get(f"{API}/projects/alice-lab")).json()
    assert (project["owner_id"], project["owner_name"]) == (accounts.user_ids["alice"], "alice")
    assert (project["current_user_role_id"], project["current_user_role_ids"]) == (1, [1])
    members = (await alice.get(f"{API}/projects/alice-lab/members")).json()
    assert [(m["entity_name"], m["role_name"]) for m in members] == [("alice", "projectAdmin")]


async def test_metadata_is_validated_and_normalised(client: httpx.AsyncClient) -> None:
    await create_project(client, "scanned", metadata={"auto_scan": "True", "severity": "HIGH", "prevent_vul": "1"})
    metadata = (await client.get(f"{API}/projects/scanned")).json()["metadata"]
    assert metadata == {"auto_scan": "true", "prevent_vul": "true", "public": "false", "severity": "high"}


@pytest.mark.parametrize(("metadata", "fragment"), [
    ({"auto_scan": "yes"}, 'auto_scan must be "true" or "false"'),
    ({"severity": "severe"}, "severity must be one of none, low, medium, high, critical"),
    ({"colour": "blue"}, "unknown project metadata key 'colour'"),
    ({"proxy_speed_kb": "100"}, "unknown project metadata key 'proxy_speed_kb'"),
    ({"retention_id": "7"}, "retention_id is managed by the retention policy API"),
])
async def test_bad_metadata_is_refused(client: httpx.AsyncClient, metadata: dict[str, str], fragment: str) -> None:
    response = await client.post(f"{API}/projects", json={"project_name": "p1", "metadata": metadata})
    assert response.status_code == 400
    assert fragment in error_of(response)["message"]


async def test_the_deprecated_public_flag_is_honoured(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/projects", json={"project_name": "flagged", "public": True})
    assert (await client.get(f"{API}/projects/flagged")).json()["metadata"]["public"] == "true"


async def test_metadata_public_wins_over_the_flag(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/projects", json={"project_name": "both", "public": True, "metadata": {"public": "false"}})
    assert (await client.get(f"{API}/projects/both")).json()["metadata"]["public"] == "false"


async def test_an_admin_sets_the_storage_limit(client: httpx.AsyncClient) -> None:
    await create_project(client, "limited", storage_limit=1024)
    summary = (await client.get(f"{API}/projects/limited/summary")).json()
    assert summary["quota"]["hard"] == {"storage": 1024}


async def test_a_user_storage_limit_is_replaced_by_the_default(accounts: Accounts) -> None:
    bob = await accounts.client("bob")
    await create_project(bob, "bob-lab", storage_limit=1024)
    assert (await bob.get(f"{API}/projects/bob-lab/summary")).json()["quota"]["hard"] == {"storage": -1}


async def test_a_negative_storage_limit_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/projects", json={"project_name": "neg", "storage_limit": -5})
    assert response.status_code == 400
    assert "storage_limit must be -1 (unlimited) or a positive number" in error_of(response)["message"]


async def test_proxy_cache_projects_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/projects", json={"project_name": "cache", "registry_id": 1})
    assert response.status_code == 400
    assert "proxy cache" in error_of(response)["message"]


async def test_the_cve_allowlist_is_kept(client: httpx.AsyncClient) -> None:
    project_id = await create_project(client, "allow", cve_allowlist={
        "items": [{"cve_id": "CVE-2024-1"}, {"cve_id": "CVE-2024-2"}], "expires_at": 2000000000})
    allowlist = (await client.get(f"{API}/projects/allow")).json()["cve_allowlist"]
    assert allowlist["items"] == [{"cve_id": "CVE-2024-1"}, {"cve_id": "CVE-2024-2"}]
    assert (allowlist["expires_at"], allowlist["project_id"]) == (2000000000, project_id)


async def test_a_malformed_body_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/projects", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "BAD_REQUEST"


# --- read ---------------------------------------------------------------------------------------

async def test_a_project_has_harbors_shape(client: httpx.AsyncClient) -> None:
    project_id = await create_project(client, "shaped", public=True)
    body = (await client.get(f"{API}/projects/{project_id}")).json()
    assert set(body) == {"project_id", "owner_id", "name", "registry_id", "creation_time", "update_time", "deleted",
                         "owner_name", "togglable", "current_user_role_id", "current_user_role_ids", "repo_count",
                         "metadata", "cve_allowlist"}
    assert (body["registry_id"], body["deleted"], body["togglable"], body["repo_count"]) == (None, False, True, 0)
    assert body["creation_time"].endswith("Z")
    assert HarborProject.model_validate(body).name == "shaped"


async def test_a_numeric_name_is_found_by_name_with_the_header(client: httpx.AsyncClient) -> None:
    await create_project(client, "2024")
    response = await client.get(f"{API}/projects/2024", headers={"X-Is-Resource-Name": "true"})
    assert response.json()["name"] == "2024"


async def test_an_unknown_project_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/projects/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


async def test_a_huge_id_is_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/projects/99999999999999")).status_code == 404


async def test_a_private_project_is_hidden_from_non_members(client: httpx.AsyncClient, accounts: Accounts,
                                                            anonymous_client: httpx.AsyncClient) -> None:
    await create_project(client, "secret-lab")
    eve = await accounts.client("eve")
    assert (await eve.get(f"{API}/projects/secret-lab")).status_code == 404
    assert (await eve.head(f"{API}/projects", params={"project_name": "secret-lab"})).status_code == 404
    assert (await anonymous_client.get(f"{API}/projects/secret-lab")).status_code == 401


async def test_head_answers_200_for_a_visible_project(client: httpx.AsyncClient) -> None:
    await create_project(client, "here")
    assert (await client.head(f"{API}/projects", params={"project_name": "here"})).status_code == 200
    assert (await client.head(f"{API}/projects", params={"project_name": "not-here"})).status_code == 404


async def test_head_without_a_name_is_a_bad_request(client: httpx.AsyncClient) -> None:
    assert (await client.head(f"{API}/projects")).status_code == 400


# --- list ---------------------------------------------------------------------------------------

async def _three_projects(client: httpx.AsyncClient) -> None:
    await create_project(client, "open-data", public=True)
    await create_project(client, "closed-data")
    await create_project(client, "open-tools", public=True)


async def test_anonymous_callers_list_public_projects_only(client: httpx.AsyncClient,
                                                           anonymous_client: httpx.AsyncClient) -> None:
    await _three_projects(client)
    response = await anonymous_client.get(f"{API}/projects")
    assert [p["name"] for p in response.json()] == ["open-data", "open-tools"]
    assert response.headers["x-total-count"] == "2"


async def test_users_list_public_and_member_projects(client: httpx.AsyncClient, accounts: Accounts) -> None:
    await _three_projects(client)
    await create_project(client, "team-data")
    carol = await accounts.client("carol")
    await add_member(client, "team-data", "carol", 3)
    listed = (await carol.get(f"{API}/projects")).json()
    assert [(p["name"], p["current_user_role_id"]) for p in listed] == [
        ("open-data", 0), ("open-tools", 0), ("team-data", 3)]


async def test_admins_list_every_project(client: httpx.AsyncClient) -> None:
    await _three_projects(client)
    assert [p["name"] for p in (await client.get(f"{API}/projects")).json()] == [
        "closed-data", "open-data", "open-tools"]


async def test_lists_are_paged_with_harbors_headers(client: httpx.AsyncClient) -> None:
    await _three_projects(client)
    response = await client.get(f"{API}/projects", params={"page": 2, "page_size": 1})
    assert [p["name"] for p in response.json()] == ["open-data"]
    assert response.headers["x-total-count"] == "3"
    assert response.headers["link"] == (f'<{API}/projects?page=1&page_size=1>; rel="prev" , '
                                        f'<{API}/projects?page=3&page_size=1>; rel="next"')


@pytest.mark.parametrize(("params", "names"), [
    ({"q": "name=~open"}, ["open-data", "open-tools"]),
    ({"q": "name=closed-data"}, ["closed-data"]),
    ({"q": "name={open-data closed-data}"}, ["closed-data", "open-data"]),
    ({"q": "public=true,name=~tools"}, ["open-tools"]),
    ({"public": "false"}, ["closed-data"]),
    ({"name": "data"}, ["closed-data", "open-data"]),
    ({"owner": "admin"}, ["closed-data", "open-data", "open-tools"]),
    ({"owner": "nobody"}, []),
    ({"sort": "-name"}, ["open-tools", "open-data", "closed-data"]),
    ({"sort": "-creation_time,name"}, ["open-tools", "closed-data", "open-data"]),
])
async def test_lists_filter_and_sort(client: httpx.AsyncClient, params: dict[str, str], names: list[str]) -> None:
    await _three_projects(client)
    response = await client.get(f"{API}/projects", params=params)
    assert [p["name"] for p in response.json()] == names


@pytest.mark.parametrize(("params", "fragment"), [
    ({"sort": "colour"}, "cannot sort projects by 'colour'"),
    ({"q": "colour=blue"}, "cannot filter projects by 'colour'"),
    ({"q": "name"}, 'the query string must contain "="'),
    ({"q": "public=maybe"}, "public must be true or false"),
    ({"q": "project_id=abc"}, "invalid project_id"),
])
async def test_bad_list_queries_are_refused(client: httpx.AsyncClient, params: dict[str, str], fragment: str) -> None:
    response = await client.get(f"{API}/projects", params=params)
    assert response.status_code == 400
    assert fragment in error_of(response)["message"]


async def test_list_items_show_repository_counts(client: httpx.AsyncClient) -> None:
    await create_project(client, "pushed")
    await push_image(client, "pushed/one", b"layer one")
    await push_image(client, "pushed/two", b"layer two")
    assert [p["repo_count"] for p in (await client.get(f"{API}/projects")).json()] == [2]


async def test_togglable_follows_the_callers_right_to_update(client: httpx.AsyncClient, accounts: Accounts) -> None:
    await create_project(client, "shared", public=True)
    dave = await accounts.client("dave")
    await add_member(client, "shared", "dave", 2)
    assert (await dave.get(f"{API}/projects/shared")).json()["togglable"] is False
    assert (await client.get(f"{API}/projects/shared")).json()["togglable"] is True


# --- robot accounts -----------------------------------------------------------------------------

def _grant(namespace: str, *access: tuple[str, str], kind: str = "project") -> dict[str, object]:
    return {"kind": kind, "namespace": namespace,
            "access": [{"resource": resource, "action": action} for resource, action in access]}


async def test_robots_list_the_projects_their_grants_let_them_read(client: httpx.AsyncClient, services: Services,
                                                                   accounts: Accounts) -> None:
    await _three_projects(client)
    await create_project(client, "robot-lab")
    await create_robot(services, "robot$robot-lab+reader", [_grant("robot-lab", ("project", "read"))])
    robot = await accounts.client("robot$robot-lab+reader", create=False)
    assert [p["name"] for p in (await robot.get(f"{API}/projects")).json()] == ["open-data", "open-tools", "robot-lab"]


async def test_robots_without_project_read_list_public_projects(client: httpx.AsyncClient, services: Services,
                                                                accounts: Accounts) -> None:
    await _three_projects(client)
    await create_robot(services, "robot$closed-data+puller", [_grant("closed-data", ("repository", "pull"))])
    robot = await accounts.client("robot$closed-data+puller", create=False)
    assert [p["name"] for p in (await robot.get(f"{API}/projects")).json()] == ["open-data", "open-tools"]


async def test_a_system_robot_creates_projects_owned_by_the_admin(client: httpx.AsyncClient, services: Services,
                                                                  accounts: Accounts) -> None:
    await create_robot(services, "robot$maker", [_grant("/", ("project", "create"), kind="system")], level="system")
    robot = await accounts.client("robot$maker", create=False)
    await create_project(robot, "made-by-robot")
    project = (await client.get(f"{API}/projects/made-by-robot")).json()
    assert project["owner_name"] == "admin"
    assert (await client.get(f"{API}/projects/made-by-robot/members")).json() == []


async def test_project_robots_cannot_create_projects(client: httpx.AsyncClient, services: Services,
                                                     accounts: Accounts) -> None:
    await create_project(client, "robot-lab")
    await create_robot(services, "robot$robot-lab+ci", [_grant("robot-lab", ("project", "create"))])
    robot = await accounts.client("robot$robot-lab+ci", create=False)
    response = await robot.post(f"{API}/projects", json={"project_name": "robot-made"})
    assert response.status_code == 403


# --- delete -------------------------------------------------------------------------------------

async def test_an_empty_project_is_deleted(client: httpx.AsyncClient) -> None:
    await create_project(client, "short-lived")
    assert (await client.delete(f"{API}/projects/short-lived")).status_code == 200
    assert (await client.get(f"{API}/projects/short-lived")).status_code == 404


@pytest.mark.parametrize("role_id", [2, 4])
async def test_only_project_admins_delete_projects(client: httpx.AsyncClient, accounts: Accounts,
                                                   role_id: int) -> None:
    await create_project(client, "kept")
    member = await accounts.client("member")
    await add_member(client, "kept", "member", role_id)
    response = await member.delete(f"{API}/projects/kept")
    assert response.status_code == 403
    assert error_of(response)["code"] == "FORBIDDEN"


async def test_a_project_with_repositories_is_not_deleted(client: httpx.AsyncClient) -> None:
    await create_project(client, "busy")
    await push_image(client, "busy/app", b"layer")
    response = await client.delete(f"{API}/projects/busy")
    assert response.status_code == 412
    assert error_of(response) == {"code": "PRECONDITION",
                                  "message": "the project contains repositories, can not be deleted"}
    assert (await client.get(f"{API}/projects/busy")).status_code == 200


async def test_a_forced_delete_removes_the_repositories(client: httpx.AsyncClient) -> None:
    await create_project(client, "busy")
    await push_image(client, "busy/app", b"layer")
    await push_image(client, "busy/tools/cli", b"other layer")
    await push_image(client, "other/app", b"layer")
    assert (await client.delete(f"{API}/projects/busy", params={"force": "true"})).status_code == 200
    assert (await client.get("/v2/_catalog")).json()["repositories"] == ["other/app"]
    assert (await client.get("/v2/busy/app/manifests/1.0")).status_code == 404
    assert (await client.get(f"{API}/projects/busy")).status_code == 404


async def test_a_project_admin_may_force_a_delete(client: httpx.AsyncClient, accounts: Accounts) -> None:
    frank = await accounts.client("frank")
    await create_project(frank, "frank-lab")
    await push_image(client, "frank-lab/app", b"layer")
    assert (await frank.delete(f"{API}/projects/frank-lab?force=true")).status_code == 200


async def test_a_pushed_name_can_be_reused_after_a_forced_delete(client: httpx.AsyncClient) -> None:
    await create_project(client, "again")
    await push_image(client, "again/app", b"layer")
    await client.delete(f"{API}/projects/again?force=true")
    await push_image(client, "again/app", b"layer")
    assert (await client.get("/v2/again/app/manifests/1.0")).status_code == 200


async def test_deletable_reports_repositories(client: httpx.AsyncClient) -> None:
    await create_project(client, "check")
    assert (await client.get(f"{API}/projects/check/_deletable")).json() == {"deletable": True, "message": ""}
    await push_image(client, "check/app", b"layer")
    assert (await client.get(f"{API}/projects/check/_deletable")).json() == {
        "deletable": False, "message": "the project contains repositories, can not be deleted"}


async def test_create_and_delete_are_audited(client: httpx.AsyncClient, services: Services) -> None:
    project_id = await create_project(client, "audited")
    await client.delete(f"{API}/projects/audited")
    assert await audit_trail(services, project_id) == [
        ("create", "project", "audited", "admin"), ("delete", "project", "audited", "admin")]


async def test_deleting_a_project_removes_its_robot_accounts(client: httpx.AsyncClient, services: Services,
                                                             accounts: Accounts) -> None:
    project_id = await create_project(client, "robot-lab")
    await create_robot(services, "robot$robot-lab+reader", [_grant("robot-lab", ("project", "read"))],
                       project_id=project_id)
    robot = await accounts.client("robot$robot-lab+reader", create=False)
    assert (await robot.get(f"{API}/projects")).status_code == 200
    await client.delete(f"{API}/projects/robot-lab")
    assert (await robot.get(f"{API}/projects")).status_code == 401
