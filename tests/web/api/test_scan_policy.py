"""The vulnerability pull policy on the registry API: `GET /v2/<name>/manifests/<tag>` by a project
member under `prevent_vul`, against images scanned with the real advisories of shared/testdata/osv.

The refusals need ManifestService.get to ask `PullPolicy.check_pull` (wired by the lead); until
then they are strict xfails, so they turn into failures — and this mark must go — once wired.
"""

from __future__ import annotations

import httpx
import pytest
from artifacts_support import member_client
from starlette.types import ASGIApp

from portside.core.clock import utcnow
from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.services.policies import PullPolicy
from portside.store import repositories as repository_store
from scan_images import HIGH_OR_WORSE
from scan_support import import_testdata, push_clean, push_vulnerable, scan, set_metadata

REPO = "astro/app"
MANIFEST = f"/v2/{REPO}/manifests/1.0"
ACCEPT = {"Accept": "application/vnd.oci.image.manifest.v1+json"}


@pytest.fixture(autouse=True)
async def vulnerability_database(services: Services) -> None:
    await import_testdata(services)


async def _protect(services: Services) -> None:
    await set_metadata(services, "astro", prevent_vul="true", severity="high")


async def _allowlist(services: Services, expires_at: int | None) -> None:
    async with services.db.read() as conn:
        project_id = await repository_store.find_project_id(conn, "astro")
    await PullPolicy(services.db).set_allowlist(project_id, HIGH_OR_WORSE, expires_at)


async def _member_pull(services: Services, app: ASGIApp) -> httpx.Response:
    async with await member_client(services, app, "astro", "dev", Role.DEVELOPER) as developer:
        return await developer.get(MANIFEST, headers=ACCEPT)


async def test_member_pull_of_a_vulnerable_image_is_412(client: httpx.AsyncClient, services: Services,
                                                        app: ASGIApp) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await _protect(services)
    response = await _member_pull(services, app)
    assert (response.status_code, response.json()["errors"][0]["code"]) == (412, "PROJECTPOLICYVIOLATION")


async def test_member_pull_of_an_unscanned_image_is_412(client: httpx.AsyncClient, services: Services,
                                                        app: ASGIApp) -> None:
    await push_clean(client, REPO)
    await _protect(services)
    response = await _member_pull(services, app)
    assert response.status_code == 412
    assert response.json()["errors"][0]["message"].startswith("current image without vulnerability scanning")


async def test_member_pull_with_the_high_findings_allowlisted_is_200(client: httpx.AsyncClient, services: Services,
                                                                     app: ASGIApp) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await _protect(services)
    await _allowlist(services, None)
    assert (await _member_pull(services, app)).status_code == 200


async def test_member_pull_with_an_expired_allowlist_is_412(client: httpx.AsyncClient, services: Services,
                                                            app: ASGIApp) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await _protect(services)
    await _allowlist(services, int(utcnow().timestamp()) - 60)
    assert (await _member_pull(services, app)).status_code == 412


async def test_administrator_pull_of_a_vulnerable_image_is_200(client: httpx.AsyncClient,
                                                               services: Services) -> None:
    await push_vulnerable(client, REPO)
    await scan(client, services, REPO)
    await _protect(services)
    assert (await client.get(MANIFEST, headers=ACCEPT)).status_code == 200
