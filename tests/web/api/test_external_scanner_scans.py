"""Scans by an external scanner adapter (Pluggable Scanner Adapter API v1.2), end to end over
real HTTP on 127.0.0.1: Portside (the app: /v2 and /api/v2.0) and a test adapter each run in a
uvicorn server. Like a real adapter, the test adapter pulls the artifact it is asked to scan
from the registry URL of the scan request with the request's authorization (the manifest, then
its config blob) and reports what it read, so a report can only be right if the pull worked.
The adapter is registered and chosen through the API, scans are requested through the API and
run by the job runtime."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from adapter_support import error, serving
from portside.core.clock import utcnow
from portside.core.config import Settings
from portside.services.bundle import Services
from portside.services.scanners import registry_url
from portside.store import scanner_registrations as registration_store
from portside.store.tables import jobs, scan_reports
from scan_images import clean_layers
from scan_support import (
    API,
    OCI_MANIFEST,
    REPORT_MIME,
    Pushed,
    artifact_url,
    overview,
    push_clean,
    push_layers,
    put_manifest,
    report_of,
    report_status,
    run_jobs,
    set_metadata,
)

REPO = "astro/ext"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
METADATA_SCANNER = {"name": "Pully", "vendor": "Tests Inc", "version": "2.5"}
REPORT_SCANNER = {"name": "Pully", "vendor": "Tests Inc", "version": "2.5.1"}  # the report's own wins
SCAN_ATTEMPTS = 3


@dataclass
class PullingAdapter:
    """A scanner adapter that pulls what it scans. Modes: `fail_status` (POST /scan answers that
    error), `malformed` (the report is not Harbor's shape), `never_ready` (302 forever, every
    `refresh_after` seconds), `consumes` (the manifest types its metadata says it scans)."""

    fail_status: int | None = None
    malformed: bool = False
    never_ready: bool = False
    refresh_after: str = "0"
    consumes: tuple[str, ...] = (OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json")
    scan_requests: list[dict[str, Any]] = field(default_factory=list)
    pull_statuses: list[tuple[int, int]] = field(default_factory=list)  # (manifest, config blob) per request
    polls: int = 0
    _results: dict[str, dict[str, Any] | str] = field(default_factory=dict)

    async def metadata(self, request: Request) -> Response:
        return JSONResponse({"scanner": METADATA_SCANNER, "capabilities": [
            {"type": "vulnerability", "consumes_mime_types": list(self.consumes),
             "produces_mime_types": [REPORT_MIME]}], "properties": {}})

    async def _pull(self, body: dict[str, Any]) -> dict[str, Any] | str:
        """Pull the manifest and config blob as the request says; the report, or why it failed."""
        registry, artifact = body["registry"], body["artifact"]
        headers = {"Authorization": registry.get("authorization", "")}
        base = f"{registry['url']}/v2/{artifact['repository']}"
        async with httpx.AsyncClient(timeout=10) as http:
            manifest = await http.get(f"{base}/manifests/{artifact['digest']}",
                                      headers={**headers, "Accept": artifact["mime_type"]})
            if manifest.status_code != 200:
                self.pull_statuses.append((manifest.status_code, 0))
                return f"pulling the manifest answered {manifest.status_code}"
            config_digest = manifest.json()["config"]["digest"]
            config = await http.get(f"{base}/blobs/{config_digest}", headers=headers)
        self.pull_statuses.append((200, config.status_code))
        if config.status_code != 200:
            return f"pulling the config answered {config.status_code}"
        return {"generated_at": "2030-01-01T00:00:00Z", "scanner": REPORT_SCANNER, "severity": "Critical",
                "vulnerabilities": [
                    {"id": "CVE-2099-1001", "package": "arch", "version": config.json()["architecture"],
                     "fix_version": "9", "severity": "Critical", "description": "from the config", "links": []},
                    {"id": "CVE-2099-1002", "package": "config", "version": config_digest, "severity": "Low",
                     "description": "", "links": []}]}

    async def scan(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.scan_requests.append(body)
        if self.fail_status is not None:
            return error(self.fail_status, "scanner exploded")
        request_id = f"req-{len(self.scan_requests)}"
        self._results[request_id] = await self._pull(body)
        return JSONResponse({"id": request_id}, status_code=202)

    async def report(self, request: Request) -> Response:
        self.polls += 1
        result = self._results.get(request.path_params["request_id"])
        if result is None:
            return error(404, "no such scan request")
        if self.never_ready or self.polls == 1:  # the first poll of a scan is "not yet", as usual
            return Response(status_code=302, headers={"Refresh-After": self.refresh_after})
        if isinstance(result, str):
            return error(500, result)
        if self.malformed:
            return JSONResponse({"vulnerabilities": "none at all"})
        return JSONResponse(result, media_type=REPORT_MIME)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/api/v1/metadata", self.metadata, methods=["GET"]),
                                 Route("/api/v1/scan", self.scan, methods=["POST"]),
                                 Route("/api/v1/scan/{request_id}/report", self.report, methods=["GET"])])


@pytest.fixture
async def portside_url(app: ASGIApp, services: Services, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """Portside over real HTTP; its external_url is that address, so adapters pull from it."""
    async with serving(app) as url:
        monkeypatch.setattr(services, "settings", services.settings.model_copy(update={"external_url": url}))
        yield url


@pytest.fixture
def adapter() -> PullingAdapter:
    return PullingAdapter()


@pytest.fixture
async def adapter_url(adapter: PullingAdapter) -> AsyncIterator[str]:
    async with serving(adapter.app) as url:
        yield url


async def register(client: httpx.AsyncClient, url: str, name: str = "pully-adapter") -> str:
    response = await client.post(f"{API}/scanners", json={"name": name, "url": url})
    assert response.status_code == 201, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def use_scanner(client: httpx.AsyncClient, project: str, registration: str) -> None:
    response = await client.put(f"{API}/projects/{project}/scanner", json={"uuid": registration})
    assert response.status_code == 200, response.text


async def push_and_choose(client: httpx.AsyncClient, adapter_url: str, repository: str = REPO) -> Pushed:
    """Push an image (creating its project) and make the adapter that project's scanner."""
    pushed = await push_clean(client, repository)
    await use_scanner(client, repository.split("/", 1)[0], await register(client, adapter_url))
    return pushed


async def request_scan(client: httpx.AsyncClient, repository: str = REPO, reference: str = "1.0") -> None:
    response = await client.post(f"{artifact_url(repository, reference)}/scan")
    assert response.status_code == 202, response.text


async def run_every_attempt(services: Services) -> None:
    """Run the jobs, making retried ones due at once (their backoff is tens of seconds)."""
    for _ in range(SCAN_ATTEMPTS):
        await run_jobs(services)
        async with services.db.write() as conn:
            await conn.execute(update(jobs).where(jobs.c.status == "queued")
                               .values(run_after=utcnow() - timedelta(seconds=1)))


async def push_other(client: httpx.AsyncClient, repository: str) -> Pushed:
    """An image with another digest than `push_clean`'s (reports are kept per digest)."""
    return await push_layers(client, repository, "1.0", clean_layers(), "arm64")


def config_digest(pushed: Pushed) -> str:
    return str(json.loads(pushed.content)["config"]["digest"])


def summary_scanner(body: dict[str, Any]) -> dict[str, Any]:
    scanner: dict[str, Any] = body["scanner"]
    return scanner


async def listed_overview(client: httpx.AsyncClient, repository: str = REPO) -> dict[str, Any]:
    project, name = repository.split("/", 1)
    response = await client.get(f"{API}/projects/{project}/repositories/{name}/artifacts",
                                params={"with_scan_overview": "true"})
    assert response.status_code == 200, response.text
    [artifact] = response.json()
    value: dict[str, Any] = artifact["scan_overview"][REPORT_MIME]
    return value


# --- the scan flow --------------------------------------------------------------------------------


async def test_the_projects_adapter_scans_what_it_pulls_from_portside(
        client: httpx.AsyncClient, services: Services, portside_url: str, adapter: PullingAdapter,
        adapter_url: str) -> None:
    pushed = await push_and_choose(client, adapter_url)
    await request_scan(client)
    await run_jobs(services)
    [sent] = adapter.scan_requests
    assert sent["registry"]["url"] == portside_url
    assert sent["registry"]["authorization"].startswith("Bearer ")
    assert sent["artifact"] == {"repository": REPO, "digest": pushed.digest, "mime_type": OCI_MANIFEST, "tag": "1.0"}
    assert sent["enabled_capabilities"] == [{"type": "vulnerability", "produces_mime_types": [REPORT_MIME]}]
    assert adapter.pull_statuses == [(200, 200)]
    report = (await report_of(client, REPO))[REPORT_MIME]
    assert [(item["id"], item["version"], item["artifact_digests"]) for item in report["vulnerabilities"]] == [
        ("CVE-2099-1001", "amd64", [pushed.digest]), ("CVE-2099-1002", config_digest(pushed), [pushed.digest])]
    assert (report["scanner"], report["severity"]) == (REPORT_SCANNER, "Critical")


async def test_overviews_show_the_adapter_and_its_counts(client: httpx.AsyncClient, services: Services,
                                                         portside_url: str, adapter_url: str) -> None:
    await push_and_choose(client, adapter_url)
    await request_scan(client)
    await run_jobs(services)
    alias = await overview(client, REPO)
    assert (alias["scan_status"], alias["severity"], summary_scanner(alias)) == ("Success", "Critical", REPORT_SCANNER)
    assert (alias["vulnerabilities"]["critical"], alias["vulnerabilities"]["low"],
            alias["vulnerabilities"]["total"], alias["vulnerabilities"]["fixable"]) == (1, 1, 2, 1)
    native = await listed_overview(client)
    assert (native["scanner"], native["summary"]["total"], native["complete_percent"]) == (REPORT_SCANNER, 2, 100)


async def test_the_scan_log_names_the_adapter(client: httpx.AsyncClient, services: Services, portside_url: str,
                                              adapter_url: str) -> None:
    await push_and_choose(client, adapter_url)
    await request_scan(client)
    await run_jobs(services)
    report_id = (await overview(client, REPO))["report_id"]
    log = (await client.get(f"{artifact_url(REPO, '1.0')}/scan/{report_id}/log")).text
    assert "with the scanner pully-adapter (Pully Tests Inc 2.5)" in log
    assert "2 vulnerabilities, 1 fixable; severity Critical" in log
    assert "Bearer" not in log  # the pull token is a secret


async def test_the_scan_token_pulls_only_the_scanned_repository(client: httpx.AsyncClient, services: Services,
                                                                portside_url: str, adapter: PullingAdapter,
                                                                adapter_url: str) -> None:
    pushed = await push_and_choose(client, adapter_url)
    other_in_project = await push_clean(client, "astro/other")
    other_project = await push_clean(client, "cosmo/elsewhere")
    await request_scan(client)
    await run_jobs(services)
    bearer = adapter.scan_requests[0]["registry"]["authorization"]
    claims = jwt.decode(bearer.removeprefix("Bearer "), options={"verify_signature": False})
    assert claims["access"] == [{"type": "repository", "name": REPO, "actions": ["pull", "scanner-pull"]}]
    assert claims["sub"].startswith("robot$portside-scanner@")
    async with httpx.AsyncClient(base_url=portside_url, headers={"Authorization": bearer}, timeout=10) as http:
        own = await http.get(f"/v2/{REPO}/manifests/{pushed.digest}", headers={"Accept": OCI_MANIFEST})
        sibling = await http.get(f"/v2/astro/other/manifests/{other_in_project.digest}")
        foreign = await http.get(f"/v2/cosmo/elsewhere/manifests/{other_project.digest}")
        push = await http.post(f"/v2/{REPO}/blobs/uploads/")
        delete = await http.delete(f"/v2/{REPO}/manifests/{pushed.digest}")
        catalog = await http.get("/v2/_catalog")
        api = await http.get(f"{API}/projects/astro/repositories")
    assert own.status_code == 200 and own.content == pushed.content
    assert [r.status_code for r in (sibling, foreign, push, delete, catalog)] == [401] * 5
    assert 'error="insufficient_scope"' in push.headers["www-authenticate"]
    assert api.status_code == 401  # a registry token is no API credential


async def test_the_adapter_may_pull_an_unscanned_image_the_pull_policy_blocks(
        client: httpx.AsyncClient, services: Services, portside_url: str, adapter: PullingAdapter,
        adapter_url: str) -> None:
    pushed = await push_and_choose(client, adapter_url)
    await set_metadata(services, "astro", prevent_vul="true", severity="low")
    await request_scan(client)
    await run_jobs(services)
    assert adapter.pull_statuses == [(200, 200)]
    assert await report_status(services, pushed.digest) == ("Success", "")
    # The exemption is the scan token's alone: the same grants under another subject, or the scan
    # subject without scanner-pull, are refused now that the image has a Critical finding.
    pull_only = [{"type": "repository", "name": REPO, "actions": ["pull"]}]
    others = [services.tokens.issue("someone", [{**pull_only[0], "actions": ["pull", "scanner-pull"]}]),
              services.tokens.issue("robot$portside-scanner@forged", pull_only)]
    async with httpx.AsyncClient(base_url=portside_url, timeout=10) as http:
        for token in others:
            refused = await http.get(f"/v2/{REPO}/manifests/{pushed.digest}",
                                     headers={"Authorization": f"Bearer {token.token}"})
            assert refused.status_code == 412, refused.text


# --- errors and stops ---------------------------------------------------------------------------


async def test_an_adapter_error_ends_the_report_with_error_after_every_attempt(
        client: httpx.AsyncClient, services: Services, portside_url: str, adapter: PullingAdapter,
        adapter_url: str) -> None:
    adapter.fail_status = 500
    pushed = await push_and_choose(client, adapter_url)
    await request_scan(client)
    await run_every_attempt(services)
    status, message = await report_status(services, pushed.digest)
    assert status == "Error"
    assert f"after {SCAN_ATTEMPTS} attempts" in message and "scanner adapter error 500: scanner exploded" in message
    assert len(adapter.scan_requests) == SCAN_ATTEMPTS
    alias = await overview(client, REPO)
    assert (alias["scan_status"], summary_scanner(alias)) == ("Error", METADATA_SCANNER)


async def test_a_failed_pull_is_the_adapters_error(client: httpx.AsyncClient, services: Services,
                                                   portside_url: str, adapter: PullingAdapter,
                                                   adapter_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pushed = await push_and_choose(client, adapter_url)
    # A registry URL the token is not for: the adapter's pull is refused, so it reports an error.
    monkeypatch.setattr(services, "settings", services.settings.model_copy(
        update={"external_url": portside_url + "/nowhere"}))
    await request_scan(client)
    await run_every_attempt(services)
    status, message = await report_status(services, pushed.digest)
    assert status == "Error" and "pulling the manifest answered 404" in message


async def test_a_malformed_report_ends_the_scan_with_error_at_once(client: httpx.AsyncClient, services: Services,
                                                                   portside_url: str, adapter: PullingAdapter,
                                                                   adapter_url: str) -> None:
    adapter.malformed = True
    pushed = await push_and_choose(client, adapter_url)
    await request_scan(client)
    await run_jobs(services)
    status, message = await report_status(services, pushed.digest)
    assert status == "Error"
    assert message == ("the scanner pully-adapter (Pully Tests Inc 2.5) returned a malformed report: "
                       "the report has no `vulnerabilities` list")
    assert len(adapter.scan_requests) == 1


async def test_an_adapter_that_does_not_scan_the_type_ends_the_scan_with_error(
        client: httpx.AsyncClient, services: Services, portside_url: str, adapter: PullingAdapter,
        adapter_url: str) -> None:
    adapter.consumes = ("application/vnd.docker.distribution.manifest.v2+json",)
    pushed = await push_and_choose(client, adapter_url)
    await request_scan(client)
    await run_jobs(services)
    status, message = await report_status(services, pushed.digest)
    assert (status, adapter.scan_requests) == ("Error", [])
    assert f"does not scan {OCI_MANIFEST} artifacts" in message


async def test_a_stop_ends_an_adapter_scan_between_polls(client: httpx.AsyncClient, services: Services,
                                                         portside_url: str, adapter: PullingAdapter,
                                                         adapter_url: str) -> None:
    adapter.never_ready, adapter.refresh_after = True, "1"
    pushed = await push_and_choose(client, adapter_url)
    await request_scan(client)
    running = asyncio.create_task(run_jobs(services))
    for _ in range(200):
        if adapter.polls:
            break
        await asyncio.sleep(0.05)
    assert adapter.polls == 1
    response = await client.post(f"{artifact_url(REPO, '1.0')}/scan/stop")
    assert response.status_code == 202, response.text
    await asyncio.wait_for(running, 20)
    assert await report_status(services, pushed.digest) == ("Stopped", "stopped by request")
    assert adapter.polls <= 2
    async with services.db.read() as conn:
        assert (await conn.execute(select(jobs.c.status).where(jobs.c.kind == "scan"))).scalars().all() == ["stopped"]


# --- which scanner scans ----------------------------------------------------------------------------


async def test_a_project_without_a_choice_uses_the_builtin_default(client: httpx.AsyncClient, services: Services,
                                                                   portside_url: str, adapter: PullingAdapter,
                                                                   adapter_url: str) -> None:
    await push_and_choose(client, adapter_url)
    await push_other(client, "cosmo/builtin")
    await request_scan(client, "cosmo/builtin")
    await run_jobs(services)
    assert adapter.scan_requests == []
    alias = await overview(client, "cosmo/builtin")
    assert (alias["scan_status"], summary_scanner(alias)["name"]) == ("Success", "Portside")


async def test_scan_on_push_uses_the_default_adapter(client: httpx.AsyncClient, services: Services,
                                                     portside_url: str, adapter: PullingAdapter,
                                                     adapter_url: str) -> None:
    registration = await register(client, adapter_url)
    response = await client.patch(f"{API}/scanners/{registration}", json={"is_default": True})
    assert response.status_code == 200, response.text
    await push_clean(client, "cosmo/first")
    await set_metadata(services, "cosmo", auto_scan="true")
    pushed = await push_clean(client, "cosmo/pushed")
    await run_jobs(services)
    assert [sent["artifact"]["digest"] for sent in adapter.scan_requests] == [pushed.digest]
    assert summary_scanner(await overview(client, "cosmo/pushed")) == REPORT_SCANNER


async def test_scan_all_scans_each_project_with_its_scanner(client: httpx.AsyncClient, services: Services,
                                                            portside_url: str, adapter: PullingAdapter,
                                                            adapter_url: str) -> None:
    pushed = await push_and_choose(client, adapter_url)
    await push_other(client, "cosmo/builtin")
    response = await client.post(f"{API}/system/scanAll/schedule", json={"schedule": {"type": "Manual"}})
    assert response.status_code == 201, response.text
    await run_jobs(services)
    assert [sent["artifact"]["digest"] for sent in adapter.scan_requests] == [pushed.digest]
    assert summary_scanner(await overview(client, REPO)) == REPORT_SCANNER
    assert summary_scanner(await overview(client, "cosmo/builtin"))["name"] == "Portside"


async def test_the_newest_report_wins_whichever_scanner_made_it(client: httpx.AsyncClient, services: Services,
                                                                portside_url: str, adapter_url: str) -> None:
    await push_and_choose(client, adapter_url)
    names = []
    for registration_name in ("pully-adapter", "Portside", "pully-adapter"):
        async with services.db.read() as conn:
            chosen = await registration_store.find_by_name(conn, registration_name)
        assert chosen is not None
        await use_scanner(client, "astro", chosen.uuid)
        await request_scan(client)
        await run_jobs(services)
        names.append(summary_scanner(await overview(client, REPO))["name"])
        assert (await listed_overview(client))["scanner"]["name"] == names[-1]
    assert names == ["Pully", "Portside", "Pully"]
    async with services.db.read() as conn:
        rows = (await conn.execute(select(scan_reports.c.registration_id).where(
            scan_reports.c.mime_type == REPORT_MIME))).all()
    assert len(rows) == 2  # one report per scanner; the newest is shown


async def test_an_index_is_scanned_image_by_image_by_the_adapter(client: httpx.AsyncClient, services: Services,
                                                                  portside_url: str, adapter: PullingAdapter,
                                                                  adapter_url: str) -> None:
    children = [await push_layers(client, REPO, None, clean_layers(), architecture)
                for architecture in ("amd64", "arm64")]
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": child.digest, "size": len(child.content),
         "platform": {"architecture": arch, "os": "linux"}}
        for child, arch in zip(children, ("amd64", "arm64"), strict=True)]}).encode()
    await put_manifest(client, REPO, "multi", index, OCI_INDEX)
    await use_scanner(client, "astro", await register(client, adapter_url))
    await request_scan(client, REPO, "multi")
    await run_jobs(services)
    assert sorted((sent["artifact"]["digest"], sent["artifact"].get("tag")) for sent in adapter.scan_requests) == \
        sorted((child.digest, None) for child in children)  # an index's images have no tag of their own
    for child in children:
        assert await report_status(services, child.digest) == ("Success", "")
    report = (await report_of(client, REPO, "multi"))[REPORT_MIME]
    assert sorted((item["id"], item["version"], item["artifact_digests"]) for item in report["vulnerabilities"]
                  if item["id"] == "CVE-2099-1001") == [("CVE-2099-1001", "amd64", [children[0].digest]),
                                                        ("CVE-2099-1001", "arm64", [children[1].digest])]
    assert report["scanner"] == REPORT_SCANNER
    alias = await overview(client, REPO, "multi")
    assert (alias["scan_status"], alias["vulnerabilities"]["total"], summary_scanner(alias)) == (
        "Success", 4, REPORT_SCANNER)


# --- the registry URL an adapter is given -------------------------------------------------------


def _registration(use_internal_addr: bool) -> registration_store.Registration:
    now = utcnow()
    return registration_store.Registration(1, "u", "n", "", "http://adapter", "", "", False, use_internal_addr, False,
                                           False, now, now)


def test_the_registry_url_is_the_external_one_unless_the_internal_address_is_asked_for(settings: Settings) -> None:
    external = settings.model_copy(update={"external_url": "https://images.example.org/", "port": 5001})
    assert registry_url(external, _registration(False)) == "https://images.example.org"
    assert registry_url(external, _registration(True)) == f"http://{settings.host}:5001"
    assert registry_url(settings, _registration(False)) == f"http://{settings.host}:{settings.port}"
