"""Helpers for the scan API tests: push the scanner's test images through /v2, import the real
OSV test data, run the background jobs, set project metadata and read reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select, update

from portside.jobs.runtime import BackgroundRuntime
from portside.services.bundle import Services
from portside.services.vulndb import VulnerabilityDatabase
from portside.store import events as event_store
from portside.store.tables import manifests, projects, repositories, scan_reports
from scan_images import OSV_TESTDATA, clean_layers, digest_of, image_config, vulnerable_layers

API = "/api/v2.0"
REPORT_MIME = "application/vnd.security.vulnerability.report; version=1.1"
NATIVE_MIME = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Pushed:
    content: bytes
    digest: str


async def push_blob(client: httpx.AsyncClient, repository: str, data: bytes) -> str:
    response = await client.post(f"/v2/{repository}/blobs/uploads/?digest={digest_of(data)}", content=data)
    assert response.status_code == 201, response.text
    return digest_of(data)


async def put_manifest(client: httpx.AsyncClient, repository: str, reference: str, content: bytes,
                       media_type: str) -> None:
    response = await client.put(f"/v2/{repository}/manifests/{reference}", content=content,
                                headers={"Content-Type": media_type})
    assert response.status_code == 201, response.text


async def push_layers(client: httpx.AsyncClient, repository: str, tag: str | None, layers: Sequence[bytes],
                      architecture: str = "amd64") -> Pushed:
    """Push an OCI image of `layers` (base first) with a matching image config, by `tag` (None: by digest)."""
    config = json.dumps(image_config(layers, architecture)).encode()
    for blob in (config, *layers):
        await push_blob(client, repository, blob)
    content = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(layer), "size": len(layer)} for layer in layers],
    }).encode()
    await put_manifest(client, repository, tag or digest_of(content), content, OCI_MANIFEST)
    return Pushed(content, digest_of(content))


def repo_url(full_name: str) -> str:
    """`/api/v2.0/projects/<p>/repositories/<double-encoded rest>` for `p/rest`."""
    project, _, repository = full_name.partition("/")
    return f"{API}/projects/{project}/repositories/{quote(quote(repository, safe=''), safe='')}"


async def import_testdata(services: Services) -> None:
    result = await VulnerabilityDatabase(services.db).import_path(OSV_TESTDATA)
    assert result.imported == 19 and not result.errors, result


async def push_vulnerable(client: httpx.AsyncClient, repository: str, tag: str | None = "1.0", nonce: str = "",
                          architecture: str = "amd64") -> Pushed:
    return await push_layers(client, repository, tag, vulnerable_layers(nonce), architecture)


async def push_clean(client: httpx.AsyncClient, repository: str, tag: str = "1.0") -> Pushed:
    return await push_layers(client, repository, tag, clean_layers())


def artifact_url(repository: str, reference: str) -> str:
    return f"{repo_url(repository)}/artifacts/{reference}"


async def run_jobs(services: Services) -> int:
    """Dispatch events and run every runnable job (the embedded worker's work, synchronously)."""
    return await BackgroundRuntime(services).run_until_idle()


async def scan(client: httpx.AsyncClient, services: Services, repository: str, reference: str = "1.0") -> None:
    """Trigger a scan through the API and run it."""
    response = await client.post(f"{artifact_url(repository, reference)}/scan")
    assert response.status_code == 202, response.text
    await run_jobs(services)


async def report_of(client: httpx.AsyncClient, repository: str, reference: str = "1.0",
                    mime: str = REPORT_MIME) -> dict[str, Any]:
    response = await client.get(f"{artifact_url(repository, reference)}/additions/vulnerabilities",
                                headers={"X-Accept-Vulnerabilities": mime})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def overview(client: httpx.AsyncClient, repository: str, reference: str = "1.0") -> dict[str, Any]:
    response = await client.get(f"{artifact_url(repository, reference)}/scan/overview")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_metadata(services: Services, project: str, **values: str) -> None:
    """Merge `values` into the project's metadata (the projects API is another area's)."""
    async with services.db.write() as conn:
        current = (await conn.execute(select(projects.c.metadata).where(projects.c.name == project))).scalar()
        await conn.execute(update(projects).where(projects.c.name == project)
                           .values(metadata={**(current or {}), **values}))


async def announce_push(services: Services, repository: str, digest: str) -> None:
    """Write the `artifact.pushed` outbox event ManifestService.put writes for a push."""
    async with services.db.write() as conn:
        row = (await conn.execute(
            select(manifests.c.id, repositories.c.id.label("repository_id"), repositories.c.project_id)
            .join(repositories, repositories.c.id == manifests.c.repository_id)
            .where(repositories.c.name == repository, manifests.c.digest == digest))).one()
        await event_store.add(conn, "artifact.pushed", {"manifest_id": row.id, "repository_id": row.repository_id,
                                                        "project_id": row.project_id, "digest": digest})


async def report_status(services: Services, digest: str) -> tuple[str, str]:
    """(status, status_message) of the digest's report row."""
    async with services.db.read() as conn:
        row = (await conn.execute(select(scan_reports.c.status, scan_reports.c.status_message)
                                  .where(scan_reports.c.digest == digest))).one()
    return str(row.status), str(row.status_message)
