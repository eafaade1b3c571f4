"""System endpoints over /api/v2.0: systeminfo, volumes, health, ping, permissions."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp

from portside import __version__
from portside.app import create_app
from portside.container import build_services
from portside.core.config import Settings
from portside.domain.rbac import Role
from portside.services import system as system_module
from portside.services.bundle import Services
from portside.services.passwords import hash_secret
from portside.storage.driver import ObjectInfo
from portside.store import members as member_store
from portside.store import repositories as repository_store
from portside.store import users as user_store

BASE_URL = "http://registry.test"
PASSWORD = "Us3rPassw0rd"
PROTECTED_FIELDS = {"current_time", "registry_url", "external_url", "project_creation_restriction", "has_ca_root",
                    "registry_storage_provider_name", "read_only", "notification_enable", "with_notary"}


async def create_user(services: Services, username: str) -> int:
    async with services.db.write() as conn:
        return await user_store.create(conn, username=username, password_hash=hash_secret(PASSWORD))


@pytest.fixture
async def alice(app: ASGIApp, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in user who is a member of no project."""
    await create_user(services, "alice")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL,
                                 auth=("alice", PASSWORD)) as http:
        yield http


async def make_member(services: Services, project: str, username: str, role: Role) -> None:
    async with services.db.write() as conn:
        project_id = await repository_store.ensure_project(conn, project)
        user = await user_store.find_by_name(conn, username)
        assert user is not None
        await member_store.add(conn, project_id, user.id, int(role))


# --- ping and systeminfo ----------------------------------------------------------------------


async def test_ping_answers_pong_as_plain_text(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/api/v2.0/ping")
    assert (response.status_code, response.text) == (200, "Pong")
    assert response.headers["content-type"].startswith("text/plain")


async def test_systeminfo_for_anonymous_callers_omits_protected_fields(
        anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/api/v2.0/systeminfo")
    assert response.status_code == 200
    assert response.json() == {"banner_message": "", "auth_mode": "db_auth", "primary_auth_mode": False,
                               "self_registration": False, "harbor_version": f"v2.16.0-portside-{__version__}"}


async def test_systeminfo_for_signed_in_callers_shows_the_registry(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/v2.0/systeminfo")).json()
    assert PROTECTED_FIELDS <= set(info)
    assert {k: info[k] for k in PROTECTED_FIELDS - {"current_time"}} == {
        "registry_url": "registry.test", "external_url": "http://registry.test",
        "project_creation_restriction": "everyone", "has_ca_root": False,
        "registry_storage_provider_name": "filesystem", "read_only": False, "notification_enable": False,
        "with_notary": False,
    }


async def test_systeminfo_current_time_is_now_in_utc(client: httpx.AsyncClient) -> None:
    current = datetime.fromisoformat((await client.get("/api/v2.0/systeminfo")).json()["current_time"])
    assert abs((datetime.now(UTC) - current).total_seconds()) < 60


async def test_systeminfo_urls_follow_the_configured_external_url(
        client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "settings",
                        services.settings.model_copy(update={"external_url": "https://images.example.org/"}))
    info = (await client.get("/api/v2.0/systeminfo")).json()
    assert (info["external_url"], info["registry_url"]) == ("https://images.example.org", "images.example.org")


# --- volumes ------------------------------------------------------------------------------------


async def test_volumes_report_the_data_directory_filesystem(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await client.get("/api/v2.0/systeminfo/volumes")
    assert response.status_code == 200
    [volume] = response.json()["storage"]
    assert volume["total"] == shutil.disk_usage(settings.data_dir).total
    assert 0 < volume["free"] <= volume["total"]


async def test_volumes_are_forbidden_to_users(alice: httpx.AsyncClient) -> None:
    response = await alice.get("/api/v2.0/systeminfo/volumes")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "FORBIDDEN"


async def test_volumes_ask_anonymous_callers_to_sign_in(anonymous_client: httpx.AsyncClient) -> None:
    assert (await anonymous_client.get("/api/v2.0/systeminfo/volumes")).status_code == 401


# --- health -------------------------------------------------------------------------------------


async def test_health_reports_every_component_healthy(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/api/v2.0/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "components": [{"name": "database", "status": "healthy"},
                                                                   {"name": "storage", "status": "healthy"}]}


def unreachable_database_url(url: str, tmp_path: Path) -> str:
    """A URL of the same kind as `url` that fails at once: a closed port, a missing directory."""
    if url.startswith("postgresql"):
        return make_url(url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    return f"sqlite+aiosqlite:///{tmp_path / 'missing-directory' / 'portside.db'}"


@pytest.fixture
async def unreachable_database_client(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose database cannot be reached (never started: there is no admin)."""
    broken = settings.model_copy(update={"database_url": unreachable_database_url(settings.resolved_database_url,
                                                                                   tmp_path)})
    services = await build_services(broken)
    try:
        app = create_app(broken, services)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
            yield http
    finally:
        await services.db.dispose()


async def test_health_reports_an_unreachable_database(unreachable_database_client: httpx.AsyncClient) -> None:
    response = await unreachable_database_client.get("/api/v2.0/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "unhealthy"
    database, storage = body["components"]
    assert (database["name"], database["status"]) == ("database", "unhealthy")
    assert database["error"].startswith("database check failed")
    assert storage == {"name": "storage", "status": "healthy"}


class HangingStatDriver:
    """Wraps a driver; `stat` never answers."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def stat(self, key: str) -> ObjectInfo | None:
        await asyncio.Event().wait()
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_health_bounds_a_check_that_hangs(anonymous_client: httpx.AsyncClient, services: Services,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_module, "HEALTH_CHECK_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(services, "driver", HangingStatDriver(services.driver))
    started = time.monotonic()
    body = (await anonymous_client.get("/api/v2.0/health")).json()
    assert time.monotonic() - started < 2
    assert body["status"] == "unhealthy"
    assert body["components"][1] == {"name": "storage", "status": "unhealthy",
                                     "error": "storage did not answer within 0.2 s"}


# --- permissions --------------------------------------------------------------------------------


def pairs(items: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(item["resource"], item["action"]) for item in items}


async def test_permissions_for_the_admin_list_system_and_project_scopes(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v2.0/permissions")).json()
    assert {("audit-log", "list"), ("project", "create"), ("robot", "create"), ("system-volumes", "read")} <= pairs(
        body["system"])
    assert {("repository", "push"), ("repository", "pull"), ("artifact", "delete"), ("log", "list"),
            ("tag-retention", "operate"), ("scan", "stop")} <= pairs(body["project"])


async def test_project_permissions_hold_only_what_some_role_is_granted(client: httpx.AsyncClient) -> None:
    project = pairs((await client.get("/api/v2.0/permissions")).json()["project"])
    assert ("project", "create") not in project and ("repository", "scanner-pull") not in project
    assert ("immutable-tag", "read") not in project  # Harbor's table grants C U D L only


async def test_permissions_entries_are_unique(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v2.0/permissions")).json()
    assert len(body["project"]) == len(pairs(body["project"]))
    assert len(body["system"]) == len(pairs(body["system"]))


async def test_permissions_for_a_project_admin_list_the_project_scope_only(
        alice: httpx.AsyncClient, services: Services) -> None:
    await make_member(services, "lab", "alice", Role.PROJECT_ADMIN)
    body = (await alice.get("/api/v2.0/permissions")).json()
    assert body["system"] == []
    assert ("repository", "push") in pairs(body["project"])


async def test_permissions_are_forbidden_to_a_maintainer(alice: httpx.AsyncClient, services: Services) -> None:
    await make_member(services, "lab", "alice", Role.MAINTAINER)
    response = await alice.get("/api/v2.0/permissions")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "FORBIDDEN"


async def test_permissions_ask_anonymous_callers_to_sign_in(anonymous_client: httpx.AsyncClient) -> None:
    assert (await anonymous_client.get("/api/v2.0/permissions")).status_code == 401
