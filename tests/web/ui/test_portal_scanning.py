"""The portal's scanning and labels: the artifact page's scan button and status (only for those the
policy lets scan), the severity pictures of an artifact, a repository and a project (with their
table alternatives), and attaching and detaching labels.

Images come from tests/scan_images.py and are matched against the real advisories of
shared/testdata/osv; scans run with the background runtime's `run_until_idle`.
"""

from __future__ import annotations

import html
import re

import httpx
import pytest
from portal_support import API, create_project, insert_member, notice_after, page_token, signed_in, submit
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.services.bundle import Services
from scan_images import EXPECTED_SUMMARY, alpine_layer, truncated
from scan_support import (
    artifact_url,
    import_testdata,
    push_clean,
    push_layers,
    push_vulnerable,
    report_status,
    run_jobs,
)

ARTIFACT = "/harbor/projects/team/artifacts/app/1.0"
SCAN_ACTION = "/harbor/projects/team/scan/app/1.0"
SCAN_FORM = 'action="/harbor/projects/team/scan/app/sha256:'  # the page's forms name the artifact by digest
STOP_ACTION = "/harbor/projects/team/stop-scan/app/1.0"
ATTACH = "/harbor/projects/team/attach-label/app/1.0"
DETACH = "/harbor/projects/team/detach-label/app/1.0"
SUMMARY = "/harbor/projects/team"
SCAN_BUTTON = '<button type="submit" class="primary">Scan</button>'
STOP_BUTTON = '<button type="submit" class="danger">Stop scan</button>'
_TABLE_RE = r'<table class="list compact severity-table">\s*<caption>{caption}</caption>(.*?)</table>'
_ROW_RE = re.compile(r'<tr data-severity="(\w+)">.*?<td class="num">(\d+)</td></tr>', re.S)
_TOTAL_RE = re.compile(r'<tfoot><tr><th scope="row">Total</th><td class="num">(\d+)</td></tr></tfoot>')


@pytest.fixture
async def team(client: httpx.AsyncClient, services: Services) -> str:
    """A private project `team` with the vulnerable image team/app:1.0 (not scanned yet), the test
    advisories imported, a maintainer `keeper` (may also stop scans), a developer `dev` (may scan
    and label) and a guest `guest` (may do neither)."""
    await import_testdata(services)
    await create_project(client, "team")
    await push_vulnerable(client, "team/app")
    await insert_member(services, "keeper", "team", Role.MAINTAINER)
    await insert_member(services, "dev", "team", Role.DEVELOPER)
    await insert_member(services, "guest", "team", Role.GUEST)
    return "team"


def severity_table(page: str, caption: str) -> tuple[dict[str, int], int]:
    """({severity: count}, total) of the page's severity table with `caption`."""
    found = re.search(_TABLE_RE.format(caption=re.escape(caption)), page, re.S)
    assert found, f"no severity table {caption!r} on the page"
    total = _TOTAL_RE.search(found.group(1))
    assert total, "the table has no total"
    return {name: int(count) for name, count in _ROW_RE.findall(found.group(1))}, int(total.group(1))


async def scan_status(client: httpx.AsyncClient, reference: str = "1.0") -> tuple[int, str | None]:
    response = await client.get(f"{artifact_url('team/app', reference)}/scan/overview")
    return response.status_code, response.json().get("scan_status") if response.status_code == 200 else None


async def labels_of(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(artifact_url("team/app", "1.0"), params={"with_label": "true"})
    assert response.status_code == 200, response.text
    return [label["name"] for label in response.json().get("labels") or []]


async def create_label(client: httpx.AsyncClient, name: str, project_id: int | None = None) -> int:
    body = {"name": name, "description": f"about {name}", "color": "#0b5cad",
            "scope": "p" if project_id else "g", **({"project_id": project_id} if project_id else {})}
    response = await client.post(f"{API}/labels", json=body)
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def team_id(client: httpx.AsyncClient) -> int:
    return int((await client.get(f"{API}/projects/team")).json()["project_id"])


# --- scanning ---------------------------------------------------------------------------------------


async def test_a_developer_sees_the_scan_button_and_a_guest_does_not(app: ASGIApp, team: str) -> None:
    async with signed_in(app, "dev") as developer:
        developer_page = (await developer.get(ARTIFACT)).text
    async with signed_in(app, "guest") as guest:
        guest_page = (await guest.get(ARTIFACT)).text
    assert SCAN_BUTTON in developer_page and SCAN_FORM in developer_page
    assert "Not scanned." in guest_page
    assert SCAN_BUTTON not in guest_page and SCAN_FORM not in guest_page


async def test_a_guests_scan_post_is_refused(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    async with signed_in(app, "guest") as guest:
        response = await submit(guest, ARTIFACT, SCAN_ACTION, {})
        notice = await notice_after(guest, response)
    assert response.headers["location"] == ARTIFACT
    assert "denied" in notice.lower()
    assert await scan_status(client) == (404, None)


async def test_a_scan_post_without_the_csrf_token_is_refused(app: ASGIApp, client: httpx.AsyncClient,
                                                             team: str) -> None:
    async with signed_in(app, "dev") as developer:
        response = await developer.post(SCAN_ACTION, data={"back": ARTIFACT})
    assert response.status_code == 403
    assert await scan_status(client) == (404, None)


async def test_scanning_from_the_page_shows_progress_then_the_severity_chart(app: ASGIApp, client: httpx.AsyncClient,
                                                                             services: Services, team: str) -> None:
    async with signed_in(app, "dev") as developer:
        response = await submit(developer, ARTIFACT, SCAN_ACTION, {})
        assert await notice_after(developer, response) == "Scan requested."
        pending = (await developer.get(ARTIFACT)).text
        await run_jobs(services)
        finished = (await developer.get(ARTIFACT)).text
    assert '<span class="status status-pending" data-status>Pending</span>' in pending
    assert 'data-overview-url="/api/v2.0/projects/team/repositories/app/artifacts/sha256:' in pending
    assert STOP_BUTTON not in pending and SCAN_BUTTON not in pending  # a developer may not stop scans
    assert '<span class="status status-success" data-status>Success</span>' in finished
    assert 'highest severity <strong class="severity-name">Critical</strong>' in finished
    assert "data-overview-url" not in finished
    counts, total = severity_table(finished, "Vulnerabilities by severity")
    assert (counts, total) == (EXPECTED_SUMMARY["summary"], EXPECTED_SUMMARY["total"])
    assert 'aria-label="Vulnerabilities of this artifact: 9 vulnerabilities: 1 Critical, 1 High, 4 Medium, ' \
           '3 Unknown"' in finished
    report_url = re.search(r'data-report-url="([^"]+)"', finished)
    assert report_url, "no vulnerability report on the page"
    assert report_url.group(1).endswith("/additions/vulnerabilities")
    # portal.js loads that URL with the session cookie: it answers the report.
    async with signed_in(app, "dev") as developer:
        report = await developer.get(html.unescape(report_url.group(1)))
    assert report.status_code == 200
    assert len(next(iter(report.json().values()))["vulnerabilities"]) == EXPECTED_SUMMARY["total"]


async def test_the_stop_button_stops_a_pending_scan(app: ASGIApp, client: httpx.AsyncClient, services: Services,
                                                    team: str) -> None:
    async with signed_in(app, "keeper") as maintainer:
        await submit(maintainer, ARTIFACT, SCAN_ACTION, {})
        assert STOP_BUTTON in (await maintainer.get(ARTIFACT)).text
        response = await submit(maintainer, ARTIFACT, STOP_ACTION, {})
        assert await notice_after(maintainer, response) == "Scan stopped."
        page = (await maintainer.get(ARTIFACT)).text
    assert await scan_status(client) == (200, "Stopped")
    assert '<span class="status status-stopped" data-status>Stopped</span>' in page
    assert '<button type="submit" class="primary">Scan again</button>' in page


async def test_a_failed_scan_shows_its_error_message(app: ASGIApp, client: httpx.AsyncClient, services: Services,
                                                     team: str) -> None:
    pushed = await push_layers(client, "team/app", "broken", [truncated(alpine_layer(nonce="broken"))])
    page_path = "/harbor/projects/team/artifacts/app/broken"
    async with signed_in(app, "dev") as developer:
        await submit(developer, page_path, "/harbor/projects/team/scan/app/broken", {})
        await run_jobs(services)
        page = (await developer.get(page_path)).text
    status, message = await report_status(services, pushed.digest)
    assert status == "Error" and message
    assert '<span class="status status-error" data-status>Error</span>' in page
    assert f'<p class="scan-error" role="alert">The scan failed: {html.escape(message)}</p>' in page


async def test_the_api_scan_route_takes_the_session_with_the_csrf_header(app: ASGIApp, client: httpx.AsyncClient,
                                                                         team: str) -> None:
    """What a script on the page would do: POST the API's scan route with the session cookie."""
    async with signed_in(app, "dev") as developer:
        token = await page_token(developer, ARTIFACT)
        without = await developer.post(f"{artifact_url('team/app', '1.0')}/scan")
        assert await scan_status(client) == (404, None)
        with_header = await developer.post(f"{artifact_url('team/app', '1.0')}/scan",
                                           headers={"X-Harbor-CSRF-Token": token})
    assert (without.status_code, without.json()["errors"][0]["message"]) == (403, "CSRF token invalid")
    assert with_header.status_code == 202
    assert await scan_status(client) == (200, "Pending")


async def test_the_repository_view_shows_each_artifacts_scan(app: ASGIApp, client: httpx.AsyncClient,
                                                            services: Services, team: str) -> None:
    await push_clean(client, "team/app", "clean")
    for reference in ("1.0", "clean"):
        assert (await client.post(f"{artifact_url('team/app', reference)}/scan")).status_code == 202
    await run_jobs(services)
    await push_layers(client, "team/app", "new", [alpine_layer(nonce="new")])
    async with signed_in(app, "guest") as guest:
        page = (await guest.get("/harbor/projects/team/repositories/app")).text
    assert '<th scope="col">Vulnerabilities</th>' in page
    assert ('<span class="status status-success">Success</span> <strong class="severity-name">Critical</strong>'
            '<div class="severity compact" role="img" aria-label="Vulnerabilities: 9 vulnerabilities: 1 Critical, '
            '1 High, 4 Medium, 3 Unknown"') in page
    assert '<span class="status status-success">Success</span> <strong class="severity-name">None</strong>' in page
    assert '<span class="muted small">no vulnerabilities</span>' in page
    assert '<span class="muted">Not scanned</span>' in page


async def test_the_summary_shows_the_projects_severity_distribution(app: ASGIApp, client: httpx.AsyncClient,
                                                                   services: Services, team: str) -> None:
    await push_vulnerable(client, "team/app", "2.0", nonce="second")
    await push_clean(client, "team/app", "clean")
    await push_layers(client, "team/other", "never", [alpine_layer(nonce="never")])
    async with signed_in(app, "dev") as developer:
        for reference in ("1.0", "2.0", "clean"):
            page = f"/harbor/projects/team/artifacts/app/{reference}"
            await submit(developer, page, f"/harbor/projects/team/scan/app/{reference}", {})
        await run_jobs(services)
        summary = (await developer.get(SUMMARY)).text
    assert "3 of 4 artifacts scanned, 1 never scanned." in summary
    assert severity_table(summary, "Scanned artifacts by their highest severity") == (
        {"Critical": 2, "High": 0, "Medium": 0, "Low": 0, "Unknown": 0, "None": 1}, 3)
    doubled = {name: 2 * count for name, count in EXPECTED_SUMMARY["summary"].items()}
    assert severity_table(summary, "Vulnerabilities in all scanned artifacts") == (doubled, 18)
    assert 'aria-label="Artifacts by highest severity: 3 scanned artifacts: 2 Critical, 1 no vulnerabilities"' \
        in summary


async def test_the_summary_of_a_project_without_scans_says_so(app: ASGIApp, team: str) -> None:
    async with signed_in(app, "guest") as guest:
        summary = (await guest.get(SUMMARY)).text
    assert "0 of 1 artifacts scanned, 1 never scanned." in summary
    assert "severity-table" not in summary


# --- labels -----------------------------------------------------------------------------------------


async def test_a_developer_attaches_and_detaches_project_and_global_labels(app: ASGIApp, client: httpx.AsyncClient,
                                                                          team: str) -> None:
    shared = await create_label(client, "reviewed")
    own = await create_label(client, "team-approved", await team_id(client))
    async with signed_in(app, "dev") as developer:
        page = (await developer.get(ARTIFACT)).text
        assert f'<optgroup label="Project labels"><option value="{own}">team-approved</option></optgroup>' in page
        assert f'<optgroup label="Global labels"><option value="{shared}">reviewed</option></optgroup>' in page
        for label_id in (own, shared):
            response = await submit(developer, ARTIFACT, ATTACH, {"label_id": str(label_id)})
            assert await notice_after(developer, response) == "Label added."
        assert sorted(await labels_of(client)) == ["reviewed", "team-approved"]
        page = (await developer.get(ARTIFACT)).text
        assert 'aria-label="Remove label reviewed"' in page and "<optgroup" not in page
        response = await submit(developer, ARTIFACT, DETACH, {"label_id": str(shared)})
        assert await notice_after(developer, response) == "Label removed."
    assert await labels_of(client) == ["team-approved"]


async def test_a_guest_can_neither_attach_nor_detach_labels(app: ASGIApp, client: httpx.AsyncClient,
                                                            team: str) -> None:
    attached = await create_label(client, "attached")
    other = await create_label(client, "other")
    response = await client.post(f"{artifact_url('team/app', '1.0')}/labels", json={"id": attached})
    assert response.status_code == 200, response.text
    async with signed_in(app, "guest") as guest:
        page = (await guest.get(ARTIFACT)).text
        assert ATTACH not in page and DETACH not in page and ">attached<" in page
        attach = await submit(guest, ARTIFACT, ATTACH, {"label_id": str(other)})
        assert "denied" in (await notice_after(guest, attach)).lower()
        detach = await submit(guest, ARTIFACT, DETACH, {"label_id": str(attached)})
        assert "denied" in (await notice_after(guest, detach)).lower()
    assert await labels_of(client) == ["attached"]


async def test_a_bad_label_id_is_a_notice_not_an_error_page(app: ASGIApp, team: str) -> None:
    async with signed_in(app, "dev") as developer:
        for value in ("", "x", "99999999999", "12345"):
            response = await submit(developer, ARTIFACT, ATTACH, {"label_id": value})
            notice = await notice_after(developer, response)
            assert notice == "choose a label" if value != "12345" else "not found" in notice, (value, notice)


async def test_a_label_name_with_markup_is_escaped(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    evil = await create_label(client, "<script>alert(1)</script>")
    async with signed_in(app, "dev") as developer:
        offered = (await developer.get(ARTIFACT)).text
        await submit(developer, ARTIFACT, ATTACH, {"label_id": str(evil)})
        attached = (await developer.get(ARTIFACT)).text
        listed = (await developer.get("/harbor/projects/team/repositories/app")).text
    for page in (offered, attached, listed):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
