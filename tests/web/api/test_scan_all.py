"""Harbor's scan-all API (schedule, manual run, stop, metrics) and the system CVE allowlist."""

from __future__ import annotations

import httpx
import pytest
from artifacts_support import error_of, member_client
from starlette.types import ASGIApp

from portside.domain.rbac import Role
from portside.jobs.kinds import build_kinds
from portside.jobs.worker import Worker
from portside.services.bundle import Services
from scan_support import import_testdata, overview, push_clean, push_vulnerable, run_jobs

API = "/api/v2.0"
SCHEDULE = f"{API}/system/scanAll/schedule"


@pytest.fixture(autouse=True)
async def vulnerability_database(services: Services) -> None:
    await import_testdata(services)


async def _run_scan_all(client: httpx.AsyncClient) -> None:
    response = await client.post(SCHEDULE, json={"schedule": {"type": "Manual"}})
    assert response.status_code == 201, response.text


async def test_manual_scan_all_scans_every_artifact(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, "astro/one")
    await push_clean(client, "cosmo/two")
    await _run_scan_all(client)
    await run_jobs(services)
    assert [(await overview(client, repo))["severity"] for repo in ("astro/one", "cosmo/two")] == ["Critical", "None"]


async def test_metrics_count_the_latest_scan_all(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, "astro/one")
    await push_clean(client, "cosmo/two")
    await _run_scan_all(client)
    await run_jobs(services)
    response = await client.get(f"{API}/scans/all/metrics")
    assert response.json() == {"total": 2, "completed": 2, "metrics": {"Success": 2}, "ongoing": False,
                               "trigger": "Manual"}


async def test_metrics_while_running_show_pending_scans(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, "astro/one")
    await _run_scan_all(client)
    await run_jobs_of_kind(services, "scan_all")
    body = (await client.get(f"{API}/scans/all/metrics")).json()
    assert (body["total"], body["completed"], body["metrics"], body["ongoing"]) == (1, 0, {"Pending": 1}, True)


async def run_jobs_of_kind(services: Services, kind: str) -> None:
    """Run only the jobs of one kind (to look at a scan-all half way)."""
    await Worker(services, {kind: build_kinds()[kind]}).run_until_idle()


async def test_metrics_before_any_scan_all_are_zero(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/scans/all/metrics")
    assert response.json() == {"total": 0, "completed": 0, "metrics": {}, "ongoing": False}


async def test_second_manual_run_while_one_runs_is_409(client: httpx.AsyncClient) -> None:
    await _run_scan_all(client)
    response = await client.post(SCHEDULE, json={"schedule": {"type": "Manual"}})
    assert (response.status_code, error_of(response)["code"]) == (409, "CONFLICT")


async def test_stop_scan_all_stops_its_queued_scans(client: httpx.AsyncClient, services: Services) -> None:
    await push_vulnerable(client, "astro/one")
    await _run_scan_all(client)
    await run_jobs_of_kind(services, "scan_all")
    assert (await client.post(f"{API}/system/scanAll/stop")).status_code == 202
    await run_jobs(services)
    assert (await overview(client, "astro/one"))["scan_status"] == "Stopped"


async def test_stop_without_a_running_scan_all_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/system/scanAll/stop")
    assert response.status_code == 400


async def test_daily_schedule_is_shown_with_its_cron(client: httpx.AsyncClient) -> None:
    response = await client.put(SCHEDULE, json={"schedule": {"type": "Daily"}})
    assert response.status_code == 200
    shown = (await client.get(SCHEDULE)).json()["schedule"]
    assert (shown["type"], shown["cron"]) == ("Daily", "0 0 0 * * *")


async def test_custom_schedule_keeps_its_cron(client: httpx.AsyncClient) -> None:
    await client.put(SCHEDULE, json={"schedule": {"type": "Custom", "cron": "0 30 2 * * 1"}})
    shown = (await client.get(SCHEDULE)).json()["schedule"]
    assert (shown["type"], shown["cron"]) == ("Custom", "0 30 2 * * 1")


async def test_schedule_type_none_removes_the_schedule(client: httpx.AsyncClient) -> None:
    await client.put(SCHEDULE, json={"schedule": {"type": "Hourly"}})
    await client.put(SCHEDULE, json={"schedule": {"type": "None"}})
    assert (await client.get(SCHEDULE)).json() == {}


async def test_invalid_cron_is_400(client: httpx.AsyncClient) -> None:
    response = await client.put(SCHEDULE, json={"schedule": {"type": "Custom", "cron": "* * * * *"}})
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")


async def test_scan_all_is_for_administrators(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push_vulnerable(client, "astro/one")
    async with await member_client(services, app, "astro", "boss", Role.PROJECT_ADMIN) as project_admin:
        response = await project_admin.post(SCHEDULE, json={"schedule": {"type": "Manual"}})
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_system_allowlist_round_trip(client: httpx.AsyncClient) -> None:
    body = {"items": [{"cve_id": "CVE-2021-23337"}, {"cve_id": "CVE-2020-14343"}], "expires_at": 4_102_444_800}
    assert (await client.put(f"{API}/system/CVEAllowlist", json=body)).status_code == 200
    shown = (await client.get(f"{API}/system/CVEAllowlist")).json()
    assert (shown["items"], shown["expires_at"], shown["project_id"]) == (body["items"], 4_102_444_800, 0)


async def test_system_allowlist_is_readable_by_any_user(client: httpx.AsyncClient, services: Services,
                                                        app: ASGIApp) -> None:
    await client.put(f"{API}/system/CVEAllowlist", json={"items": [{"cve_id": "CVE-2021-23337"}]})
    await push_clean(client, "astro/one")
    async with await member_client(services, app, "astro", "someone", None) as user:
        shown = (await user.get(f"{API}/system/CVEAllowlist")).json()
    assert shown["items"] == [{"cve_id": "CVE-2021-23337"}]


async def test_system_allowlist_is_written_by_administrators_only(client: httpx.AsyncClient, services: Services,
                                                                  app: ASGIApp) -> None:
    await push_clean(client, "astro/one")
    async with await member_client(services, app, "astro", "boss", Role.PROJECT_ADMIN) as project_admin:
        response = await project_admin.put(f"{API}/system/CVEAllowlist", json={"items": []})
    assert response.status_code == 403


async def test_anonymous_may_not_read_the_system_allowlist(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get(f"{API}/system/CVEAllowlist")
    assert response.status_code == 401


async def test_duplicate_allowlist_ids_are_400(client: httpx.AsyncClient) -> None:
    body = {"items": [{"cve_id": "CVE-2021-23337"}, {"cve_id": "CVE-2021-23337"}]}
    response = await client.put(f"{API}/system/CVEAllowlist", json=body)
    assert (response.status_code, error_of(response)["code"]) == (400, "BAD_REQUEST")
