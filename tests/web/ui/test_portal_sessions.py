"""Signing in and out of the portal, the session cookie, and CSRF protection (forms and API)."""

from __future__ import annotations

import time

import httpx
from portal_support import (
    API,
    CSRF_ERROR,
    PASSWORD,
    browser,
    create_project,
    create_user,
    csrf_of,
    insert_member,
    page_token,
    sign_in,
    signed_in,
    submit,
)
from starlette.types import ASGIApp

from fixture_values import ADMIN_PASSWORD
from portside.services.bundle import Services
from portside.store import users as user_store
from portside.web.ui import sessions


def session_cookie_header(response: httpx.Response) -> str:
    headers = [value for value in response.headers.get_list("set-cookie") if value.startswith("sid=")]
    assert len(headers) == 1, response.headers
    return headers[0]


async def test_sign_in_with_the_right_password_redirects_to_next(app: ASGIApp) -> None:
    async with browser(app) as client:
        response = await sign_in(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/harbor/projects"


async def test_session_cookie_is_http_only_strict_and_not_secure_over_http(app: ASGIApp) -> None:
    async with browser(app) as client:
        header = session_cookie_header(await sign_in(client, "admin", ADMIN_PASSWORD)).lower()
    assert "httponly" in header
    assert "samesite=strict" in header
    assert "path=/" in header
    assert "secure" not in header.replace("samesite", "")


async def test_session_cookie_is_secure_over_tls(app: ASGIApp) -> None:
    async with browser(app, "https://registry.test") as client:
        header = session_cookie_header(await sign_in(client, "admin", ADMIN_PASSWORD)).lower()
    assert "; secure" in header


async def test_sign_in_with_a_wrong_password_is_refused(app: ASGIApp) -> None:
    async with browser(app) as client:
        response = await sign_in(client, "admin", "Wr0ngPassword")
        assert response.status_code == 401
        assert "Invalid user name or password." in response.text
        assert "sid" not in client.cookies


async def test_sign_in_as_an_unknown_user_is_refused(app: ASGIApp) -> None:
    async with browser(app) as client:
        response = await sign_in(client, "nobody", PASSWORD)
    assert response.status_code == 401


async def test_sign_in_with_the_cli_secret_works(app: ASGIApp, client: httpx.AsyncClient) -> None:
    user_id = await create_user(client, "alice")
    secret = (await client.put(f"{API}/users/{user_id}/cli_secret", json={"secret": ""})).json()["secret"]
    async with browser(app) as portal:
        response = await sign_in(portal, "alice", secret)
    assert response.status_code == 303


async def test_robot_accounts_cannot_sign_in(app: ASGIApp, client: httpx.AsyncClient) -> None:
    await create_project(client, "team")
    created = await client.post(f"{API}/robots", json={
        "name": "ci", "level": "project", "duration": -1, "permissions": [
            {"kind": "project", "namespace": "team", "access": [{"resource": "repository", "action": "pull"}]}]})
    assert created.status_code == 201, created.text
    async with browser(app) as portal:
        response = await sign_in(portal, created.json()["name"], created.json()["secret"])
    assert response.status_code == 401
    assert "Robot accounts cannot sign in" in response.text


async def test_sign_in_without_the_csrf_token_is_refused(app: ASGIApp) -> None:
    async with browser(app) as client:
        response = await client.post("/c/login", data={"principal": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 403
    assert response.json() == CSRF_ERROR


async def test_sign_in_never_redirects_to_another_site(app: ASGIApp) -> None:
    async with browser(app) as client:
        token = await page_token(client, "/harbor/sign-in")
        response = await client.post("/c/login", data={"principal": "admin", "password": ADMIN_PASSWORD,
                                                       "csrf_token": token, "next": "//evil.example/x"})
    assert response.headers["location"] == "/harbor/projects"


async def test_signed_in_pages_show_the_user(app: ASGIApp) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as client:
        page = await client.get("/harbor/projects")
    assert 'href="/harbor/profile" title="Your profile">admin</a>' in page.text


async def test_log_out_ends_the_session(app: ASGIApp) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as client:
        response = await client.get("/c/log_out")
        assert response.status_code == 303
        assert response.headers["location"] == "/harbor/sign-in"
        current = await client.get(f"{API}/users/current")
    assert current.status_code == 401


async def test_a_forged_session_cookie_is_anonymous(app: ASGIApp, client: httpx.AsyncClient) -> None:
    await create_user(client, "alice")
    async with signed_in(app, "alice") as portal:
        value = portal.cookies["sid"]
        fields = value.split(".")
        fields[1] = "1"  # the admin's id, keeping alice's signature
        portal.cookies.set("sid", ".".join(fields))
        current = await portal.get(f"{API}/users/current")
    assert current.status_code == 401


async def test_a_password_change_ends_the_other_sessions(app: ASGIApp, client: httpx.AsyncClient) -> None:
    user_id = await create_user(client, "alice")
    async with signed_in(app, "alice") as portal:
        changed = await client.put(f"{API}/users/{user_id}/password", json={"new_password": "N3wPassword"})
        assert changed.status_code == 200, changed.text
        current = await portal.get(f"{API}/users/current")
    assert current.status_code == 401


# --- CSRF -------------------------------------------------------------------------------------

async def test_a_form_post_without_the_csrf_token_is_refused(app: ASGIApp, services: Services) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as client:
        response = await client.post("/harbor/projects", data={"project_name": "sneaky"})
        listed = await client.get(f"{API}/projects/sneaky")
    assert response.status_code == 403
    assert response.json() == CSRF_ERROR
    assert listed.status_code == 404


async def test_a_form_post_with_the_csrf_token_works(app: ASGIApp) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as client:
        response = await submit(client, "/harbor/projects", "/harbor/projects", {"project_name": "welcome"})
        listed = await client.get(f"{API}/projects/welcome")
    assert response.status_code == 303
    assert listed.status_code == 200


async def test_an_api_write_with_the_session_but_no_csrf_header_is_refused(app: ASGIApp) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as client:
        response = await client.post(f"{API}/projects", json={"project_name": "sneaky"})
    assert response.status_code == 403
    assert response.json() == CSRF_ERROR


async def test_an_api_write_with_the_session_and_its_csrf_header_works(app: ASGIApp) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as client:
        token = await page_token(client)
        response = await client.post(f"{API}/projects", json={"project_name": "viaportal"},
                                     headers={"X-Harbor-CSRF-Token": token})
    assert response.status_code == 201, response.text


async def test_an_api_read_with_the_session_needs_no_csrf_header(app: ASGIApp) -> None:
    async with signed_in(app, "admin", ADMIN_PASSWORD) as client:
        response = await client.get(f"{API}/users/current")
    assert response.json()["username"] == "admin"


async def test_basic_auth_api_writes_need_no_csrf_token(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/projects", json={"project_name": "scripted"})
    assert response.status_code == 201


async def test_the_csrf_token_of_one_session_is_refused_in_another(app: ASGIApp, client: httpx.AsyncClient) -> None:
    await create_user(client, "alice")
    await create_user(client, "bob")
    async with signed_in(app, "alice") as alice, signed_in(app, "bob") as bob:
        bobs_token = csrf_of((await bob.get("/harbor/projects")).text)
        response = await alice.post(f"{API}/projects", json={"project_name": "mixed"},
                                    headers={"X-Harbor-CSRF-Token": bobs_token})
    assert response.status_code == 403
    assert response.json() == CSRF_ERROR


async def _cookie_for(services: Services, username: str, issued: int) -> str:
    user_id = await insert_member(services, username)
    async with services.db.read() as conn:
        user = await user_store.find_by_id(conn, user_id)
    assert user is not None
    return sessions.issue(await sessions.portal_key(services), user, now=issued)


async def test_an_expired_session_is_anonymous(app: ASGIApp, services: Services) -> None:
    value = await _cookie_for(services, "alice", int(time.time()) - sessions.SESSION_SECONDS - 1)
    async with browser(app) as portal:
        portal.cookies.set("sid", value)
        current = await portal.get(f"{API}/users/current")
    assert current.status_code == 401


async def test_an_active_session_is_renewed_with_the_same_csrf_binding(app: ASGIApp, services: Services) -> None:
    value = await _cookie_for(services, "alice", int(time.time()) - sessions.SESSION_SECONDS + 60)
    async with browser(app) as portal:
        portal.cookies.set("sid", value)
        response = await portal.get("/harbor/projects")
    renewed = session_cookie_header(response).split(";", 1)[0].removeprefix("sid=")
    old_fields, new_fields = value.split("."), renewed.split(".")
    assert int(new_fields[2]) > int(old_fields[2])  # later expiry
    assert new_fields[3] == old_fields[3]  # same nonce: the page's CSRF token stays valid
