"""Small explicit builders for the /v2 API tests: push blobs, images, indexes and artifacts.

Every helper asserts the status of the requests it makes, so a test using one
fails at the step that broke, not later with a confusing symptom.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from portside.core.config import Settings

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
EMPTY_CONFIG = b"{}"


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """The `algorithm:hex` digest of `data`."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    """An OCI descriptor of `data`."""
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data), **extra}


async def push_blob(client: httpx.AsyncClient, repo: str, data: bytes, *, algorithm: str = "sha256") -> str:
    """Upload `data` monolithically (POST ?digest=) and return its digest."""
    digest = digest_of(data, algorithm)
    response = await client.post(f"/v2/{repo}/blobs/uploads/?digest={digest}", content=data)
    assert response.status_code == 201, response.text
    return digest


async def start_upload(client: httpx.AsyncClient, repo: str) -> str:
    """Open an upload session and return its Location."""
    response = await client.post(f"/v2/{repo}/blobs/uploads/")
    assert response.status_code == 202, response.text
    return response.headers["location"]


async def patch_chunk(client: httpx.AsyncClient, location: str, data: bytes, start: int) -> httpx.Response:
    """PATCH one chunk at offset `start` with its Content-Range."""
    return await client.patch(location, content=data, headers={
        "Content-Range": f"{start}-{start + len(data) - 1}", "Content-Type": "application/octet-stream",
    })


async def push_chunked(client: httpx.AsyncClient, repo: str, data: bytes, chunk_size: int,
                       *, algorithm: str = "sha256") -> str:
    """Upload `data` in chunks of `chunk_size` and a bodiless PUT; return its digest."""
    location = await start_upload(client, repo)
    for start in range(0, len(data), chunk_size):
        response = await patch_chunk(client, location, data[start:start + chunk_size], start)
        assert response.status_code == 202, response.text
        location = response.headers["location"]
    digest = digest_of(data, algorithm)
    response = await client.put(location, params={"digest": digest})
    assert response.status_code == 201, response.text
    return digest


def image_manifest(config: bytes, layers: Sequence[bytes], *, media_type: str | None = OCI_MANIFEST,
                   config_type: str = OCI_CONFIG, layer_type: str = OCI_LAYER, **extra: Any) -> bytes:
    """The bytes of an image manifest; `media_type=None` leaves the top-level mediaType out."""
    body: dict[str, Any] = {"schemaVersion": 2}
    if media_type is not None:
        body["mediaType"] = media_type
    body["config"] = descriptor(config_type, config)
    body["layers"] = [descriptor(layer_type, layer) for layer in layers]
    body.update(extra)
    return json.dumps(body, indent=2).encode()


def index_manifest(children: Sequence[tuple[bytes, str]], *, media_type: str = OCI_INDEX, **extra: Any) -> bytes:
    """The bytes of an index of (manifest bytes, media type) children, one platform each."""
    entries = [descriptor(child_type, content, platform={"architecture": f"arch{i}", "os": "linux"})
               for i, (content, child_type) in enumerate(children)]
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries, **extra}).encode()


async def put_manifest(client: httpx.AsyncClient, repo: str, reference: str, content: bytes,
                       media_type: str = OCI_MANIFEST) -> httpx.Response:
    """PUT manifest bytes with `media_type` as Content-Type (status not checked)."""
    return await client.put(f"/v2/{repo}/manifests/{reference}", content=content,
                            headers={"Content-Type": media_type})


async def push_image(client: httpx.AsyncClient, repo: str, tag: str, layers: Sequence[bytes] = (b"layer",),
                     *, config: bytes = b'{"architecture":"amd64","os":"linux"}', media_type: str = OCI_MANIFEST,
                     config_type: str = OCI_CONFIG, layer_type: str = OCI_LAYER,
                     **extra: Any) -> tuple[bytes, str]:
    """Push the config, the layers and an image manifest tagged `tag`; return (manifest bytes, digest)."""
    for blob in (config, *layers):
        await push_blob(client, repo, blob)
    content = image_manifest(config, layers, media_type=media_type, config_type=config_type,
                             layer_type=layer_type, **extra)
    response = await put_manifest(client, repo, tag, content, media_type)
    assert response.status_code == 201, response.text
    assert response.headers["docker-content-digest"] == digest_of(content)
    return content, digest_of(content)


async def push_artifact(client: httpx.AsyncClient, repo: str, artifact_type: str | None, payload: bytes,
                        *, tag: str | None = None, config_type: str = OCI_EMPTY,
                        **extra: Any) -> tuple[bytes, str]:
    """Push an OCI artifact (empty config `{}`, one layer) by `tag`, else by digest; return (bytes, digest).

    `artifact_type=None` leaves artifactType out (the config's mediaType then stands in).
    """
    await push_blob(client, repo, EMPTY_CONFIG)
    await push_blob(client, repo, payload)
    if artifact_type is not None:
        extra["artifactType"] = artifact_type
    content = image_manifest(EMPTY_CONFIG, [payload], config_type=config_type,
                             layer_type="application/octet-stream", **extra)
    response = await put_manifest(client, repo, tag or digest_of(content), content)
    assert response.status_code == 201, response.text
    return content, digest_of(content)


async def push_index(client: httpx.AsyncClient, repo: str, tag: str, children: Sequence[tuple[bytes, str]],
                     *, media_type: str = OCI_INDEX) -> tuple[bytes, str]:
    """Push an index of already pushed children tagged `tag`; return (index bytes, digest)."""
    content = index_manifest(children, media_type=media_type)
    response = await put_manifest(client, repo, tag, content, media_type)
    assert response.status_code == 201, response.text
    return content, digest_of(content)


async def tags_of(client: httpx.AsyncClient, repo: str) -> list[str]:
    """Every tag of `repo` (asserts 200)."""
    response = await client.get(f"/v2/{repo}/tags/list")
    assert response.status_code == 200, response.text
    return list(response.json()["tags"])


def stored_blob_files(data_dir: Path) -> list[Path]:
    """The committed blob files of the filesystem driver under `data_dir`."""
    root = data_dir / "storage" / "blobs"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def admin_auth(settings: Settings) -> tuple[str, str]:
    """Basic credentials of the administrator the test settings create."""
    assert settings.admin_password is not None
    return "admin", settings.admin_password.get_secret_value()


async def asgi_request(app: ASGIApp, method: str, raw_path: str, *, auth: tuple[str, str] | None = None,
                       headers: Sequence[tuple[str, str]] = (), body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Call the ASGI app with an exact path (httpx would resolve `..` before sending).

    Header values are sent as latin-1, so tests can send bytes httpx refuses.
    """
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers = [("Authorization", f"Basic {token}"), *headers]
    path, _, query = raw_path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "server": ("registry.test", 80), "client": ("127.0.0.1", 1234),
        "headers": [(b"host", b"registry.test"), *((k.lower().encode(), v.encode("latin-1")) for k, v in headers)],
    }
    sent_body = False
    never = asyncio.Event()
    status = 0
    response_headers: dict[str, str] = {}
    parts: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent_body
        if sent_body:
            await never.wait()  # the client stays connected
        sent_body = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers.update({k.decode(): v.decode() for k, v in message["headers"]})
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, response_headers, b"".join(parts)
