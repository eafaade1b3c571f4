"""The system administrator's portal pages: global labels, scanners and the vulnerability
database. Administrators use each one; other users get 403 pages and their posts change
nothing (checked through the API); anonymous visitors are sent to sign in; posts need the
CSRF token; user content is escaped. External scanners are adapter_support's fake adapter
over real HTTP on 127.0.0.1; the vulnerability database holds real advisories of
shared/testdata/osv."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from portal_support import API, CSRF_ERROR, browser, insert_member, notice_after, page_token, signed_in, submit
from starlette.types import ASGIApp

from adapter_support import FakeAdapter, serving
from fixture_values import ADMIN_PASSWORD
from portside.core.clock import utcnow
from portside.services.bundle import Services
from portside.services.vulndb import VulnerabilityDatabase
from portside.store import vulndb as vulndb_store

LABELS = "/harbor/admin/labels"
SCANNERS = "/harbor/admin/scanners"
VULNDB = "/harbor/admin/vulnerability-database"
ADMIN_PAGES = (LABELS, SCANNERS, VULNDB)
BUILTIN_UUID = "portside-builtin-scanner"
TESTDATA = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "osv"
#: Real OSV records: two PyPI advisories, one npm, one Go.
OSV_FILES = ("PYSEC-2021-142.json", "PYSEC-2021-66.json", "GHSA-35jh-r3h4-6jhm.json", "GO-2022-0969.json")


@pytest.fixture
async def admin(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as portal:
        yield portal


@pytest.fixture
async def adapter_url() -> AsyncIterator[str]:
    async with serving(FakeAdapter().app) as url:
        yield url


async def global_labels(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get(f"{API}/labels", params={"scope": "g", "page_size": 100})
    assert response.status_code == 200, response.text
    return {label["name"]: label for label in response.json()}


async def create_label(client: httpx.AsyncClient, name: str, color: str = "#1D6B38", description: str = "") -> int:
    response = await client.post(f"{API}/labels", json={"name": name, "color": color, "description": description,
                                                        "scope": "g"})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def scanners(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get(f"{API}/scanners")
    assert response.status_code == 200, response.text
    return {scanner["name"]: scanner for scanner in response.json()}


async def register(client: httpx.AsyncClient, url: str, name: str = "fake") -> str:
    response = await client.post(f"{API}/scanners", json={"name": name, "url": url})
    assert response.status_code == 201, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


def row_of(html: str, text: str) -> str:
    """The table row of the page that contains `text`."""
    rows = [row for row in re.findall(r"<tr>.*?</tr>", html, re.S) if text in row]
    assert len(rows) == 1, f"{len(rows)} rows contain {text!r}"
    return rows[0]


# --- navigation and who may see the pages --------------------------------------------------------


async def test_the_administration_navigation_shows_only_to_system_admins(app: ASGIApp, admin: httpx.AsyncClient,
                                                                         services: Services) -> None:
    page = await admin.get("/harbor/projects")
    for path in (*ADMIN_PAGES, "/harbor/admin/users", "/harbor/admin/logs"):
        assert f'<a href="{path}">' in page.text
    assert 'aria-labelledby="nav-admin"' in page.text
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        other = await portal.get("/harbor/projects")
    assert other.status_code == 200
    assert "Administration" not in other.text
    assert not any(path in other.text for path in ADMIN_PAGES)


async def test_other_users_get_403_pages(app: ASGIApp, services: Services) -> None:
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        for path in (*ADMIN_PAGES, f"{LABELS}?edit=1", f"{SCANNERS}?check={BUILTIN_UUID}"):
            page = await portal.get(path)
            assert page.status_code == 403, path
            assert "Not allowed" in page.text


async def test_anonymous_visitors_are_sent_to_sign_in(app: ASGIApp) -> None:
    async with browser(app) as portal:
        for path in ADMIN_PAGES:
            page = await portal.get(path)
            assert page.status_code == 303, path
            assert page.headers["location"].startswith("/harbor/sign-in?next=%2Fharbor%2Fadmin%2F")


async def test_other_users_posts_change_nothing(app: ASGIApp, client: httpx.AsyncClient, services: Services,
                                                adapter_url: str) -> None:
    label_id = await create_label(client, "kept", description="as it was")
    registration = await register(client, adapter_url)
    await insert_member(services, "alice")
    async with signed_in(app, "alice") as portal:
        token = await page_token(portal, "/harbor/projects")
        posts = {
            LABELS: {"name": "sneaky"},
            f"{LABELS}/{label_id}": {"name": "renamed", "description": "changed"},
            f"{LABELS}/{label_id}/delete": {},
            SCANNERS: {"name": "evil", "url": "http://127.0.0.1:9/"},
            f"{SCANNERS}/{registration}/default": {},
            f"{SCANNERS}/{registration}/enabled": {"enabled": "false"},
            f"{SCANNERS}/{registration}/delete": {},
            f"{VULNDB}/scan-all": {},
            f"{VULNDB}/scan-all-schedule": {"schedule_type": "Hourly"},
        }
        for path, fields in posts.items():
            response = await portal.post(path, data={"csrf_token": token, "back": "/harbor/projects", **fields})
            assert response.status_code == 303, path
            assert await notice_after(portal, response) == "requested access to the resource is denied", path
    labels = await global_labels(client)
    assert set(labels) == {"kept"}
    assert labels["kept"]["description"] == "as it was"
    listed = await scanners(client)
    assert set(listed) == {"Portside", "fake"}
    assert (listed["fake"]["is_default"], listed["fake"]["disabled"]) == (False, False)
    assert (await client.get(f"{API}/system/scanAll/schedule")).json() == {}
    assert (await client.get(f"{API}/scans/all/metrics")).json()["total"] == 0


async def test_anonymous_posts_are_sent_to_sign_in_and_change_nothing(app: ASGIApp, client: httpx.AsyncClient) -> None:
    async with browser(app) as portal:
        token = await page_token(portal, "/harbor/sign-in")
        response = await portal.post(LABELS, data={"csrf_token": token, "name": "anonymous"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/harbor/sign-in?next=")
    assert await global_labels(client) == {}


async def test_posts_without_the_csrf_token_are_refused(admin: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    label_id = await create_label(client, "kept")
    for path, fields in ((LABELS, {"name": "forged"}), (f"{LABELS}/{label_id}/delete", {}),
                         (f"{SCANNERS}/{BUILTIN_UUID}/default", {}), (f"{VULNDB}/scan-all", {})):
        response = await admin.post(path, data=fields)
        assert response.status_code == 403, path
        assert response.json() == CSRF_ERROR
        forged = await admin.post(path, data={"csrf_token": "0" * 64, **fields})
        assert forged.status_code == 403, path
    assert set(await global_labels(client)) == {"kept"}
    assert (await client.get(f"{API}/scans/all/metrics")).json()["total"] == 0


# --- labels --------------------------------------------------------------------------------------


async def test_an_admin_creates_edits_and_deletes_a_label(admin: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    response = await submit(admin, LABELS, LABELS, {"name": "reviewed", "color": "#0B5CAD",
                                                    "description": "checked by a human"})
    assert await notice_after(admin, response) == "Label reviewed created."
    created = (await global_labels(client))["reviewed"]
    assert (created["color"], created["description"], created["scope"]) == ("#0B5CAD", "checked by a human", "g")

    page = await admin.get(LABELS)
    row = row_of(page.text, "reviewed")
    assert 'style="background: #0B5CAD"' in row
    assert "checked by a human" in row
    edit_form = await admin.get(f"{LABELS}?edit={created['id']}")
    assert 'value="reviewed"' in edit_form.text
    assert f'action="{LABELS}/{created["id"]}"' in edit_form.text

    response = await submit(admin, f"{LABELS}?edit={created['id']}", f"{LABELS}/{created['id']}",
                            {"name": "approved", "color": "#1D6B38", "description": "signed off"})
    assert await notice_after(admin, response) == "Label approved saved."
    changed = await global_labels(client)
    assert set(changed) == {"approved"}
    assert (changed["approved"]["color"], changed["approved"]["description"]) == ("#1D6B38", "signed off")

    response = await submit(admin, LABELS, f"{LABELS}/{created['id']}/delete", {})
    assert await notice_after(admin, response) == "Label approved deleted."
    assert await global_labels(client) == {}


async def test_label_errors_come_back_as_notices(admin: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await create_label(client, "taken")
    response = await submit(admin, LABELS, LABELS, {"name": "taken"})
    assert await notice_after(admin, response) == "label taken already exists"
    response = await submit(admin, LABELS, LABELS, {"name": "x" * 200})
    assert "longer than 128" in await notice_after(admin, response)
    response = await submit(admin, LABELS, f"{LABELS}/99999999999/delete", {})
    assert "not found" in await notice_after(admin, response)
    assert (await admin.get(f"{LABELS}?edit=12345")).status_code == 404
    assert set(await global_labels(client)) == {"taken"}


async def test_the_labels_are_searched_and_paginated_on_the_server(admin: httpx.AsyncClient,
                                                                   client: httpx.AsyncClient) -> None:
    for number in range(25):
        await create_label(client, f"team-{number:02d}")
    await create_label(client, "other")
    first = await admin.get(LABELS)
    second = await admin.get(f"{LABELS}?page=2")
    assert "Page 1 of 2 · 26 in all" in first.text
    assert first.text.count('<span class="label"') == 20
    assert second.text.count('<span class="label"') == 6
    found = await admin.get(f"{LABELS}?name=team-1")
    assert found.text.count('<span class="label"') == 10
    assert "other" not in found.text.split("<tbody>")[1]


async def test_label_content_is_escaped(admin: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    label_id = await create_label(client, "<script>alert(1)</script>", color='red;x:url("//e")',
                                  description="<img src=x onerror=alert(2)>")
    page = await admin.get(LABELS)
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert "url(" not in "".join(re.findall(r'style="[^"]*"', page.text))  # a non-hex colour shows grey
    edit = await admin.get(f"{LABELS}?edit={label_id}")
    assert "<script>alert(1)" not in edit.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in edit.text


# --- scanners ------------------------------------------------------------------------------------


async def test_an_admin_registers_checks_defaults_and_deletes_a_scanner(admin: httpx.AsyncClient,
                                                                        client: httpx.AsyncClient,
                                                                        adapter_url: str) -> None:
    response = await submit(admin, SCANNERS, SCANNERS, {
        "name": "fake", "url": adapter_url, "description": "the test adapter", "auth": "Bearer",
        "access_credential": "t0ken-never-shown", "test": "true"})
    assert await notice_after(admin, response) == "Scanner fake registered."
    fake = (await scanners(client))["fake"]
    assert (fake["url"], fake["auth"], fake["is_default"], fake["disabled"]) == (adapter_url, "Bearer", False, False)

    page = await admin.get(SCANNERS)
    row = row_of(page.text, adapter_url)
    assert "the test adapter" in row and "Bearer" in row
    assert "t0ken-never-shown" not in page.text
    checked = await admin.get(f"{SCANNERS}?check={fake['uuid']}")
    assert "healthy" in row_of(checked.text, adapter_url)
    assert "Fake 1.0" in row_of(checked.text, adapter_url)

    response = await submit(admin, SCANNERS, f"{SCANNERS}/{fake['uuid']}/default", {})
    assert await notice_after(admin, response) == "Default scanner changed."
    listed = await scanners(client)
    assert (listed["fake"]["is_default"], listed["Portside"]["is_default"]) == (True, False)

    response = await submit(admin, SCANNERS, f"{SCANNERS}/{fake['uuid']}/delete", {})
    assert await notice_after(admin, response) == "Scanner fake deleted."
    listed = await scanners(client)
    assert set(listed) == {"Portside"}
    assert listed["Portside"]["is_default"] is True


async def test_a_scanner_is_disabled_and_enabled_keeping_its_credential(admin: httpx.AsyncClient,
                                                                        client: httpx.AsyncClient,
                                                                        services: Services) -> None:
    async with serving(FakeAdapter(expected_headers={"authorization": "Bearer s3cret"}).app) as url:
        response = await submit(admin, SCANNERS, SCANNERS, {"name": "guarded", "url": url, "auth": "Bearer",
                                                            "access_credential": "s3cret", "test": "true"})
        assert await notice_after(admin, response) == "Scanner guarded registered."
        uuid = (await scanners(client))["guarded"]["uuid"]
        response = await submit(admin, SCANNERS, f"{SCANNERS}/{uuid}/enabled", {"enabled": "false"})
        assert await notice_after(admin, response) == "Scanner guarded disabled."
        assert (await scanners(client))["guarded"]["disabled"] is True
        assert "Enable guarded" in (await admin.get(SCANNERS)).text
        response = await submit(admin, SCANNERS, f"{SCANNERS}/{uuid}/default", {})
        assert "disabled and can not be the default" in await notice_after(admin, response)
        response = await submit(admin, SCANNERS, f"{SCANNERS}/{uuid}/enabled", {"enabled": "true"})
        assert await notice_after(admin, response) == "Scanner guarded enabled."
        assert (await scanners(client))["guarded"]["disabled"] is False
        # the stored credential survived the two updates: the adapter still accepts us
        probed = await client.get(f"{API}/scanners/{uuid}")
        assert probed.json()["health"] == "healthy"


async def test_registering_an_unreachable_or_bad_scanner_explains_why(admin: httpx.AsyncClient,
                                                                      client: httpx.AsyncClient) -> None:
    response = await submit(admin, SCANNERS, SCANNERS, {"name": "gone", "url": "http://127.0.0.1:9", "test": "true"})
    assert "failed to ping the scanner adapter" in await notice_after(admin, response)
    response = await submit(admin, SCANNERS, SCANNERS, {"name": "bad", "url": "ftp://example.org"})
    assert "is not an http(s) URL" in await notice_after(admin, response)
    response = await submit(admin, SCANNERS, SCANNERS, {"name": "nocred", "url": "http://127.0.0.1:9",
                                                        "auth": "Basic"})
    assert "needs an access_credential" in await notice_after(admin, response)
    response = await submit(admin, SCANNERS, f"{SCANNERS}/{BUILTIN_UUID}/delete", {})
    assert "immutable" in await notice_after(admin, response)
    assert set(await scanners(client)) == {"Portside"}


async def test_scanner_names_are_escaped(admin: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/scanners", json={"name": "<script>alert(1)</script>",
                                                          "url": "http://127.0.0.1:9/x", "description": "<b>d</b>"})
    assert response.status_code == 201, response.text
    page = await admin.get(SCANNERS)
    assert "<script>alert(1)" not in page.text and "<b>d</b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


# --- the vulnerability database ------------------------------------------------------------------


async def test_the_database_page_counts_advisories_per_ecosystem(admin: httpx.AsyncClient, services: Services,
                                                                 tmp_path: Path) -> None:
    empty = await admin.get(VULNDB)
    assert "The database is empty" in empty.text
    source = tmp_path / "osv"
    source.mkdir()
    for name in OSV_FILES:
        shutil.copy(TESTDATA / name, source / name)
    result = await VulnerabilityDatabase(services.db).import_path(source)
    assert result.imported == len(OSV_FILES)

    page = await admin.get(VULNDB)
    assert page.status_code == 200
    assert "<strong>4</strong> advisories in all, last imported" in page.text
    counts = dict(re.findall(r'<tr><td>([^<]+)</td><td class="num">(\d+)</td>', page.text))
    assert counts == {"PyPI": "2", "npm": "1", "Go": "1"}
    assert "Last finished import" in page.text
    assert "4 imported, 0 unchanged, 0 skipped" in page.text
    assert str(source) in page.text
    assert "Running" not in page.text and "Last failed import" not in page.text


async def test_the_database_page_shows_running_and_failed_imports(admin: httpx.AsyncClient,
                                                                  services: Services) -> None:
    started = utcnow()
    async with services.db.write() as conn:
        stale = await vulndb_store.start_import(conn, "/data/killed-long-ago", started - timedelta(days=2))
        failed = await vulndb_store.start_import(conn, "/data/broken.zip", started - timedelta(hours=1))
        await vulndb_store.finish_import(conn, failed, status="Error", imported=3, unchanged=0, skipped=1,
                                         errors=[{"file": "/data/broken.zip:x.json", "error": "<not JSON>"}],
                                         finished_at=started - timedelta(minutes=59))
        await vulndb_store.start_import(conn, "/data/osv-now", started)
    assert stale < failed
    page = await admin.get(VULNDB)
    assert '<span class="status status-running">Running</span>' in page.text
    assert "/data/osv-now" in page.text
    assert "/data/killed-long-ago" not in page.text  # older than a finished run: not running any more
    assert "Last failed import" in page.text and "/data/broken.zip" in page.text
    assert "1 file not imported" in page.text
    assert "&lt;not JSON&gt;" in page.text
    runs = await VulnerabilityDatabase(services.db).import_runs()
    assert runs.last_success is None
    assert runs.last_error is not None and runs.last_error.id == failed


async def test_scan_all_is_started_and_scheduled_from_the_database_page(admin: httpx.AsyncClient,
                                                                        client: httpx.AsyncClient) -> None:
    page = await admin.get(VULNDB)
    assert "Scan all now" in page.text and "none yet" in page.text
    response = await submit(admin, VULNDB, f"{VULNDB}/scan-all", {})
    assert await notice_after(admin, response) == "Scan all started: every artifact is queued for scanning."
    metrics = (await client.get(f"{API}/scans/all/metrics")).json()
    assert (metrics["ongoing"], metrics["trigger"]) == (True, "Manual")
    running = await admin.get(VULNDB)
    assert "Manual, running" in running.text
    response = await submit(admin, VULNDB, f"{VULNDB}/scan-all", {})
    assert await notice_after(admin, response) == "a scan all job is already running"

    response = await submit(admin, VULNDB, f"{VULNDB}/scan-all-schedule", {"schedule_type": "Daily"})
    assert await notice_after(admin, response) == "Scan all scheduled: Daily."
    schedule = (await client.get(f"{API}/system/scanAll/schedule")).json()
    assert schedule["schedule"]["type"] == "Daily"
    response = await submit(admin, VULNDB, f"{VULNDB}/scan-all-schedule", {"schedule_type": "Custom"})
    assert "needs a cron expression" in await notice_after(admin, response)
    response = await submit(admin, VULNDB, f"{VULNDB}/scan-all-schedule", {"schedule_type": "Custom",
                                                                          "cron": "not a cron"})
    assert response.status_code == 303
    assert (await client.get(f"{API}/system/scanAll/schedule")).json()["schedule"]["type"] == "Daily"
    response = await submit(admin, VULNDB, f"{VULNDB}/scan-all-schedule", {"schedule_type": "Yearly"})
    assert "choose a schedule" in await notice_after(admin, response)
    response = await submit(admin, VULNDB, f"{VULNDB}/scan-all-schedule", {"schedule_type": "None"})
    assert await notice_after(admin, response) == "Scan all schedule removed."
    assert (await client.get(f"{API}/system/scanAll/schedule")).json() == {}


async def test_the_global_label_page_leaves_project_labels_alone(admin: httpx.AsyncClient,
                                                                client: httpx.AsyncClient) -> None:
    assert (await client.post(f"{API}/projects", json={"project_name": "team"})).status_code == 201
    project_id = (await client.get(f"{API}/projects/team")).json()["project_id"]
    created = await client.post(f"{API}/labels", json={"name": "team-only", "scope": "p", "project_id": project_id})
    assert created.status_code == 201, created.text
    label_id = int(created.headers["location"].rsplit("/", 1)[1])
    deleted = await submit(admin, LABELS, f"{LABELS}/{label_id}/delete", {})
    assert f"global label {label_id} not found" in await notice_after(admin, deleted)
    edited = await submit(admin, LABELS, f"{LABELS}/{label_id}", {"name": "renamed", "color": "#000000"})
    assert "not found" in await notice_after(admin, edited)
    assert (await client.get(f"{API}/labels/{label_id}")).json()["name"] == "team-only"


async def test_a_running_import_older_than_a_finished_one_is_shown_as_dead(admin: httpx.AsyncClient,
                                                                          services: Services) -> None:
    started = utcnow()
    async with services.db.write() as conn:
        await vulndb_store.start_import(conn, "/data/killed-long-ago", started - timedelta(days=2))
        done = await vulndb_store.start_import(conn, "/data/osv-ok", started - timedelta(hours=1))
        await vulndb_store.finish_import(conn, done, status="Success", imported=1, unchanged=0, skipped=0,
                                         errors=[], finished_at=started - timedelta(minutes=59))
    assert (await VulnerabilityDatabase(services.db).import_runs()).running is None
    page = await admin.get(VULNDB)
    assert "status-running" not in page.text and "/data/killed-long-ago" not in page.text
    assert "/data/osv-ok" in page.text
