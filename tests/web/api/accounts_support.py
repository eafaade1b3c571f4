"""Helpers shared by the users and robots API tests: clients, a pushed image, memberships."""

from __future__ import annotations

import hashlib
import json

import httpx
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.store import members as member_store
from portside.store import repositories as repository_store

BASE_URL = "http://registry.test"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def signed_in(app: ASGIApp, username: str, secret: str) -> httpx.AsyncClient:
    """An in-process client sending Basic credentials (use as `async with`)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, auth=(username, secret))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def push_image(client: httpx.AsyncClient, repository: str, tag: str = "v1") -> str:
    """Push a one-layer image (creating its project on first push); return the manifest digest."""
    config, layer = b'{"architecture":"amd64","os":"linux"}', f"layer of {repository}".encode()
    for blob in (config, layer):
        response = await client.post(f"/v2/{repository}/blobs/uploads/?digest={sha256(blob)}", content=blob)
        assert response.status_code == 201, response.text
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(layer),
                    "size": len(layer)}],
    }).encode()
    response = await client.put(f"/v2/{repository}/manifests/{tag}", content=manifest,
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201, response.text
    return sha256(manifest)


async def project_id(services: Services, name: str) -> int:
    async with services.db.read() as conn:
        project = await repository_store.find_project(conn, name)
    assert project is not None
    return project.id


async def add_member(services: Services, project: str, user_id: int, role: Role) -> None:
    pid = await project_id(services, project)
    async with services.db.write() as conn:
        await member_store.add(conn, pid, user_id, int(role))
    services.authenticator.forget_all()
