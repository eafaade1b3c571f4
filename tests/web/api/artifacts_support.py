"""Helpers for the repository, artifact, tag and label API tests.

Images are pushed through /v2 (projects are created on first push in test
settings); users and memberships are written to the database directly (the users
and members APIs are tested elsewhere). Every helper asserts the status of the
requests it makes, so a test fails at the step that broke.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import update
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.services.passwords import hash_secret
from portside.store import members as member_store
from portside.store import repositories as repository_store
from portside.store import users as user_store
from portside.store.tables import projects

API = "/api/v2.0"
PASSWORD = "Us3rPassw0rd"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

NOTEBOOK_LABELS = {"ca.nrc.cadc.skaha.type": "notebook", "maintainer": "research-team@university.edu"}
NOTEBOOK_HISTORY = [
    {"created": "2024-03-15T10:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created": "2024-03-15T10:20:00Z", "created_by": "RUN /bin/sh -c pip install astropy # buildkit",
     "comment": "buildkit.dockerfile.v0"},
    {"created": "2024-03-15T10:30:00Z", "created_by": 'CMD ["start-notebook.sh"]', "empty_layer": True},
]


def notebook_config(*, architecture: str = "amd64", author: str | None = "CANFAR Research Team",
                    **extra: Any) -> dict[str, Any]:
    """A realistic image config of a CANFAR notebook image."""
    config: dict[str, Any] = {
        "architecture": architecture, "os": "linux", "created": "2024-03-15T10:30:00Z",
        "config": {"User": "jovyan", "Env": ["PATH=/opt/conda/bin:/usr/bin", "LANG=C.UTF-8"],
                   "Entrypoint": ["tini", "-g", "--"], "Cmd": ["start-notebook.sh"], "WorkingDir": "/home/jovyan",
                   "ExposedPorts": {"8888/tcp": {}}, "Labels": dict(NOTEBOOK_LABELS)},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
        "history": NOTEBOOK_HISTORY,
        **extra,
    }
    if author is not None:
        config["author"] = author
    return config


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def encoded(repository: str) -> str:
    """A repository name (without its project) as Harbor clients send it: double URL-encoded."""
    return quote(quote(repository, safe=""), safe="")


def repo_url(full_name: str) -> str:
    """`/api/v2.0/projects/<p>/repositories/<double-encoded rest>` for `p/rest`."""
    project, _, repository = full_name.partition("/")
    return f"{API}/projects/{project}/repositories/{encoded(repository)}"


def error_of(response: httpx.Response) -> dict[str, str]:
    """The single error of a Harbor error body: {"code": ..., "message": ...}."""
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1, body
    return dict(body["errors"][0])


@dataclass(frozen=True)
class Pushed:
    """A pushed manifest: its bytes, digest and what Harbor counts as its size."""

    content: bytes
    digest: str
    size: int


async def push_blob(client: httpx.AsyncClient, repository: str, data: bytes) -> str:
    response = await client.post(f"/v2/{repository}/blobs/uploads/?digest={digest_of(data)}", content=data)
    assert response.status_code == 201, response.text
    return digest_of(data)


async def put_manifest(client: httpx.AsyncClient, repository: str, reference: str, content: bytes,
                       media_type: str) -> None:
    response = await client.put(f"/v2/{repository}/manifests/{reference}", content=content,
                                headers={"Content-Type": media_type})
    assert response.status_code == 201, response.text


async def push_image(client: httpx.AsyncClient, repository: str, tag: str | None = "1.0", *,
                     config: bytes | dict[str, Any] | None = None, layers: Sequence[bytes] = (b"layer",),
                     config_type: str = OCI_CONFIG, media_type: str = OCI_MANIFEST,
                     **extra: Any) -> Pushed:
    """Push config, layers and an image manifest by `tag` (None: by digest only)."""
    config_bytes = config if isinstance(config, bytes) else json.dumps(config or notebook_config()).encode()
    for blob in (config_bytes, *layers):
        await push_blob(client, repository, blob)
    body: dict[str, Any] = {
        "schemaVersion": 2, "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": digest_of(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)} for layer in layers],
        **extra,
    }
    content = json.dumps(body, indent=2).encode()
    await put_manifest(client, repository, tag or digest_of(content), content, media_type)
    return Pushed(content, digest_of(content), len(content) + len(config_bytes) + sum(map(len, layers)))


PLATFORMS = ({"architecture": "amd64", "os": "linux"},
             {"architecture": "arm64", "os": "linux", "variant": "v8", "os.version": "5.15"})


async def push_multiarch(client: httpx.AsyncClient, repository: str,
                         tag: str = "latest") -> tuple[Pushed, list[Pushed]]:
    """Push two untagged platform images and an OCI index of them tagged `tag`."""
    children = [await push_image(client, repository, None, config=notebook_config(architecture=p["architecture"]),
                                 layers=[f"{p['architecture']} layer".encode()]) for p in PLATFORMS]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": child.digest, "size": len(child.content), "platform": platform}
        for child, platform in zip(children, PLATFORMS, strict=True)]}
    content = json.dumps(index).encode()
    await put_manifest(client, repository, tag, content, OCI_INDEX)
    return Pushed(content, digest_of(content), len(content) + sum(child.size for child in children)), children


async def push_referrer(client: httpx.AsyncClient, repository: str, subject: Pushed,
                        artifact_type: str = "application/vnd.dev.cosign.artifact.sig.v1+json") -> Pushed:
    """Push an OCI artifact whose subject is `subject` (a signature, by default), by digest."""
    empty, payload = b"{}", b"signature payload"
    for blob in (empty, payload):
        await push_blob(client, repository, blob)
    body = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_of(empty), "size": 2},
            "layers": [{"mediaType": "application/octet-stream", "digest": digest_of(payload),
                        "size": len(payload)}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject.digest, "size": len(subject.content)}}
    content = json.dumps(body).encode()
    await put_manifest(client, repository, digest_of(content), content, OCI_MANIFEST)
    return Pushed(content, digest_of(content), len(content) + len(empty) + len(payload))


async def member_client(services: Services, app: ASGIApp, project: str, username: str,
                        role: Role | None) -> httpx.AsyncClient:
    """A client signed in as a new user with `role` in `project` (None: not a member). Close it."""
    async with services.db.write() as conn:
        user_id = await user_store.create(conn, username=username, password_hash=hash_secret(PASSWORD),
                                          email=f"{username}@example.org")
        if role is not None:
            project_id = await repository_store.find_project_id(conn, project)
            assert project_id is not None, project
            await member_store.add(conn, project_id, user_id, int(role))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test",
                             auth=(username, PASSWORD))


async def make_public(services: Services, project: str) -> None:
    """Mark the project public (the projects API is tested elsewhere)."""
    async with services.db.write() as conn:
        await conn.execute(update(projects).where(projects.c.name == project).values(public=True))
