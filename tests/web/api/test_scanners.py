"""Scanner registrations and project scanners through the HTTP API in process; external adapters
are the fake v1.2 adapter of adapter_support served over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from projects_support import Accounts, add_member, create_project, error_of
from sqlalchemy import select
from starlette.types import ASGIApp

from adapter_support import FakeAdapter, serving
from portside.clients.scanner_adapter import ScanRequest
from portside.services.bundle import Services
from portside.services.scanners import scanner_service
from portside.store import scanner_registrations as registration_store
from portside.store.tables import scanner_registrations

API = "/api/v2.0"
BUILTIN_UUID = "portside-builtin-scanner"


@pytest.fixture
async def adapter_url() -> AsyncIterator[str]:
    async with serving(FakeAdapter().app) as url:
        yield url


async def register(client: httpx.AsyncClient, url: str, name: str = "fake", **extra: Any) -> str:
    response = await client.post(f"{API}/scanners", json={"name": name, "url": url, **extra})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith(f"{API}/scanners/")
    return location.rsplit("/", 1)[1]


async def scanners(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/scanners")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def test_the_builtin_scanner_is_listed_as_the_default(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/scanners")
    assert response.headers["x-total-count"] == "1"
    [builtin] = response.json()
    assert (builtin["uuid"], builtin["name"], builtin["url"], builtin["is_default"]) == (
        BUILTIN_UUID, "Portside", "builtin:", True)
    assert builtin["capabilities"] == {"support_vulnerability": True, "support_sbom": True}


async def test_a_registered_adapter_shows_its_metadata_and_health(client: httpx.AsyncClient, adapter_url: str) -> None:
    registration = await register(client, adapter_url, auth="Basic", access_credential="harbor:s3cret",
                                  description="the fake one")
    response = await client.get(f"{API}/scanners/{registration}")
    body = response.json()
    assert (body["name"], body["url"], body["description"], body["auth"]) == ("fake", adapter_url, "the fake one",
                                                                              "Basic")
    assert (body["adapter"], body["vendor"], body["version"], body["health"]) == ("Fake", "Tests", "1.0", "healthy")
    assert body["capabilities"] == {"support_vulnerability": True, "support_sbom": False}
    assert body["access_credential"] == "" and body["is_default"] is False


async def test_an_adapter_that_stopped_answering_is_unhealthy(client: httpx.AsyncClient) -> None:
    async with serving(FakeAdapter().app) as url:
        registration = await register(client, url)
    body = (await client.get(f"{API}/scanners/{registration}")).json()
    assert (body["health"], body["adapter"]) == ("unhealthy", "")


async def test_a_taken_name_is_a_conflict(client: httpx.AsyncClient, adapter_url: str) -> None:
    await register(client, adapter_url)
    response = await client.post(f"{API}/scanners", json={"name": "fake", "url": "http://other.example:8080"})
    assert (response.status_code, error_of(response)["code"]) == (409, "CONFLICT")


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x", "url": "builtin:"}, "is not an http(s) URL"),
    ({"name": "x", "url": "ftp://scanner.example"}, "is not an http(s) URL"),
    ({"name": "x", "url": "http://scanner.example", "auth": "Bearer"}, "needs an access_credential"),
    ({"name": "x", "url": "http://scanner.example", "auth": "Basic", "access_credential": "nocolon"},
     "user:secret"),
    ({"name": "x", "url": "http://scanner.example", "auth": "Digest", "access_credential": "a"}, "unsupported auth"),
])
async def test_invalid_registrations_are_bad_requests(client: httpx.AsyncClient, body: dict[str, Any],
                                                      message: str) -> None:
    response = await client.post(f"{API}/scanners", json=body)
    assert response.status_code == 400
    assert message in error_of(response)["message"]


async def test_ping_of_a_working_adapter_succeeds(client: httpx.AsyncClient, adapter_url: str) -> None:
    response = await client.post(f"{API}/scanners/ping", json={"name": "fake", "url": adapter_url})
    assert response.status_code == 200, response.text


async def test_ping_of_an_unreachable_adapter_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/scanners/ping", json={"name": "gone", "url": "http://127.0.0.1:9"})
    assert response.status_code == 400
    assert "failed to ping the scanner adapter" in error_of(response)["message"]


async def test_ping_with_wrong_credentials_reports_the_adapters_answer(client: httpx.AsyncClient) -> None:
    adapter = FakeAdapter(expected_headers={"authorization": "Bearer right"})
    async with serving(adapter.app) as url:
        response = await client.post(f"{API}/scanners/ping", json={"name": "fake", "url": url, "auth": "Bearer",
                                                                  "access_credential": "wrong"})
    assert response.status_code == 400
    assert "401" in error_of(response)["message"]


async def test_metadata_of_a_registration_is_the_adapters(client: httpx.AsyncClient, adapter_url: str) -> None:
    registration = await register(client, adapter_url)
    response = await client.get(f"{API}/scanners/{registration}/metadata")
    assert response.json()["scanner"] == {"name": "Fake", "vendor": "Tests", "version": "1.0"}


async def test_metadata_of_the_builtin_scanner_lists_vulnerability_and_sbom(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{API}/scanners/{BUILTIN_UUID}/metadata")).json()
    assert body["scanner"]["name"] == "Portside"
    assert [c["type"] for c in body["capabilities"]] == ["vulnerability", "sbom"]
    assert "application/vnd.docker.distribution.manifest.v2+json" in body["capabilities"][0]["consumes_mime_types"]


async def test_patch_makes_a_registration_the_only_default(client: httpx.AsyncClient, adapter_url: str) -> None:
    registration = await register(client, adapter_url)
    response = await client.patch(f"{API}/scanners/{registration}", json={"is_default": True})
    assert response.status_code == 200
    assert {row["name"]: row["is_default"] for row in await scanners(client)} == {"Portside": False, "fake": True}


async def test_deleting_the_default_makes_the_builtin_the_default_again(client: httpx.AsyncClient,
                                                                       adapter_url: str) -> None:
    registration = await register(client, adapter_url)
    await client.patch(f"{API}/scanners/{registration}", json={"is_default": True})
    response = await client.delete(f"{API}/scanners/{registration}")
    assert (response.status_code, response.json()["name"]) == (200, "fake")
    assert [(row["name"], row["is_default"]) for row in await scanners(client)] == [("Portside", True)]
    assert (await client.get(f"{API}/scanners/{registration}")).status_code == 404


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_the_builtin_scanner_is_immutable(client: httpx.AsyncClient, method: str) -> None:
    await scanners(client)
    response = await client.request(method, f"{API}/scanners/{BUILTIN_UUID}",
                                    json={"name": "Mine", "url": "http://scanner.example"})
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_update_without_a_credential_keeps_the_stored_one(client: httpx.AsyncClient, services: Services,
                                                               adapter_url: str) -> None:
    registration = await register(client, adapter_url, auth="Bearer", access_credential="token-1")
    response = await client.put(f"{API}/scanners/{registration}", json={
        "name": "renamed", "url": adapter_url, "auth": "Bearer", "description": "new"})
    assert response.status_code == 200, response.text
    async with services.db.read() as conn:
        row = (await conn.execute(select(scanner_registrations)
                                  .where(scanner_registrations.c.uuid == registration))).one()
    assert (row.name, row.description, row.access_credential) == ("renamed", "new", "token-1")


async def test_a_disabled_registration_can_not_become_the_default(client: httpx.AsyncClient, adapter_url: str) -> None:
    registration = await register(client, adapter_url, disabled=True)
    response = await client.patch(f"{API}/scanners/{registration}", json={"is_default": True})
    assert response.status_code == 400
    assert "disabled" in error_of(response)["message"]


async def test_registrations_are_for_administrators_only(app: ASGIApp, services: Services) -> None:
    async with Accounts(services, app) as accounts:
        alice = await accounts.client("alice")
        response = await alice.get(f"{API}/scanners")
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_scanner_list_filters_by_name(client: httpx.AsyncClient, adapter_url: str) -> None:
    await register(client, adapter_url)
    response = await client.get(f"{API}/scanners", params={"q": "name=~fak"})
    assert [row["name"] for row in response.json()] == ["fake"]


async def test_a_project_uses_the_default_scanner_until_it_chooses_one(client: httpx.AsyncClient,
                                                                      adapter_url: str) -> None:
    await create_project(client, "proj")
    assert (await client.get(f"{API}/projects/proj/scanner")).json()["uuid"] == BUILTIN_UUID
    registration = await register(client, adapter_url)
    response = await client.put(f"{API}/projects/proj/scanner", json={"uuid": registration})
    assert response.status_code == 200, response.text
    assert (await client.get(f"{API}/projects/proj/scanner")).json()["uuid"] == registration


async def test_project_scanner_candidates_exclude_disabled_registrations(client: httpx.AsyncClient,
                                                                        adapter_url: str) -> None:
    await create_project(client, "proj")
    await register(client, adapter_url, name="off", disabled=True)
    response = await client.get(f"{API}/projects/proj/scanner/candidates")
    assert ([row["name"] for row in response.json()], response.headers["x-total-count"]) == (["Portside"], "1")


async def test_a_developer_reads_but_can_not_set_the_project_scanner(client: httpx.AsyncClient, app: ASGIApp,
                                                                    services: Services) -> None:
    await create_project(client, "proj")
    async with Accounts(services, app) as accounts:
        bob = await accounts.client("bob")
        await add_member(client, "proj", "bob", 2)
        read = await bob.get(f"{API}/projects/proj/scanner")
        write = await bob.put(f"{API}/projects/proj/scanner", json={"uuid": BUILTIN_UUID})
    assert read.status_code == 200
    assert (write.status_code, error_of(write)["code"]) == (403, "FORBIDDEN")


async def test_setting_an_unknown_registration_on_a_project_is_a_bad_request(client: httpx.AsyncClient) -> None:
    await create_project(client, "proj")
    response = await client.put(f"{API}/projects/proj/scanner", json={"uuid": "no-such"})
    assert response.status_code == 400


async def test_scan_with_adapter_returns_the_adapters_report(client: httpx.AsyncClient, services: Services) -> None:
    adapter = FakeAdapter(pending_polls=1, refresh_after="0")
    async with serving(adapter.app) as url:
        registration_uuid = await register(client, url)
        scanners_service = scanner_service(services)
        async with services.db.read() as conn:
            registration = await registration_store.find_by_uuid(conn, registration_uuid)
        assert registration is not None
        report = await scanners_service.scan_with_adapter(registration, ScanRequest(
            registry_url="http://registry.test", repository="proj/app", digest="sha256:" + "b" * 64,
            mime_type="application/vnd.oci.image.manifest.v1+json"))
    assert [item["id"] for item in report["vulnerabilities"]] == ["CVE-2021-23337"]
    assert len(adapter.report_requests) == 2
