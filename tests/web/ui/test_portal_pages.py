"""Portal pages: what each role sees, escaping of user content, anonymous browsing."""

from __future__ import annotations

import httpx
import pytest
from portal_support import (
    API,
    add_member,
    browser,
    create_project,
    digest_of,
    image_config,
    insert_member,
    push_image,
    push_multiarch,
    repo_url,
    signed_in,
)
from starlette.types import ASGIApp

from fixture_values import ADMIN_PASSWORD
from portside.domain.rbac import Role
from portside.services.bundle import Services

ADD_MEMBER_FORM = 'aria-label="Add a member"'
DELETE_BUTTON = '<button type="submit" class="danger small">Delete</button>'
ADD_TAG_FORM = 'class="tag-add"'
REMOVE_TAG = 'aria-label="Remove tag 1.0"'


@pytest.fixture
async def team(client: httpx.AsyncClient, services: Services) -> str:
    """A private project `team` with repository team/notebook:1.0 and one member per role
    (named after the role, lowercase), and a user `outsider`."""
    await create_project(client, "team")
    await push_image(client, "team/notebook", "1.0")
    for role in Role:
        await insert_member(services, role.harbor_name.lower(), "team", role)
    await insert_member(services, "outsider")
    return "team"


async def page_as(app: ASGIApp, username: str, path: str) -> httpx.Response:
    async with signed_in(app, username) as portal:
        return await portal.get(path)


async def test_the_projects_list_shows_public_projects_and_the_users_own(app: ASGIApp, client: httpx.AsyncClient,
                                                                        team: str) -> None:
    await create_project(client, "open", public=True)
    await create_project(client, "secret")
    page = await page_as(app, "developer", "/harbor/projects")
    assert 'href="/harbor/projects/team"' in page.text
    assert 'href="/harbor/projects/open"' in page.text
    assert "secret" not in page.text


async def test_the_projects_list_shows_storage_used(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "developer", "/harbor/projects")
    assert '<span class="bar" aria-hidden="true"><span style="width: 100.0%"></span></span>' in page.text


async def test_the_summary_counts_members_by_role(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "guest", "/harbor/projects/team")
    # the admin who created the project is a projectAdmin too
    assert "<tr><td>projectAdmin</td><td class=\"num\">2</td></tr>" in page.text
    assert "<tr><td>guest</td><td class=\"num\">1</td></tr>" in page.text


async def test_a_guest_sees_no_member_controls(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "guest", "/harbor/projects/team/members")
    assert page.status_code == 200
    assert ADD_MEMBER_FORM not in page.text
    assert "Change role" not in page.text


async def test_a_maintainer_manages_members_below_project_admin(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "maintainer", "/harbor/projects/team/members")
    assert ADD_MEMBER_FORM in page.text
    assert '<option value="1"' not in page.text  # may not grant projectAdmin


async def test_a_project_admin_may_grant_project_admin(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "projectadmin", "/harbor/projects/team/members")
    assert '<option value="1"' in page.text


async def test_only_project_admins_see_the_logs_tab(app: ASGIApp, team: str) -> None:
    maintainer = await page_as(app, "maintainer", "/harbor/projects/team")
    admin = await page_as(app, "projectadmin", "/harbor/projects/team")
    assert "/harbor/projects/team/logs" not in maintainer.text
    assert "/harbor/projects/team/logs" in admin.text


async def test_the_logs_tab_refuses_maintainers(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "maintainer", "/harbor/projects/team/logs")
    assert page.status_code == 403


async def test_the_logs_tab_lists_the_projects_audit_log(app: ASGIApp, client: httpx.AsyncClient,
                                                       services: Services, team: str) -> None:
    await insert_member(services, "newcomer")
    await add_member(client, "team", "newcomer", int(Role.GUEST))
    await services.flush()
    page = await page_as(app, "projectadmin", "/harbor/projects/team/logs?operation=create&resource_type=member")
    assert "<td>member</td><td class=\"wrap\">team/newcomer</td>" in page.text
    assert "team/notebook" not in page.text


async def test_a_developer_may_tag_but_not_delete(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "developer", "/harbor/projects/team/repositories/notebook")
    assert ADD_TAG_FORM in page.text
    assert REMOVE_TAG in page.text  # Portside: developers delete tags too
    assert DELETE_BUTTON not in page.text


async def test_a_maintainer_may_delete_artifacts(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "maintainer", "/harbor/projects/team/repositories/notebook")
    assert DELETE_BUTTON in page.text


async def test_a_guest_sees_artifacts_without_actions(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "guest", "/harbor/projects/team/repositories/notebook")
    assert "<span class=\"tag\">1.0</span>" in page.text
    assert ADD_TAG_FORM not in page.text
    assert DELETE_BUTTON not in page.text
    assert "Edit the description" not in page.text


async def test_the_configuration_is_editable_by_project_admins_only(app: ASGIApp, team: str) -> None:
    developer = await page_as(app, "developer", "/harbor/projects/team/configuration")
    admin = await page_as(app, "projectadmin", "/harbor/projects/team/configuration")
    assert "<fieldset disabled>" in developer.text
    assert "<fieldset disabled>" not in admin.text


async def test_a_non_member_cannot_see_a_private_project(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "outsider", "/harbor/projects/team/repositories/notebook")
    assert page.status_code == 404
    assert "notebook" not in page.text


async def test_anonymous_visitors_are_sent_to_sign_in_for_private_projects(app: ASGIApp, team: str) -> None:
    async with browser(app) as portal:
        response = await portal.get("/harbor/projects/team")
    assert response.status_code == 303
    assert response.headers["location"] == "/harbor/sign-in?next=%2Fharbor%2Fprojects%2Fteam"


async def test_anonymous_visitors_browse_public_projects(app: ASGIApp, client: httpx.AsyncClient) -> None:
    await create_project(client, "open", public=True)
    await push_image(client, "open/tool", "2.0")
    async with browser(app) as portal:
        listing = await portal.get("/harbor/projects")
        repository = await portal.get("/harbor/projects/open/repositories/tool")
    assert 'href="/harbor/projects/open"' in listing.text
    assert "New project" not in listing.text
    assert repository.status_code == 200
    assert "<span class=\"tag\">2.0</span>" in repository.text


async def test_a_script_in_a_description_renders_as_text(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    response = await client.put(repo_url("team/notebook"),
                                json={"description": "# Notes\n<script>alert('x')</script> and **bold**"})
    assert response.status_code == 200, response.text
    page = await page_as(app, "guest", "/harbor/projects/team/repositories/notebook")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; and <strong>bold</strong>" in page.text
    assert "<h3>Notes</h3>" in page.text


async def test_a_script_in_a_label_renders_as_text(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    created = await client.post(f"{API}/labels", json={"name": "<script>bad()</script>", "scope": "g",
                                                        "color": "red\" onclick=\"x"})
    assert created.status_code == 201, created.text
    label_id = int(created.headers["location"].rsplit("/", 1)[1])
    attached = await client.post(f"{repo_url('team/notebook')}/artifacts/1.0/labels", json={"id": label_id})
    assert attached.status_code == 200, attached.text
    page = await page_as(app, "guest", "/harbor/projects/team/repositories/notebook")
    assert "<script>bad()" not in page.text
    assert "&lt;script&gt;bad()&lt;/script&gt;" in page.text
    assert "onclick" not in page.text


async def test_a_script_in_an_image_label_renders_as_text(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    digest = await push_image(client, "team/notebook", "evil",
                              config=image_config(labels={"note": "<script>steal()</script>"}))
    page = await page_as(app, "guest", f"/harbor/projects/team/artifacts/notebook/{digest}")
    assert "<script>steal" not in page.text
    assert "&lt;script&gt;steal()&lt;/script&gt;" in page.text


async def test_the_artifact_page_shows_labels_layers_and_history(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "guest", "/harbor/projects/team/artifacts/notebook/1.0")
    assert page.status_code == 200
    assert "<td><code>ca.nrc.cadc.skaha.type</code></td><td class=\"wrap\">notebook</td>" in page.text
    assert f'<code title="{digest_of(b"layer")}">' in page.text
    assert "RUN pip install astropy" in page.text
    assert "<dt>OS/Arch</dt><dd>linux/amd64</dd>" in page.text


async def test_the_artifact_page_says_not_scanned(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "guest", "/harbor/projects/team/artifacts/notebook/1.0")
    assert "Not scanned." in page.text


async def test_a_multi_arch_index_lists_its_platforms(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    children = await push_multiarch(client, "team/multi")
    page = await page_as(app, "guest", "/harbor/projects/team/repositories/multi")
    assert "<summary>2 platforms</summary>" in page.text
    assert f'<a href="/harbor/projects/team/artifacts/multi/{children[1]}">linux/arm64/v8</a>' in page.text


async def test_the_repository_page_offers_pull_commands(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "guest", "/harbor/projects/team/repositories/notebook")
    assert 'data-copy="docker pull registry.test/team/notebook:1.0"' in page.text


async def test_the_artifacts_are_paginated(app: ASGIApp, client: httpx.AsyncClient, team: str) -> None:
    for number in range(30):
        await push_image(client, "team/many", f"v{number}", layers=[f"layer {number}".encode()])
    first = await page_as(app, "guest", "/harbor/projects/team/repositories/many")
    second = await page_as(app, "guest", "/harbor/projects/team/repositories/many?page=2")
    assert "Page 1 of 2 · 30 in all" in first.text
    assert first.text.count('<span class="tag">') == 25
    assert second.text.count('<span class="tag">') == 5
    assert '<span class="tag">v0</span>' in second.text  # oldest last


async def test_admin_pages_are_refused_to_other_users(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "projectadmin", "/harbor/admin/users")
    assert page.status_code == 403


async def test_admin_pages_list_users_for_system_admins(app: ASGIApp, team: str) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as portal:
        page = await portal.get("/harbor/admin/users?username=out")
    assert "<td>outsider</td>" in page.text
    assert "<td>guest</td>" not in page.text


async def test_the_admin_navigation_is_hidden_from_other_users(app: ASGIApp, team: str) -> None:
    page = await page_as(app, "projectadmin", "/harbor/projects")
    assert "/harbor/admin/users" not in page.text


async def test_an_unknown_page_is_a_404_page_for_browsers(app: ASGIApp) -> None:
    async with browser(app) as portal:
        page = await portal.get("/harbor/nowhere", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text


async def test_an_unknown_path_is_harbors_json_404_for_other_clients(app: ASGIApp) -> None:
    async with browser(app) as portal:
        response = await portal.get("/v3/", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": "NOT_FOUND", "message": "no endpoint at /v3/"}]}


async def test_the_static_files_are_served(app: ASGIApp) -> None:
    async with browser(app) as portal:
        css = await portal.get("/static/portal.css")
        js = await portal.get("/static/portal.js")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "X-Harbor-CSRF-Token" in js.text
