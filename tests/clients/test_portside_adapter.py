"""Portside's own scanner adapter API driven by the adapter client, end to end over real HTTP.

One uvicorn server on 127.0.0.1 serves the Portside app (/v2, /api/v2.0) and the adapter app
(/api/v1, as the lead mounts it). An image is pushed in process, the client submits a scan
request naming the server's own URL as the registry, the `adapter_scan` job pulls the image
over HTTP with the request's credentials, and the client polls the report (302 first)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.types import ASGIApp, Receive, Scope, Send

from adapter_support import serving
from fixture_values import ADMIN_PASSWORD
from image_push import push
from portside.clients.scanner_adapter import (
    AdapterAuth,
    AdapterError,
    ScannerAdapterClient,
    ScanRequest,
)
from portside.jobs.handlers import adapter_scan
from portside.jobs.worker import Worker
from portside.services.bundle import Services
from portside.services.vulndb import VulnerabilityDatabase
from portside.store.tables import jobs
from portside.web.scanner_adapter import create_adapter_app
from scan_images import EXPECTED, OSV_TESTDATA, clean_layers, finding_rows, vulnerable_layers

REPORT_MIME = "application/vnd.security.vulnerability.report; version=1.1"
SBOM_MIME = "application/vnd.security.sbom.report+json; version=1.0"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ADMIN = AdapterAuth("Basic", f"admin:{ADMIN_PASSWORD}")
ADMIN_BASIC = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()


def with_adapter(app: ASGIApp, adapter: ASGIApp) -> ASGIApp:
    """Route /api/v1 to the adapter app and everything else to Portside (the lead's mount)."""

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == "/api/v1" or scope["path"].startswith("/api/v1/")):
            await adapter(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch


@pytest.fixture
async def server(app: ASGIApp, services: Services) -> AsyncIterator[str]:
    async with serving(with_adapter(app, create_adapter_app(services))) as url:
        yield url


async def run_adapter_jobs(services: Services) -> int:
    return await Worker(services, {kind.name: kind for kind in adapter_scan.KINDS}).run_until_idle()


def scan_request(url: str, digest: str, authorization: str = ADMIN_BASIC, **extra: Any) -> ScanRequest:
    return ScanRequest(registry_url=url, repository="proj/app", digest=digest, tag="1.0", mime_type=OCI_MANIFEST,
                       registry_authorization=authorization, **extra)


async def test_the_adapter_scans_an_image_it_pulls_over_http(client: httpx.AsyncClient, services: Services,
                                                             server: str) -> None:
    await VulnerabilityDatabase(services.db).import_path(OSV_TESTDATA)
    image = await push(client, vulnerable_layers())
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        request_id = await adapter.submit(scan_request(server, image))
        first = await adapter.report(request_id, REPORT_MIME)
        assert (first.ready, first.retry_after) == (False, 5.0)
        assert await run_adapter_jobs(services) == 1
        report = await adapter.wait_for_report(request_id, REPORT_MIME, max_polls=2)
    assert finding_rows(report) == list(EXPECTED)
    assert report["artifact"]["digest"] == image and report["severity"] == "Critical"


async def test_the_adapter_serves_an_sbom_report_in_cyclonedx(client: httpx.AsyncClient, services: Services,
                                                             server: str) -> None:
    image = await push(client, clean_layers())
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        request_id = await adapter.submit(scan_request(server, image))
        await run_adapter_jobs(services)
        report = await adapter.wait_for_report(request_id, SBOM_MIME, sbom_media_type="application/vnd.cyclonedx+json",
                                               max_polls=1)
    assert (report["media_type"], report["sbom"]["bomFormat"]) == ("application/vnd.cyclonedx+json", "CycloneDX")
    assert {c["purl"] for c in report["sbom"]["components"] if c["type"] == "library"} == {
        "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.9",
        "pkg:apk/alpine/busybox@1.30.1-r2?arch=x86_64&distro=3.10.9"}


async def test_an_sbom_report_needs_its_media_type(client: httpx.AsyncClient, services: Services,
                                                   server: str) -> None:
    image = await push(client, clean_layers())
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        request_id = await adapter.submit(scan_request(server, image))
        with pytest.raises(AdapterError) as raised:
            await adapter.report(request_id, SBOM_MIME)
    assert raised.value.status == 400


async def test_metadata_describes_portside(server: str) -> None:
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        metadata = await adapter.metadata()
    assert metadata["scanner"]["name"] == "Portside"
    assert [c["type"] for c in metadata["capabilities"]] == ["vulnerability", "sbom"]
    assert "application/vnd.docker.distribution.manifest.v2+json" in metadata["capabilities"][0]["consumes_mime_types"]


async def test_the_api_key_header_carries_portside_credentials(server: str) -> None:
    key = AdapterAuth("X-ScannerAdapter-API-Key", f"admin:{ADMIN_PASSWORD}")
    async with ScannerAdapterClient(server, key) as adapter:
        assert (await adapter.metadata())["scanner"]["name"] == "Portside"


async def test_anonymous_callers_are_refused(server: str) -> None:
    async with ScannerAdapterClient(server) as adapter:
        with pytest.raises(AdapterError) as raised:
            await adapter.metadata()
    assert (raised.value.status, raised.value.message) == (401, "authentication required")


async def test_an_unknown_scan_request_is_not_found(server: str) -> None:
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        with pytest.raises(AdapterError) as raised:
            await adapter.report("1-0123456789abcdef", REPORT_MIME)
    assert raised.value.status == 404


async def test_an_invalid_digest_is_unprocessable(server: str) -> None:
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        with pytest.raises(AdapterError) as raised:
            await adapter.submit(scan_request(server, "sha256:nothex"))
    assert raised.value.status == 422


async def test_an_unsupported_artifact_type_is_not_implemented(server: str) -> None:
    request = ScanRequest(registry_url=server, repository="proj/app", digest="sha256:" + "a" * 64,
                          mime_type="application/vnd.cncf.helm.config.v1+json")
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        with pytest.raises(AdapterError) as raised:
            await adapter.submit(request)
    assert raised.value.status == 501


async def test_a_pull_the_registry_refuses_ends_the_scan_with_an_error(client: httpx.AsyncClient,
                                                                       services: Services, server: str) -> None:
    image = await push(client, clean_layers())
    wrong = "Basic " + base64.b64encode(b"admin:not-the-password").decode()
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        request_id = await adapter.submit(scan_request(server, image, authorization=wrong))
        await run_adapter_jobs(services)
        with pytest.raises(AdapterError) as raised:
            await adapter.wait_for_report(request_id, REPORT_MIME, max_polls=1)
    assert raised.value.status == 500
    assert "401" in raised.value.message


async def test_the_registry_credentials_are_dropped_when_the_job_ends(client: httpx.AsyncClient,
                                                                      services: Services, server: str) -> None:
    image = await push(client, clean_layers())
    async with ScannerAdapterClient(server, ADMIN) as adapter:
        await adapter.submit(scan_request(server, image))
    await run_adapter_jobs(services)
    async with services.db.read() as conn:
        params = (await conn.execute(select(jobs.c.params).where(jobs.c.kind == "adapter_scan"))).scalar_one()
    assert "authorization" not in params
