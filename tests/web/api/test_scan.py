"""Harbor's scan API with the built-in scanner: trigger, report, overview, stop, logs, scan on push,
image indexes, corrupt layers and who may do what. Images are built in the tests (scan_images.py)
and matched against the real advisories in shared/testdata/osv (CC-BY-4.0, see its README)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from artifacts_support import OCI_INDEX, OCI_MANIFEST, digest_of, error_of, member_client, push_image, put_manifest
from sqlalchemy import func, select
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.store.tables import jobs
from scan_images import EXPECTED, EXPECTED_SUMMARY, alpine_layer, finding_rows, truncated
from scan_support import (
    NATIVE_MIME,
    REPORT_MIME,
    announce_push,
    artifact_url,
    import_testdata,
    overview,
    push_clean,
    push_layers,
    push_vulnerable,
    report_of,
    report_status,
    run_jobs,
    scan,
    set_metadata,
)

REPO = "astro/scanme"


@pytest.fixture(autouse=True)
async def vulnerability_database(services: Services) -> None:
    await import_testdata(services)


async def test_report_lists_every_expected_finding(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    report = (await report_of(client, REPO))[REPORT_MIME]
    assert finding_rows(report) == list(EXPECTED)


async def test_report_carries_scanner_severity_and_cvss(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    report = (await report_of(client, REPO))[REPORT_MIME]
    pyyaml = report["vulnerabilities"][0]
    assert (report["scanner"]["name"], report["scanner"]["vendor"], report["severity"]) == (
        "Portside", "Portside", "Critical")
    assert (pyyaml["preferred_cvss"]["score_v3"], pyyaml["preferred_cvss"]["vector_v3"], pyyaml["cwe_ids"],
            pyyaml["artifact_digests"]) == (9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ["CWE-20"],
                                            [pushed.digest])


async def test_vulnerabilities_addition_is_empty_before_any_scan(client: httpx.AsyncClient) -> None:
    await push_vulnerable(client, REPO)
    assert await report_of(client, REPO) == {}


async def test_native_mime_type_gets_the_same_report(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    body = await report_of(client, REPO, mime=NATIVE_MIME)
    assert list(body) == [NATIVE_MIME] and finding_rows(body[NATIVE_MIME]) == list(EXPECTED)


async def test_unknown_accepted_mime_type_gets_no_report(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    assert await report_of(client, REPO, mime="application/vnd.scanner.adapter.vuln.report.raw") == {}


async def test_overview_alias_has_the_guides_shape(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    body = await overview(client, REPO)
    assert body["vulnerabilities"] == {"critical": 1, "high": 1, "medium": 4, "low": 0, "unknown": 3,
                                       "total": 9, "fixable": 9}
    assert (body["scan_status"], body["severity"], body["scanner"]["name"]) == ("Success", "Critical", "Portside")


async def test_overview_alias_of_an_unscanned_artifact_is_404(client: httpx.AsyncClient) -> None:
    await push_vulnerable(client, REPO)
    response = await client.get(f"{artifact_url(REPO, '1.0')}/scan/overview")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_scan_of_an_unknown_artifact_is_404(client: httpx.AsyncClient) -> None:
    await push_vulnerable(client, REPO)
    response = await client.post(f"{artifact_url(REPO, 'missing')}/scan")
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_scan_of_a_non_image_is_400(client: httpx.AsyncClient) -> None:
    await push_image(client, REPO, "chart", config=b"{}", config_type="application/vnd.cncf.helm.config.v1+json")
    response = await client.post(f"{artifact_url(REPO, 'chart')}/scan")
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_sbom_scan_type_is_accepted_and_an_unknown_one_refused(client: httpx.AsyncClient) -> None:
    await push_vulnerable(client, REPO)
    sbom = await client.post(f"{artifact_url(REPO, '1.0')}/scan", json={"scan_type": "sbom"})
    unknown = await client.post(f"{artifact_url(REPO, '1.0')}/scan", json={"scan_type": "license"})
    assert sbom.status_code == 202
    assert unknown.status_code in (400, 422)


async def test_developer_may_trigger_a_scan(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_vulnerable(client, REPO)
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        response = await developer.post(f"{artifact_url(REPO, '1.0')}/scan")
    assert response.status_code == 202


async def test_guest_may_not_trigger_a_scan(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_vulnerable(client, REPO)
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.post(f"{artifact_url(REPO, '1.0')}/scan")
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_guest_may_read_the_report(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        report = (await report_of(guest, REPO))[REPORT_MIME]
    assert len(report["vulnerabilities"]) == 9


async def test_second_request_while_pending_reuses_the_scan(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    for _ in range(2):
        assert (await client.post(f"{artifact_url(REPO, '1.0')}/scan")).status_code == 202
    async with services.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(jobs))).scalar_one() == 1


async def test_stop_ends_a_pending_scan_stopped(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    assert (await client.post(f"{artifact_url(REPO, '1.0')}/scan")).status_code == 202
    response = await client.post(f"{artifact_url(REPO, '1.0')}/scan/stop", json={"scan_type": "vulnerability"})
    assert response.status_code == 202
    await run_jobs(services)
    assert await report_status(services, pushed.digest) == ("Stopped", "stopped by request")


async def test_stop_without_any_scan_is_400(client: httpx.AsyncClient) -> None:
    pushed = await push_vulnerable(client, REPO)
    response = await client.post(f"{artifact_url(REPO, '1.0')}/scan/stop")
    assert (response.status_code, error_of(response)["message"]) == (
        400, f"no scan job for artifact digest={pushed.digest}")


async def test_guest_may_not_stop_a_scan(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_vulnerable(client, REPO)
    await client.post(f"{artifact_url(REPO, '1.0')}/scan")
    async with await member_client(services, app, "astro", "guest", Role.GUEST) as guest:
        response = await guest.post(f"{artifact_url(REPO, '1.0')}/scan/stop")
    assert response.status_code == 403


async def test_scan_log_tells_what_was_scanned(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    report_id = (await overview(client, REPO))["report_id"]
    response = await client.get(f"{artifact_url(REPO, '1.0')}/scan/{report_id}/log")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert f"scanning {pushed.digest} (3 layers)" in response.text
    assert "9 vulnerabilities, 9 fixable; severity Critical" in response.text


async def test_log_of_another_artifacts_report_is_404(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, REPO)
    await push_clean(client, REPO, "clean")
    await scan(client, services, REPO)
    report_id = (await overview(client, REPO))["report_id"]
    response = await client.get(f"{artifact_url(REPO, 'clean')}/scan/{report_id}/log")
    assert response.status_code == 404


async def test_clean_image_has_an_empty_report(client: httpx.AsyncClient, services: Services) -> None:
    await push_clean(client, REPO)
    await scan(client, services, REPO)
    report = (await report_of(client, REPO))[REPORT_MIME]
    assert (report["severity"], report["vulnerabilities"]) == ("None", [])


async def test_truncated_layer_ends_the_scan_with_error(client: httpx.AsyncClient, services: Services) -> None:
    layers = [truncated(alpine_layer(nonce="corrupt"))]
    pushed = await push_layers(client, REPO, "broken", layers)
    started = time.monotonic()
    await scan(client, services, REPO, "broken")
    assert time.monotonic() - started < 10
    status, message = await report_status(services, pushed.digest)
    assert (status, message) == ("Error", f"layer {digest_of(layers[0])} cannot be analysed: truncated")


async def test_scan_on_push_when_auto_scan_is_on(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    await set_metadata(services, "astro", auto_scan="true")
    await announce_push(services, REPO, pushed.digest)
    await run_jobs(services)
    assert (await overview(client, REPO))["scan_status"] == "Success"


async def test_no_scan_on_push_when_auto_scan_is_off(client: httpx.AsyncClient, services: Services) -> None:
    pushed = await push_vulnerable(client, REPO)
    await announce_push(services, REPO, pushed.digest)
    await run_jobs(services)
    assert (await client.get(f"{artifact_url(REPO, '1.0')}/scan/overview")).status_code == 404


async def _push_index(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    children = [await push_vulnerable(client, REPO, None, nonce=arch, architecture=arch)
                for arch in ("amd64", "arm64")]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": child.digest, "size": len(child.content),
         "platform": {"architecture": arch, "os": "linux"}}
        for child, arch in zip(children, ("amd64", "arm64"), strict=True)]}
    content = json.dumps(index).encode()
    await put_manifest(client, REPO, "multi", content, OCI_INDEX)
    return digest_of(content), [child.digest for child in children]


async def test_index_report_merges_its_platform_images(client: httpx.AsyncClient, services: Services) -> None:
    _, children = await _push_index(client)
    await scan(client, services, REPO, "multi")
    report = (await report_of(client, REPO, "multi"))[REPORT_MIME]
    assert finding_rows(report) == list(EXPECTED)
    assert all(sorted(item["artifact_digests"]) == sorted(children) for item in report["vulnerabilities"])


async def test_index_scan_also_reports_each_platform_image(client: httpx.AsyncClient, services: Services) -> None:
    _, children = await _push_index(client)
    await scan(client, services, REPO, "multi")
    for child in children:
        assert await report_status(services, child) == ("Success", "")


async def test_index_overview_summarises_the_merged_report(client: httpx.AsyncClient, services: Services) -> None:
    await _push_index(client)
    await scan(client, services, REPO, "multi")
    body = await overview(client, REPO, "multi")
    assert (body["vulnerabilities"]["total"], body["vulnerabilities"]["critical"], body["severity"]) == (
        EXPECTED_SUMMARY["total"], 1, "Critical")


async def test_artifact_listing_shows_the_scan_overview_when_asked(client: httpx.AsyncClient,
                                                                   services: Services) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    project, repository = REPO.split("/", 1)
    listing = await client.get(f"/api/v2.0/projects/{project}/repositories/{repository}/artifacts",
                               params={"with_scan_overview": "true"})
    plain = await client.get(f"/api/v2.0/projects/{project}/repositories/{repository}/artifacts")
    [artifact] = listing.json()
    overview = artifact["scan_overview"][REPORT_MIME]
    assert overview["scan_status"] == "Success"
    assert overview["summary"] == EXPECTED_SUMMARY
    assert "scan_overview" not in plain.json()[0] or plain.json()[0]["scan_overview"] is None
