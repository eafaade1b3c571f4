"""CVE export through the HTTP API in process: images are pushed through /v2, scanned by the
built-in scanner (the scan API and its jobs), exported by the `cve_export` job and downloaded."""

from __future__ import annotations

import csv
import io

import httpx
from projects_support import Accounts, add_member, error_of
from starlette.types import ASGIApp

from image_push import push
from portside.jobs.handlers import cve_export
from portside.jobs.worker import Worker
from portside.services.bundle import Services
from portside.store import repositories as repository_store
from scan_images import EXPECTED, clean_layers, vulnerable_layers
from scan_support import import_testdata, run_jobs

API = "/api/v2.0"
HEADER = ["Project", "Repository", "Artifact Digest", "Tag", "CVE", "Package", "Version", "Fix Version", "Severity",
          "CVSS3 Score"]


async def scanned(client: httpx.AsyncClient, services: Services, repository: str, tag: str = "1.0",
                  vulnerable: bool = True) -> str:
    """Push an image, scan it through the API and run the scan; its digest."""
    digest = await push(client, vulnerable_layers() if vulnerable else clean_layers(), repository, tag)
    project, _, name = repository.partition("/")
    response = await client.post(f"{API}/projects/{project}/repositories/{name}/artifacts/{tag}/scan")
    assert response.status_code == 202, response.text
    await run_jobs(services)
    return digest


async def project_id(services: Services, name: str = "proj") -> int:
    async with services.db.read() as conn:
        found = await repository_store.find_project(conn, name)
    assert found is not None
    return found.id


async def export(client: httpx.AsyncClient, services: Services, **criteria: object) -> int:
    """Ask for an export of `criteria` and run its job; the execution id."""
    response = await client.post(f"{API}/export/cve", json=criteria, headers={
        "X-Scan-Data-Type": "application/vnd.security.vulnerability.report; version=1.1"})
    assert response.status_code == 200, response.text
    await Worker(services, {kind.name: kind for kind in cve_export.KINDS}).run_until_idle()
    return int(response.json()["id"])


async def download(client: httpx.AsyncClient, execution_id: int) -> list[list[str]]:
    response = await client.get(f"{API}/export/cve/download/{execution_id}", params={"format": "CSV"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


async def test_the_export_lists_every_vulnerability_of_the_project(client: httpx.AsyncClient,
                                                                  services: Services) -> None:
    await import_testdata(services)
    digest = await scanned(client, services, "proj/app")
    rows = await download(client, await export(client, services, job_name="all",
                                               projects=[await project_id(services)]))
    assert rows[0] == HEADER
    assert [tuple(row[4:9]) for row in rows[1:]] == list(EXPECTED)
    assert {tuple(row[:4]) for row in rows[1:]} == {("proj", "proj/app", digest, "1.0")}


async def test_the_cvss3_score_column_holds_the_reports_score(client: httpx.AsyncClient,
                                                             services: Services) -> None:
    await import_testdata(services)
    await scanned(client, services, "proj/app")
    rows = await download(client, await export(client, services, projects=[await project_id(services)],
                                               cveIds="{CVE-2021-23337}"))
    assert [(row[4], row[9]) for row in rows[1:]] == [("CVE-2021-23337", "7.2")]


async def test_the_cve_filter_keeps_only_the_listed_ids(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    await scanned(client, services, "proj/app")
    rows = await download(client, await export(client, services, projects=[await project_id(services)],
                                               cveIds="CVE-2020-14343,CVE-2019-14697"))
    assert [row[4] for row in rows[1:]] == ["CVE-2020-14343", "CVE-2019-14697"]


async def test_the_repository_filter_keeps_matching_repositories(client: httpx.AsyncClient,
                                                                 services: Services) -> None:
    await import_testdata(services)
    await scanned(client, services, "proj/app")
    await scanned(client, services, "proj/other")
    rows = await download(client, await export(client, services, projects=[await project_id(services)],
                                               repositories="{oth*}"))
    assert {row[1] for row in rows[1:]} == {"proj/other"}


async def test_the_tag_filter_keeps_artifacts_with_a_matching_tag(client: httpx.AsyncClient,
                                                                  services: Services) -> None:
    await import_testdata(services)
    await scanned(client, services, "proj/app", tag="1.0")
    await scanned(client, services, "proj/web", tag="2.0")
    rows = await download(client, await export(client, services, projects=[await project_id(services)],
                                               tags="{2.0}"))
    assert {(row[1], row[3]) for row in rows[1:]} == {("proj/web", "2.0")}


async def test_a_project_without_findings_exports_only_the_header(client: httpx.AsyncClient,
                                                                 services: Services) -> None:
    await import_testdata(services)
    await scanned(client, services, "proj/app", vulnerable=False)
    rows = await download(client, await export(client, services, projects=[await project_id(services)]))
    assert rows == [HEADER]


async def test_the_execution_reports_its_file_and_row_count(client: httpx.AsyncClient, services: Services) -> None:
    await import_testdata(services)
    await scanned(client, services, "proj/app")
    execution_id = await export(client, services, job_name="weekly", projects=[await project_id(services)])
    body = (await client.get(f"{API}/export/cve/execution/{execution_id}")).json()
    assert (body["id"], body["status"], body["file_present"], body["user_name"], body["status_text"]) == (
        execution_id, "Success", True, "admin", "9 rows")


async def test_the_executions_list_holds_the_callers_exports(client: httpx.AsyncClient, services: Services) -> None:
    await push(client, clean_layers())
    first = await export(client, services, projects=[await project_id(services)])
    second = await export(client, services, projects=[await project_id(services)])
    body = (await client.get(f"{API}/export/cve/executions")).json()
    assert [item["id"] for item in body["items"]] == [second, first]


async def test_download_is_named_after_the_job(client: httpx.AsyncClient, services: Services) -> None:
    await push(client, clean_layers())
    execution_id = await export(client, services, job_name="weekly-report", projects=[await project_id(services)])
    response = await client.get(f"{API}/export/cve/download/{execution_id}")
    assert response.headers["content-disposition"] == 'attachment; filename="weekly-report.csv"'


async def test_an_unfinished_export_has_nothing_to_download(client: httpx.AsyncClient, services: Services) -> None:
    await push(client, clean_layers())
    response = await client.post(f"{API}/export/cve", json={"projects": [await project_id(services)]})
    download_response = await client.get(f"{API}/export/cve/download/{response.json()['id']}")
    assert (download_response.status_code, error_of(download_response)["code"]) == (404, "NOT_FOUND")


async def test_only_csv_can_be_downloaded(client: httpx.AsyncClient, services: Services) -> None:
    await push(client, clean_layers())
    execution_id = await export(client, services, projects=[await project_id(services)])
    response = await client.get(f"{API}/export/cve/download/{execution_id}", params={"format": "PDF"})
    assert response.status_code == 400


async def test_another_user_can_not_download_an_export(client: httpx.AsyncClient, services: Services,
                                                       app: ASGIApp) -> None:
    await push(client, clean_layers())
    execution_id = await export(client, services, projects=[await project_id(services)])
    async with Accounts(services, app) as accounts:
        mallory = await accounts.client("mallory")
        await add_member(client, "proj", "mallory", 2)
        response = await mallory.get(f"{API}/export/cve/download/{execution_id}")
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_a_developer_exports_and_downloads_their_own(client: httpx.AsyncClient, services: Services,
                                                         app: ASGIApp) -> None:
    await import_testdata(services)
    await scanned(client, services, "proj/app")
    async with Accounts(services, app) as accounts:
        dev = await accounts.client("dev")
        await add_member(client, "proj", "dev", 2)
        execution_id = await export(dev, services, projects=[await project_id(services)])
        rows = await download(dev, execution_id)
    assert len(rows) == 1 + len(EXPECTED)


async def test_a_guest_may_not_export(client: httpx.AsyncClient, services: Services, app: ASGIApp) -> None:
    await push(client, clean_layers())
    async with Accounts(services, app) as accounts:
        guest = await accounts.client("guest")
        await add_member(client, "proj", "guest", 3)
        response = await guest.post(f"{API}/export/cve", json={"projects": [await project_id(services)]})
    assert (response.status_code, error_of(response)["code"]) == (403, "FORBIDDEN")


async def test_a_project_the_caller_can_not_see_is_not_found(client: httpx.AsyncClient, services: Services,
                                                             app: ASGIApp) -> None:
    await push(client, clean_layers())
    async with Accounts(services, app) as accounts:
        outsider = await accounts.client("outsider")
        response = await outsider.post(f"{API}/export/cve", json={"projects": [await project_id(services)]})
    assert (response.status_code, error_of(response)["code"]) == (404, "NOT_FOUND")


async def test_an_export_needs_a_project(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/export/cve", json={"job_name": "none", "projects": []})
    assert response.status_code == 400


async def test_anonymous_callers_can_not_export(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get(f"{API}/export/cve/executions")
    assert response.status_code == 401
