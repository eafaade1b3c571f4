"""The web portal in a real browser (Debian's chromium, driven by Playwright) against `portside serve`:
sign in, create a project, push with skopeo, browse the repository and the artifact, add a member,
make the project private (a non-member loses access) and sign out.

Screenshots of the main pages go to test-artifacts/portal/ (git-ignored); on a failure the page
the browser was on is saved there too, next to the server log in the report.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .commands import require_binary
from .images import NotebookImages
from .servers import PortsideServer
from .skopeo import Skopeo

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
USER_PASSWORD = "Us3rPassw0rd"


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


def test_portal_in_a_browser(portside: PortsideServer, browser: Any, skopeo: Skopeo,
                             notebook_images: NotebookImages, project: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    member, outsider = f"carol{suffix}", f"bob{suffix}"
    create_user(portside, member)
    create_user(portside, outsider)
    admin = browser.new_context(viewport={"width": 1366, "height": 800})
    page = admin.new_page()
    try:
        _walk_through(page, browser, portside, skopeo, notebook_images, project, member, outsider)
    except BaseException:
        shot(page, "failure")
        raise
    finally:
        admin.close()


def _walk_through(page: Any, browser: Any, portside: PortsideServer, skopeo: Skopeo, images: NotebookImages,
                  project: str, member: str, outsider: str) -> None:
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
