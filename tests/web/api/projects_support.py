"""Helpers for the project, member, search and statistics API tests.

Users are created in the database (the users API is tested elsewhere); everything else goes
through the HTTP API in process. Every helper asserts the status of the requests it makes, so
a test fails at the step that broke.
"""

from __future__ import annotations

import hashlib
import json
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import select
from starlette.types import ASGIApp

from portside.core.clock import utcnow
from portside.services.bundle import Services
from portside.services.passwords import hash_secret
from portside.store import users as user_store
from portside.store.tables import audit_logs, robots

API = "/api/v2.0"
PASSWORD = "Us3rPassw0rd"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def error_of(response: httpx.Response) -> dict[str, str]:
    """The single error of a Harbor error body: {"code": ..., "message": ...}."""
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    return dict(body["errors"][0])


async def audit_trail(services: Services, project_id: int) -> list[tuple[str, str, str, str]]:
    """(operation, resource_type, resource, username) of the project's audit entries, oldest first."""
    await services.audit.flush()
    query = (select(audit_logs.c.operation, audit_logs.c.resource_type, audit_logs.c.resource, audit_logs.c.username)
             .where(audit_logs.c.project_id == project_id).order_by(audit_logs.c.id))
    async with services.db.read() as conn:
        return [tuple(row) for row in await conn.execute(query)]


async def create_robot(services: Services, name: str, permissions: list[dict[str, Any]], *,
                       level: str = "project", project_id: int | None = None) -> None:
    """A robot account `name` (of project `project_id`, if given) with PASSWORD as its secret and
    Harbor-shaped `permissions`."""
    now = utcnow()
    async with services.db.write() as conn:
        await conn.execute(robots.insert().values(
            name=name, description="", level=level, project_id=project_id, secret_hash=hash_secret(PASSWORD),
            disabled=False, duration=-1, expires_at=-1, permissions=permissions, creator_type="user",
            created_at=now, updated_at=now))


class Accounts:
    """Signed-in clients for users created on the fly; closes them at the end."""

    def __init__(self, services: Services, app: ASGIApp) -> None:
        self._services = services
        self._transport = httpx.ASGITransport(app=app)
        self._clients: list[httpx.AsyncClient] = []
        self.user_ids: dict[str, int] = {}

    async def __aenter__(self) -> Accounts:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        for client in self._clients:
            await client.aclose()

    async def create_user(self, username: str) -> int:
        async with self._services.db.write() as conn:
            user_id = await user_store.create(conn, username=username, password_hash=hash_secret(PASSWORD),
                                              email=f"{username}@example.org")
        self.user_ids[username] = user_id
        return user_id

    async def client(self, username: str, *, create: bool = True) -> httpx.AsyncClient:
        """A client signed in as `username` (with PASSWORD), creating the user first unless told not to."""
        if create:
            await self.create_user(username)
        client = httpx.AsyncClient(transport=self._transport, base_url="http://registry.test",
                                   auth=(username, PASSWORD))
        self._clients.append(client)
        return client


async def create_project(client: httpx.AsyncClient, name: str, *, public: bool = False,
                         **fields: Any) -> int:
    """Create the project; return its id from the Location header."""
    body: dict[str, Any] = {"project_name": name, "metadata": {"public": "true" if public else "false"}, **fields}
    response = await client.post(f"{API}/projects", json=body)
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def add_member(client: httpx.AsyncClient, project: str, username: str, role_id: int) -> int:
    """Make `username` a member with `role_id`; return the member id from the Location header."""
    response = await client.post(f"{API}/projects/{project}/members",
                                 json={"role_id": role_id, "member_user": {"username": username}})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def push_image(client: httpx.AsyncClient, repository: str, layer: bytes, tag: str = "1.0") -> int:
    """Push a one-layer image to `repository` (project/name); return the bytes of its two blobs."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "marker": repository}).encode()
    for blob in (config, layer):
        response = await client.post(f"/v2/{repository}/blobs/uploads/?digest={digest_of(blob)}", content=blob)
        assert response.status_code == 201, response.text
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(layer),
                    "size": len(layer)}],
    }).encode()
    response = await client.put(f"/v2/{repository}/manifests/{tag}", content=manifest,
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201, response.text
    return len(config) + len(layer)
