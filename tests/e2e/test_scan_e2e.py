"""The built-in scanner in a real `portside serve`: `portside vulndb import` (a subprocess, against
the server's database, before it starts), a push with skopeo, the scan run by the embedded
worker, the report through the Harbor API, and the pull policy under `prevent_vul`.

Advisories: the real records of shared/testdata/osv (CC-BY-4.0; see its README).
Two steps need the lead's wiring in ManifestService (the `artifact.pushed` event in `put`, the
`check_pull` call in `get`); their tests are strict xfails until then.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from scan_images import EXPECTED, HIGH_OR_WORSE, OSV_TESTDATA, vulnerable_layers, write_oci_layout

from .commands import run_command
from .conftest import StartPortside
from .servers import PortsideServer, hermetic_environment
from .skopeo import Skopeo

pytestmark = pytest.mark.e2e

API = "/api/v2.0"
REPORT_MIME = "application/vnd.security.vulnerability.report; version=1.1"
MEMBER_PASSWORD = "Membr2Passw0rd"
SCAN_TIMEOUT = 30.0


def _import_advisories(data_dir: Path, database_url: str | None) -> None:
    """`portside vulndb import` into the database the server will use (its data dir's, or the shared one)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "portside", "vulndb", "import", "--data-dir", str(data_dir), str(OSV_TESTDATA)]
    if database_url:
        args[-1:-1] = ["--database-url", database_url]
    run_command(args, timeout=120, env=hermetic_environment())


@pytest.fixture
def scanning_portside(start_portside: StartPortside, tmp_path: Path, shared_database_url: str | None,
                      shared_data_dir: Path | None) -> PortsideServer:
    """A Portside whose vulnerability database holds the test advisories."""
    _import_advisories(shared_data_dir or tmp_path / "portside-data", shared_database_url)
    return start_portside()


def _api(server: PortsideServer, auth: tuple[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=auth or server.credentials, timeout=30.0)


def _create_project(server: PortsideServer, project: str, metadata: dict[str, str]) -> None:
    with _api(server) as api:
        response = api.post(f"{API}/projects", json={"project_name": project, "metadata": metadata})
    assert response.status_code == 201, response.text


def _push(skopeo: Skopeo, server: PortsideServer, project: str, tmp_path: Path) -> str:
    layout = tmp_path / f"layout-{uuid.uuid4().hex[:8]}"
    digest = write_oci_layout(layout, vulnerable_layers(uuid.uuid4().hex), "1.0")
    skopeo.logged_in(server).copy(f"oci:{layout}:1.0", f"docker://{server.host}/{project}/app:1.0",
                                  "--preserve-digests")
    return digest


def _artifact(project: str) -> str:
    return f"{API}/projects/{project}/repositories/{quote('app', safe='')}/artifacts/1.0"


def _wait_for_report(server: PortsideServer, project: str) -> dict[str, Any]:
    """The finished report, polling (bounded) while the embedded worker scans."""
    deadline = time.monotonic() + SCAN_TIMEOUT
    with _api(server) as api:
        while time.monotonic() < deadline:
            overview = api.get(f"{_artifact(project)}/scan/overview")
            if overview.status_code == 200 and overview.json()["scan_status"] not in ("Pending", "Running"):
                assert overview.json()["scan_status"] == "Success", overview.json()
                body: dict[str, Any] = api.get(f"{_artifact(project)}/additions/vulnerabilities").json()
                return body[REPORT_MIME]
            time.sleep(0.2)
    raise AssertionError(f"no finished scan within {SCAN_TIMEOUT} s")


def test_requested_scan_reports_the_expected_findings(scanning_portside: PortsideServer, skopeo: Skopeo,
                                                      project: str, tmp_path: Path) -> None:
    _create_project(scanning_portside, project, {})
    _push(skopeo, scanning_portside, project, tmp_path)
    with _api(scanning_portside) as api:
        assert api.post(f"{_artifact(project)}/scan").status_code == 202
    report = _wait_for_report(scanning_portside, project)
    assert [(item["id"], item["package"], item["fix_version"], item["severity"])
            for item in report["vulnerabilities"]] == [(i, p, f, s) for i, p, _, f, s in EXPECTED]


def test_push_to_an_auto_scan_project_is_scanned(scanning_portside: PortsideServer, skopeo: Skopeo,
                                                 project: str, tmp_path: Path) -> None:
    _create_project(scanning_portside, project, {"auto_scan": "true"})
    _push(skopeo, scanning_portside, project, tmp_path)
    report = _wait_for_report(scanning_portside, project)
    assert [item["id"] for item in report["vulnerabilities"]] == [row[0] for row in EXPECTED]


def _add_member(server: PortsideServer, project: str, username: str) -> tuple[str, str]:
    with _api(server) as api:
        created = api.post(f"{API}/users", json={"username": username, "email": f"{username}@example.org",
                                                 "realname": username, "password": MEMBER_PASSWORD})
        assert created.status_code == 201, created.text
        added = api.post(f"{API}/projects/{project}/members",
                         json={"role_id": 2, "member_user": {"username": username}})
        assert added.status_code == 201, added.text
    return username, MEMBER_PASSWORD


def _member_pull(server: PortsideServer, project: str, member: tuple[str, str]) -> httpx.Response:
    with _api(server, member) as client:
        return client.get(f"/v2/{project}/app/manifests/1.0",
                          headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})


def test_vulnerable_pull_is_refused_until_allowlisted(scanning_portside: PortsideServer, skopeo: Skopeo,
                                                      project: str, tmp_path: Path) -> None:
    _create_project(scanning_portside, project, {"prevent_vul": "true", "severity": "high"})
    _push(skopeo, scanning_portside, project, tmp_path)
    member = _add_member(scanning_portside, project, f"dev{uuid.uuid4().hex[:8]}")
    with _api(scanning_portside) as api:
        assert api.post(f"{_artifact(project)}/scan").status_code == 202
    _wait_for_report(scanning_portside, project)
    refused = _member_pull(scanning_portside, project, member)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (412, "PROJECTPOLICYVIOLATION")
    with _api(scanning_portside) as api:
        allowlist = {"items": [{"cve_id": cve_id} for cve_id in HIGH_OR_WORSE]}
        assert api.put(f"{API}/projects/{project}", json={"cve_allowlist": allowlist}).status_code == 200
    assert _member_pull(scanning_portside, project, member).status_code == 200
