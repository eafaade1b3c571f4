"""The web portal in a real browser (Debian's chromium, driven by Playwright) against `portside serve`:
sign in, create a project, push with skopeo, browse the repository and the artifact, scan an image
with old Python packages from its page (the embedded worker scans it against the test advisories
of shared/testdata/osv, imported with `portside vulndb import` before the server starts), sort and
filter the report, see the project's severity summary, add a member, make the project private (a
non-member loses access) and sign out.

Screenshots of the main pages go to test-artifacts/portal/ (git-ignored); on a failure the page
the browser was on is saved there too, next to the server log in the report.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scan_images import OSV_TESTDATA

from .commands import require_binary, run_command
from .conftest import StartPortside
from .images import NotebookImages, OciImage, build_vulnerable_notebook
from .servers import PortsideServer, hermetic_environment
from .skopeo import Skopeo

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USER_PASSWORD = "Us3rPassw0rd"
SCAN_TIMEOUT_MS = 90_000  # click on Scan -> report table (the page polls, then reloads)
TIMINGS: dict[str, float] = {}


def _sync_playwright() -> Any:
    """Playwright's sync API; skipped loudly outside CI when it is not installed, a failure in CI."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright missing in CI")
        import warnings

        warnings.warn(pytest.PytestWarning("e2e test skipped: playwright not installed"), stacklevel=2)
        pytest.skip("playwright not installed")
    return sync_playwright


@pytest.fixture
def scanning_portside(start_portside: StartPortside, tmp_path: Path, shared_database_url: str | None,
                      shared_data_dir: Path | None) -> PortsideServer:
    """A Portside whose vulnerability database holds the test advisories: `portside vulndb import`
    into the database the server will use (its data dir's, or the shared one), then started."""
    data_dir = shared_data_dir or tmp_path / "portside-data"  # start_portside's default for "portside"
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "portside", "vulndb", "import", "--data-dir", str(data_dir)]
    if shared_database_url:
        args += ["--database-url", shared_database_url]
    run_command([*args, str(OSV_TESTDATA)], timeout=120, env=hermetic_environment())
    return start_portside()


@pytest.fixture(scope="session")
def vulnerable_notebook(tmp_path_factory: pytest.TempPathFactory) -> OciImage:
    return build_vulnerable_notebook(tmp_path_factory.mktemp("images-vulnerable"))


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = require_binary("chromium")
    with _sync_playwright()() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def create_user(server: PortsideServer, username: str) -> None:
    response = httpx.post(f"{server.url}/api/v2.0/users", auth=server.credentials, json={
        "username": username, "password": USER_PASSWORD, "email": f"{username}@example.org"})
    assert response.status_code == 201, response.text


def sign_in(page: Any, server: PortsideServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/harbor/sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password or CLI secret").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/harbor/projects")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_portal_in_a_browser(scanning_portside: PortsideServer, browser: Any, skopeo: Skopeo,
                             notebook_images: NotebookImages, vulnerable_notebook: OciImage, project: str) -> None:
    portside = scanning_portside
    suffix = uuid.uuid4().hex[:8]
    member, outsider = f"carol{suffix}", f"bob{suffix}"
    create_user(portside, member)
    create_user(portside, outsider)
    admin = browser.new_context(viewport={"width": 1366, "height": 800})
    page = admin.new_page()
    try:
        _walk_through(page, portside, skopeo, notebook_images, project)
        _scan_in_the_browser(page, portside, skopeo, vulnerable_notebook, project)
        _after_the_scan(page, browser, portside, project, member, outsider)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2))
        print(f"portal timings: {TIMINGS}")
    except BaseException:
        shot(page, "failure")
        raise
    finally:
        admin.close()


def _walk_through(page: Any, portside: PortsideServer, skopeo: Skopeo, images: NotebookImages,
                  project: str) -> None:
    base = portside.url
    sign_in(page, portside, *portside.credentials)

    # Create a public project with the form.
    page.get_by_label("Project name").fill(project)
    page.get_by_label("Public: anyone may pull, without signing in").check()
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(f"**/harbor/projects/{project}")
    assert f"Project {project} created." in page.locator(".notice").inner_text()

    # Push an image with skopeo; it shows in the repository view.
    skopeo.logged_in(portside).copy(images.normalised.oci_ref, f"docker://{portside.host}/{project}/notebook:1.0",
                                    "--preserve-digests")
    # The server is shared with the other e2e tests: other projects may fill the first page,
    # so find this one with the list's search box.
    page.goto(f"{base}/harbor/projects")
    page.get_by_label("Find a project").fill(project)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"**/harbor/projects?name={project}")
    shot(page, "projects")
    page.get_by_role("link", name=project, exact=True).click()
    page.get_by_role("link", name="Repositories").click()
    page.get_by_role("link", name=f"{project}/notebook").click()
    page.wait_for_url(f"**/harbor/projects/{project}/repositories/notebook")
    assert page.locator("td.tags .tag").first.inner_text().startswith("1.0")
    assert f"docker pull {portside.host}/{project}/notebook:1.0" in page.locator("td.commands").inner_text()
    shot(page, "repository")

    # The artifact page shows the image labels and the layers.
    page.locator("table.artifacts tbody tr").first.get_by_role("link").first.click()
    page.wait_for_url("**/artifacts/notebook/sha256:*")
    labels = page.locator("section", has=page.get_by_role("heading", name="Image labels"))
    assert "ca.nrc.cadc.skaha.type" in labels.inner_text()
    assert "notebook" in labels.inner_text()
    assert images.normalised.manifest_digest in page.locator("dl.facts").inner_text()
    shot(page, "artifact")



def _column(page: Any, index: int) -> list[str]:
    """The visible cells of the report table's column `index` (0-based), top to bottom."""
    cells: list[str] = page.locator("#report-table tbody tr:not([hidden])").evaluate_all(
        f"rows => rows.map(row => row.cells[{index}].innerText.trim())")
    return cells


def _scan_in_the_browser(page: Any, portside: PortsideServer, skopeo: Skopeo, image: OciImage, project: str) -> None:
    """Push the image with old Python packages, scan it from its page and read the report table."""
    base = portside.url
    skopeo.logged_in(portside).copy(image.oci_ref, f"docker://{portside.host}/{project}/scanme:1.0",
                                    "--preserve-digests")
    page.goto(f"{base}/harbor/projects/{project}/repositories/scanme")
    assert "Not scanned" in page.locator("td.scan-cell").first.inner_text()
    page.locator("table.artifacts tbody tr").first.get_by_role("link").first.click()
    page.wait_for_url("**/artifacts/scanme/sha256:*")
    started = time.monotonic()
    page.get_by_role("button", name="Scan", exact=True).click()
    assert "Scan requested." in page.locator(".notice").inner_text()
    # The page polls the scan overview and reloads once the scan has finished; bounded wait.
    page.locator("#report-table").wait_for(state="visible", timeout=SCAN_TIMEOUT_MS)
    TIMINGS["click Scan -> report table (s)"] = round(time.monotonic() - started, 2)
    assert page.locator("#scan-status").inner_text().startswith("Success")
    chart = page.locator("#scan .severity[role=img]")
    assert chart.get_attribute("aria-label") == ("Vulnerabilities of this artifact: 6 vulnerabilities: "
                                                 "1 Critical, 4 Medium, 1 Unknown")

    # A known advisory and its package, the id linking to the advisory.
    row = page.locator("#report-table tbody tr", has_text="CVE-2020-14343")
    assert row.locator("td").nth(2).inner_text() == "pyyaml"
    assert row.locator("td").nth(1).inner_text() == "Critical"
    assert (row.get_by_role("link", name="CVE-2020-14343").get_attribute("href") or "").startswith(
        "https://osv.dev/vulnerability/")
    assert len(_column(page, 0)) == 6

    # Sort by severity (most severe first, then least), by package with the keyboard.
    severity = page.get_by_role("button", name="Severity", exact=True)
    severity.click()
    assert page.locator("#report-table th[data-key=severity]").get_attribute("aria-sort") == "descending"
    assert _column(page, 1) == ["Critical", "Medium", "Medium", "Medium", "Medium", "Unknown"]
    severity.click()
    assert _column(page, 1)[0] == "Unknown"
    page.get_by_role("button", name="Package", exact=True).focus()
    page.keyboard.press("Enter")
    assert page.locator("#report-table th[data-key=package]").get_attribute("aria-sort") == "ascending"
    assert _column(page, 2) == ["jinja2", "jinja2", "pyyaml", "urllib3", "urllib3", "urllib3"]

    # Filter by text, then by severity.
    page.get_by_label("Filter").fill("urllib3")
    assert _column(page, 2) == ["urllib3"] * 3
    assert page.locator("#report-shown").inner_text() == "Showing 3 of 6"
    page.get_by_label("Filter").fill("")
    page.get_by_label("Severity", exact=True).select_option("Critical")
    assert _column(page, 0) == ["CVE-2020-14343"]
    page.get_by_label("Severity", exact=True).select_option("")
    page.get_by_role("button", name="Severity", exact=True).click()
    shot(page, "artifact-scanned")

    # The project summary counts the scanned artifact; the repository view shows its bar.
    page.goto(f"{base}/harbor/projects/{project}")
    summary = page.locator("#severity-distribution")
    assert "1 of 2 artifacts scanned, 1 never scanned." in summary.inner_text()
    assert summary.locator(".severity[role=img]").first.get_attribute("aria-label") == (
        "Artifacts by highest severity: 1 scanned artifacts: 1 Critical")
    shot(page, "summary")
    page.goto(f"{base}/harbor/projects/{project}/repositories/scanme")
    assert "Critical" in page.locator("td.scan-cell").first.inner_text()


def _after_the_scan(page: Any, browser: Any, portside: PortsideServer, project: str, member: str,
                    outsider: str) -> None:
    base = portside.url
    # Add a member by user name.
    page.goto(f"{base}/harbor/projects/{project}/members")
    page.get_by_label("User name").fill(member)
    page.get_by_label("Role", exact=True).select_option(label="developer")
    page.get_by_role("button", name="Add member").click()
    page.wait_for_url(f"**/harbor/projects/{project}/members")
    assert f"{member} is now a member." in page.locator(".notice").inner_text()
    assert member in page.locator("table.list").inner_text()
    shot(page, "members")

    # A signed-in non-member sees the public project ...
    other = browser.new_context()
    try:
        outsider_page = other.new_page()
        sign_in(outsider_page, portside, outsider, USER_PASSWORD)
        outsider_page.goto(f"{base}/harbor/projects/{project}/repositories/notebook")
        assert outsider_page.get_by_role("heading", name=f"{project}/notebook").is_visible()

        # ... until the project is made private.
        page.goto(f"{base}/harbor/projects/{project}/configuration")
        page.get_by_label("Public: anyone may browse and pull, without signing in").uncheck()
        page.get_by_role("button", name="Save").click()
        assert "Configuration saved." in page.locator(".notice").inner_text()
        response = outsider_page.goto(f"{base}/harbor/projects/{project}/repositories/notebook")
        assert response is not None and response.status == 404
        assert outsider_page.get_by_role("heading", name="Not found").is_visible()
    finally:
        other.close()

    # Sign out: the private project is then out of reach.
    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url("**/harbor/sign-in")
    page.goto(f"{base}/harbor/projects/{project}")
    assert "/harbor/sign-in?next=" in page.url
