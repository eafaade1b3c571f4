"""Audit logs over /api/v2.0: what /v2 pushes and pulls record, who sees which entries, q, sort, paging.

Users and memberships are arranged through the store (the users and members APIs are other
areas); every behaviour under test goes through HTTP. The in-process app runs no background
flush, so an entry being listed right after it was recorded shows that listing flushes first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from fixture_values import ADMIN_PASSWORD
from portside.domain.rbac import Role
from portside.services.audit import EVENT_TYPES
from portside.services.bundle import Services
from portside.services.passwords import hash_secret
from portside.store import audit as audit_store
from portside.store import members as member_store
from portside.store import repositories as repository_store
from portside.store import users as user_store

BASE_URL = "http://registry.test"
CLIENT_IP = "203.0.113.7"
USER_AGENT = "docker/24.0.0 (linux)"
PASSWORD = "Us3rPassw0rd"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@asynccontextmanager
async def http_client(app: ASGIApp, auth: tuple[str, str] | None) -> AsyncIterator[httpx.AsyncClient]:
    """A client that connects from CLIENT_IP and identifies itself as USER_AGENT."""
    transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 41234))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=auth,
                                 headers={"User-Agent": USER_AGENT}) as http:
        yield http


@pytest.fixture
async def admin(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app, ("admin", ADMIN_PASSWORD)) as http:
        yield http


@pytest.fixture
async def alice(app: ASGIApp, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in user who is a member of no project."""
    await create_user(services, "alice")
    async with http_client(app, ("alice", PASSWORD)) as http:
        yield http


async def create_user(services: Services, username: str) -> None:
    async with services.db.write() as conn:
        await user_store.create(conn, username=username, password_hash=hash_secret(PASSWORD))


async def add_member(services: Services, project: str, username: str, role: Role) -> None:
    async with services.db.write() as conn:
        project_id = await repository_store.find_project_id(conn, project)
        user = await user_store.find_by_name(conn, username)
        assert project_id is not None and user is not None
        await member_store.add(conn, project_id, user.id, int(role))


async def push(http: httpx.AsyncClient, repository: str, tag: str) -> None:
    """Push a one-layer image through /v2 (creating the project on first push)."""
    layer, config = f"layer of {repository}:{tag}".encode(), b"{}"
    digests = {}
    for name, data in (("layer", layer), ("config", config)):
        digests[name] = "sha256:" + hashlib.sha256(data).hexdigest()
        created = await http.post(f"/v2/{repository}/blobs/uploads/?digest={digests[name]}", content=data)
        assert created.status_code == 201, created.text
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digests["config"],
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digests["layer"],
                    "size": len(layer)}],
    }).encode()
    put = await http.put(f"/v2/{repository}/manifests/{tag}", content=manifest,
                         headers={"Content-Type": OCI_MANIFEST})
    assert put.status_code == 201, put.text


async def seed(services: Services, *entries: dict[str, Any]) -> None:
    """Insert audit rows with chosen times (defaults for the other columns)."""
    defaults = {"username": "admin", "operation": "create", "resource_type": "artifact", "resource": "p/r:v1",
                "project_id": None, "ip_address": "", "user_agent": "", "status": "SUCCESS", "description": ""}
    async with services.db.write() as conn:
        await audit_store.add_many(conn, [{**defaults, **entry} for entry in entries])


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 15, hour, minute, tzinfo=UTC)


def resources(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [entry["resource"] for entry in response.json()]


# --- what the registry records -------------------------------------------------------------


async def test_a_push_is_listed_with_user_resource_ip_and_user_agent(admin: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    response = await admin.get("/api/v2.0/audit-logs", params={"q": "operation=create,resource_type=artifact"})
    assert response.status_code == 200
    [entry] = response.json()
    assert {k: v for k, v in entry.items() if k not in ("id", "op_time")} == {
        "username": "admin", "resource": "team/app:v1", "resource_type": "artifact", "operation": "create",
        "ip_address": CLIENT_IP, "user_agent": USER_AGENT, "status": "SUCCESS",
    }


async def test_a_pull_is_listed_with_user_resource_ip_and_user_agent(admin: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    pulled = await admin.get("/v2/team/app/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert pulled.status_code == 200
    response = await admin.get("/api/v2.0/audit-logs", params={"q": "operation=pull"})
    [entry] = response.json()
    assert (entry["username"], entry["resource"], entry["resource_type"]) == ("admin", "team/app:v1", "artifact")
    assert (entry["ip_address"], entry["user_agent"]) == (CLIENT_IP, USER_AGENT)


async def test_the_project_created_by_a_first_push_is_listed(admin: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    response = await admin.get("/api/v2.0/audit-logs", params={"q": "resource_type=project"})
    assert [(e["operation"], e["resource"]) for e in response.json()] == [("create", "team")]


async def test_op_time_is_an_rfc3339_utc_time(admin: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    [entry, *_] = (await admin.get("/api/v2.0/audit-logs")).json()
    parsed = datetime.fromisoformat(entry["op_time"])
    assert entry["op_time"].endswith("Z") and parsed.tzinfo is not None
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 60


# --- who sees what -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v2.0/audit-logs", "/api/v2.0/auditlog-exts",
                                  "/api/v2.0/auditlog-exts/events"])
async def test_anonymous_callers_get_401(anonymous_client: httpx.AsyncClient, path: str) -> None:
    response = await anonymous_client.get(path)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


async def test_a_user_without_project_admin_roles_sees_no_entries(
        admin: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    response = await alice.get("/api/v2.0/audit-logs")
    assert response.status_code == 200
    assert (response.json(), response.headers["x-total-count"]) == ([], "0")


async def test_a_project_admin_sees_only_the_entries_of_their_projects(
        admin: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    await push(alice, "alice-lab/tool", "v2")  # alice's first push makes her the projectAdmin
    response = await alice.get("/api/v2.0/audit-logs")
    assert sorted(resources(response)) == ["alice-lab", "alice-lab/tool:v2"]


async def test_a_developer_sees_no_entries_of_the_project(
        admin: httpx.AsyncClient, alice: httpx.AsyncClient, services: Services) -> None:
    await push(admin, "team/app", "v1")
    await add_member(services, "team", "alice", Role.DEVELOPER)
    assert resources(await alice.get("/api/v2.0/auditlog-exts")) == []


async def test_the_system_admin_sees_every_project(admin: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    await push(alice, "alice-lab/tool", "v2")
    response = await admin.get("/api/v2.0/audit-logs", params={"q": "resource_type=artifact"})
    assert sorted(resources(response)) == ["alice-lab/tool:v2", "team/app:v1"]


async def test_project_logs_list_only_that_project(admin: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    await push(alice, "alice-lab/tool", "v2")
    response = await alice.get("/api/v2.0/projects/alice-lab/logs")
    assert sorted(resources(response)) == ["alice-lab", "alice-lab/tool:v2"]


async def test_project_logs_of_a_private_project_of_others_are_not_found(
        admin: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    await push(alice, "alice-lab/tool", "v2")
    response = await alice.get("/api/v2.0/projects/team/logs")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NOT_FOUND"


async def test_project_logs_are_forbidden_to_a_developer(
        admin: httpx.AsyncClient, alice: httpx.AsyncClient, services: Services) -> None:
    await push(admin, "team/app", "v1")
    await add_member(services, "team", "alice", Role.DEVELOPER)
    response = await alice.get("/api/v2.0/projects/team/auditlog-exts")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "FORBIDDEN"


async def test_project_logs_ask_anonymous_callers_to_sign_in(
        admin: httpx.AsyncClient, anonymous_client: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    assert (await anonymous_client.get("/api/v2.0/projects/team/logs")).status_code == 401


async def test_project_logs_of_an_unknown_project_are_not_found(admin: httpx.AsyncClient) -> None:
    assert (await admin.get("/api/v2.0/projects/nothing-here/logs")).status_code == 404


# --- the extended view and the event types --------------------------------------------------


async def test_auditlog_exts_have_harbors_fields(admin: httpx.AsyncClient, services: Services) -> None:
    await seed(services, {"op_time": at(10), "operation": "delete", "resource": "p/r:old", "status": "FAILURE",
                          "description": "delete artifact p/r:old"})
    [entry] = (await admin.get("/api/v2.0/auditlog-exts")).json()
    assert entry == {"id": entry["id"], "username": "admin", "resource": "p/r:old", "resource_type": "artifact",
                     "operation": "delete", "operation_description": "delete artifact p/r:old",
                     "operation_result": False, "op_time": "2024-03-15T10:00:00Z"}


async def test_auditlog_exts_describe_entries_recorded_without_a_description(
        admin: httpx.AsyncClient, services: Services) -> None:
    await seed(services, {"op_time": at(10), "operation": "pull", "resource": "p/r:v1"})
    [entry] = (await admin.get("/api/v2.0/auditlog-exts")).json()
    assert (entry["operation_description"], entry["operation_result"]) == ("pull artifact p/r:v1", True)


async def test_project_auditlog_exts_apply_the_filters(admin: httpx.AsyncClient) -> None:
    await push(admin, "team/app", "v1")
    await push(admin, "team/app", "v2")
    response = await admin.get("/api/v2.0/projects/team/auditlog-exts", params={"q": "resource=~:v2"})
    assert resources(response) == ["team/app:v2"]


async def test_event_types_are_harbors(alice: httpx.AsyncClient) -> None:
    response = await alice.get("/api/v2.0/auditlog-exts/events")
    assert response.status_code == 200
    names = [item["event_type"] for item in response.json()]
    assert names == list(EVENT_TYPES)
    assert {"create_artifact", "pull_artifact", "delete_artifact", "create_project"} <= set(names)


# --- q, sort and paging ---------------------------------------------------------------------


@pytest.fixture
async def three_entries(services: Services) -> None:
    await seed(services,
               {"op_time": at(9), "username": "bob", "operation": "pull", "resource": "lab/a:v1"},
               {"op_time": at(10), "username": "carol", "operation": "create", "resource": "lab/b:v1"},
               {"op_time": at(11), "username": "bob", "operation": "delete", "resource_type": "tag",
                "resource": "web/c:v2", "status": "FAILURE"})


@pytest.mark.parametrize(("q", "expected"), [
    ("username=bob", ["web/c:v2", "lab/a:v1"]),
    ("operation={pull delete}", ["web/c:v2", "lab/a:v1"]),
    ("resource=~lab/", ["lab/b:v1", "lab/a:v1"]),
    ("resource_type=tag", ["web/c:v2"]),
    ("status=FAILURE", ["web/c:v2"]),
    ("username=bob,operation=pull", ["lab/a:v1"]),
    ('username="carol"', ["lab/b:v1"]),
    ("op_time=[2024-03-15 09:30:00~2024-03-15 10:30:00]", ["lab/b:v1"]),
    ("op_time=[2024-03-15 10:00:00~2024-03-15 11:00:00]", ["web/c:v2", "lab/b:v1"]),
    ("op_time=[2024-03-15 10:30:00~]", ["web/c:v2"]),
])
async def test_q_filters(admin: httpx.AsyncClient, three_entries: None, q: str, expected: list[str]) -> None:
    assert resources(await admin.get("/api/v2.0/audit-logs", params={"q": q})) == expected


async def test_fuzzy_matches_ignore_case_and_take_wildcards_literally(
        admin: httpx.AsyncClient, services: Services) -> None:
    await seed(services, {"op_time": at(9), "resource": "Lab/App_1:v1"}, {"op_time": at(10), "resource": "lab/appX1"})
    assert resources(await admin.get("/api/v2.0/audit-logs", params={"q": "resource=~app_1"})) == ["Lab/App_1:v1"]


async def test_entries_are_newest_first_by_default(admin: httpx.AsyncClient, three_entries: None) -> None:
    assert resources(await admin.get("/api/v2.0/audit-logs")) == ["web/c:v2", "lab/b:v1", "lab/a:v1"]


async def test_sort_by_op_time_lists_oldest_first(admin: httpx.AsyncClient, three_entries: None) -> None:
    response = await admin.get("/api/v2.0/audit-logs", params={"sort": "op_time"})
    assert resources(response) == ["lab/a:v1", "lab/b:v1", "web/c:v2"]


async def test_sort_by_minus_op_time_lists_newest_first(admin: httpx.AsyncClient, three_entries: None) -> None:
    response = await admin.get("/api/v2.0/auditlog-exts", params={"sort": "-op_time"})
    assert resources(response) == ["web/c:v2", "lab/b:v1", "lab/a:v1"]


@pytest.mark.parametrize("params", [
    {"sort": "username"},
    {"q": "user=bob"},
    {"q": "op_time=2024-03-15 10:00:00"},
    {"q": "op_time=[yesterday~today]"},
    {"q": "op_time=[2024-03-16 00:00:00~2024-03-15 00:00:00]"},
    {"q": "username=[a~b]"},
    {"q": "username="},
])
async def test_bad_q_or_sort_is_a_400(admin: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await admin.get("/api/v2.0/audit-logs", params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


async def test_pages_carry_the_total_and_links(admin: httpx.AsyncClient, services: Services) -> None:
    await seed(services, *({"op_time": at(9, minute), "resource": f"p/r:{minute}"} for minute in range(5)))
    response = await admin.get("/api/v2.0/audit-logs", params={"page": 2, "page_size": 2})
    assert resources(response) == ["p/r:2", "p/r:1"]
    assert response.headers["x-total-count"] == "5"
    link = response.headers["link"]
    assert 'page=1&page_size=2>; rel="prev"' in link and 'page=3&page_size=2>; rel="next"' in link


async def test_the_last_page_has_no_next_link(admin: httpx.AsyncClient, services: Services) -> None:
    await seed(services, *({"op_time": at(9, minute), "resource": f"p/r:{minute}"} for minute in range(5)))
    response = await admin.get("/api/v2.0/audit-logs", params={"page": 3, "page_size": 2})
    assert resources(response) == ["p/r:0"]
    assert 'rel="next"' not in response.headers["link"]


async def test_a_page_size_over_100_is_a_400(admin: httpx.AsyncClient) -> None:
    assert (await admin.get("/api/v2.0/audit-logs", params={"page_size": 101})).status_code == 400
