"""Helpers for the portal tests: sign in like a browser, read CSRF tokens, push images, make users.

Every helper asserts the status of the requests it makes, so a test fails at the step that broke.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.services.passwords import hash_secret
from portside.store import members as member_store
from portside.store import repositories as repository_store
from portside.store import users as user_store

API = "/api/v2.0"
PASSWORD = "Us3rPassw0rd"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CSRF_ERROR = {"errors": [{"code": "FORBIDDEN", "message": "CSRF token invalid"}]}
_META_RE = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


def browser(app: ASGIApp, base_url: str = "http://registry.test") -> httpx.AsyncClient:
    """A cookie-keeping client without credentials, like a browser. Close it."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


def csrf_of(html: str) -> str:
    found = _META_RE.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def page_token(client: httpx.AsyncClient, path: str = "/harbor/projects") -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Post the sign-in form (with the page's CSRF token); returns the response (303 when it worked)."""
    token = await page_token(client, "/harbor/sign-in")
    return await client.post("/c/login", data={"principal": username, "password": password, "csrf_token": token,
                                               "next": "/harbor/projects"})


@contextlib.asynccontextmanager
async def signed_in(app: ASGIApp, username: str, password: str = PASSWORD) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client signed in to the portal as `username`."""
    async with browser(app) as client:
        response = await sign_in(client, username, password)
        assert response.status_code == 303, response.text
        yield client


async def submit(client: httpx.AsyncClient, form_page: str, action: str, fields: dict[str, str]) -> httpx.Response:
    """Post a portal form the way the page does: with its CSRF token and `back` path."""
    token = await page_token(client, form_page)
    return await client.post(action, data={"csrf_token": token, "back": form_page, **fields})


async def notice_after(client: httpx.AsyncClient, response: httpx.Response) -> str:
    """The notice shown on the page an action redirected to."""
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    found = re.search(r'<div class="notice (?:ok|error)" role="\w+">(.*?)</div>', page.text, re.S)
    assert found, "no notice on the page"
    return found.group(1)


@functools.cache
def password_hash() -> str:
    """PASSWORD's argon2 hash, computed once (hashing costs tens of milliseconds)."""
    return hash_secret(PASSWORD)


async def insert_member(services: Services, username: str, project: str | None = None,
                        role: Role | None = None) -> int:
    """A user with PASSWORD written to the database directly (the users API is tested elsewhere),
    made a member of `project` with `role` if given."""
    async with services.db.write() as conn:
        user_id = await user_store.create(conn, username=username, password_hash=password_hash(),
                                          email=f"{username}@example.org")
        if project is not None and role is not None:
            project_id = await repository_store.find_project_id(conn, project)
            assert project_id is not None, project
            await member_store.add(conn, project_id, user_id, int(role))
    return user_id


async def create_user(admin: httpx.AsyncClient, username: str, password: str = PASSWORD) -> int:
    response = await admin.post(f"{API}/users", json={"username": username, "password": password,
                                                      "email": f"{username}@example.org", "realname": username})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def create_project(admin: httpx.AsyncClient, name: str, *, public: bool = False) -> None:
    response = await admin.post(f"{API}/projects", json={"project_name": name, "metadata": {
        "public": "true" if public else "false"}})
    assert response.status_code == 201, response.text


async def add_member(admin: httpx.AsyncClient, project: str, username: str, role_id: int) -> None:
    response = await admin.post(f"{API}/projects/{project}/members",
                                json={"role_id": role_id, "member_user": {"username": username}})
    assert response.status_code == 201, response.text


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def repo_url(full_name: str) -> str:
    project, _, repository = full_name.partition("/")
    return f"{API}/projects/{project}/repositories/{quote(quote(repository, safe=''), safe='')}"


async def push_blob(client: httpx.AsyncClient, repository: str, data: bytes) -> str:
    response = await client.post(f"/v2/{repository}/blobs/uploads/?digest={digest_of(data)}", content=data)
    assert response.status_code == 201, response.text
    return digest_of(data)


def image_config(*, architecture: str = "amd64", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"architecture": architecture, "os": "linux", "created": "2024-03-15T10:30:00Z",
            "config": {"Labels": labels if labels is not None else {"ca.nrc.cadc.skaha.type": "notebook"}},
            "history": [{"created": "2024-03-15T10:20:00Z", "created_by": "RUN pip install astropy"}]}


async def push_image(client: httpx.AsyncClient, repository: str, tag: str | None = "1.0", *,
                     config: dict[str, Any] | None = None, layers: Sequence[bytes] = (b"layer",)) -> str:
    """Push config, layers and an image manifest by `tag` (None: by digest); returns the digest."""
    config_bytes = json.dumps(config or image_config()).encode()
    for blob in (config_bytes, *layers):
        await push_blob(client, repository, blob)
    content = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)} for layer in layers],
    }).encode()
    response = await client.put(f"/v2/{repository}/manifests/{tag or digest_of(content)}", content=content,
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201, response.text
    return digest_of(content)


async def push_multiarch(client: httpx.AsyncClient, repository: str, tag: str = "latest") -> list[str]:
    """Two untagged platform images and an index tagged `tag`; returns the children's digests."""
    platforms = ({"architecture": "amd64", "os": "linux"}, {"architecture": "arm64", "os": "linux", "variant": "v8"})
    children = [await push_image(client, repository, None, config=image_config(architecture=p["architecture"]),
                                 layers=[p["architecture"].encode()]) for p in platforms]
    entries = []
    for digest, platform in zip(children, platforms, strict=True):
        entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": 1, "platform": platform})
    # The size in a descriptor is not checked against the child here; use the real one anyway.
    for entry in entries:
        manifest = await client.get(f"/v2/{repository}/manifests/{entry['digest']}",
                                    headers={"Accept": OCI_MANIFEST})
        entry["size"] = len(manifest.content)
    content = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    response = await client.put(f"/v2/{repository}/manifests/{tag}", content=content,
                                headers={"Content-Type": OCI_INDEX})
    assert response.status_code == 201, response.text
    return children
