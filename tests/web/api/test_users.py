"""The Harbor user API (`/api/v2.0/users...`) in process: accounts, profiles, passwords, CLI secrets,
the current user and their permissions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from accounts_support import add_member, project_id, push_image, signed_in
from harborapi.models import UserResp as HarborUserResp
from sqlalchemy import select
from starlette.types import ASGIApp

from fixture_values import ADMIN_PASSWORD
from portside.domain.rbac import Role
from portside.services.bundle import Services
from portside.store.tables import audit_logs

API = "/api/v2.0"
PASSWORD = "Passw0rdOfAlice"
USER_RESP_FIELDS = {"email", "realname", "comment", "user_id", "username", "sysadmin_flag", "admin_role_in_auth",
                    "oidc_user_meta", "creation_time", "update_time"}


# --- helpers ------------------------------------------------------------------------------------

def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of a Harbor error response with exactly one error."""
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return response.status_code, errors[0]["code"], errors[0]["message"]


async def create_user(client: httpx.AsyncClient, username: str, *, password: str = PASSWORD,
                      email: str | None = None) -> int:
    """Create a user through the API; return its id (from the Location header)."""
    response = await client.post(f"{API}/users", json={
        "username": username, "password": password, "email": email or f"{username}@example.org",
        "realname": username.title(), "comment": "created by a test"})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def token_access(response: httpx.Response) -> list[dict[str, Any]]:
    """The `access` claim of a token service response."""
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["token"], options={"verify_signature": False})
    access: list[dict[str, Any]] = claims["access"]
    return access


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> int:
    return await create_user(client, "alice")


@pytest.fixture
async def alice_client(app: ASGIApp, alice: int) -> AsyncIterator[httpx.AsyncClient]:
    async with signed_in(app, "alice", PASSWORD) as http:
        yield http


@pytest.fixture
async def admin_id(client: httpx.AsyncClient) -> int:
    response = await client.get(f"{API}/users/current")
    assert response.status_code == 200, response.text
    return int(response.json()["user_id"])


# --- creating users -----------------------------------------------------------------------------

async def test_admin_creates_a_user_with_location(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/users", json={
        "username": "bob", "password": PASSWORD, "email": "bob@example.org", "realname": "Bob B", "comment": "hi"})

    assert response.status_code == 201, response.text
    user_id = int(response.headers["location"].removeprefix(f"{API}/users/"))
    got = (await client.get(f"{API}/users/{user_id}")).json()
    assert (got["username"], got["email"], got["realname"], got["comment"]) == ("bob", "bob@example.org", "Bob B",
                                                                                 "hi")
    assert (got["sysadmin_flag"], got["admin_role_in_auth"], got["oidc_user_meta"]) == (False, False, None)


async def test_user_response_has_exactly_harbors_fields_and_no_secret(client: httpx.AsyncClient, alice: int) -> None:
    body = (await client.get(f"{API}/users/{alice}")).json()

    assert set(body) == USER_RESP_FIELDS
    assert PASSWORD not in json.dumps(body)
    parsed = HarborUserResp.model_validate(body)
    assert parsed.user_id == alice
    assert parsed.creation_time is not None and parsed.creation_time.utcoffset() is not None


@pytest.mark.parametrize("password", ["short1A", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere"])
async def test_a_weak_password_is_400(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post(f"{API}/users", json={"username": "bob", "password": password,
                                                       "email": "bob@example.org"})

    status, code, message = error_of(response)
    assert (status, code) == (400, "BAD_REQUEST")
    assert "at least one uppercase letter" in message


@pytest.mark.parametrize("username", ["with space", "robot$sneaky", "a/b", ""])
async def test_an_invalid_username_is_400(client: httpx.AsyncClient, username: str) -> None:
    response = await client.post(f"{API}/users", json={"username": username, "password": PASSWORD,
                                                       "email": "x@example.org"})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b"])
async def test_a_missing_or_malformed_email_is_400(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post(f"{API}/users", json={"username": "bob", "password": PASSWORD, "email": email})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_a_body_without_username_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/users", json={"password": PASSWORD, "email": "x@example.org"})

    status, code, message = error_of(response)
    assert (status, code) == (400, "BAD_REQUEST")
    assert "username" in message


async def test_a_duplicate_username_is_409(client: httpx.AsyncClient, alice: int) -> None:
    response = await client.post(f"{API}/users", json={"username": "alice", "password": PASSWORD,
                                                       "email": "other@example.org"})

    status, code, message = error_of(response)
    assert (status, code) == (409, "CONFLICT")
    assert "alice" in message


async def test_a_duplicate_email_is_409(client: httpx.AsyncClient, alice: int) -> None:
    response = await client.post(f"{API}/users", json={"username": "bob", "password": PASSWORD,
                                                       "email": "alice@example.org"})

    assert error_of(response)[:2] == (409, "CONFLICT")


async def test_two_concurrent_creates_of_one_name_give_one_201_and_one_409(client: httpx.AsyncClient) -> None:
    body = {"username": "twin", "password": PASSWORD, "email": "twin@example.org"}

    first, second = await asyncio.gather(client.post(f"{API}/users", json=body),
                                         client.post(f"{API}/users", json=body))

    assert sorted([first.status_code, second.status_code]) == [201, 409]


async def test_anonymous_cannot_create_users(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.post(f"{API}/users", json={"username": "bob", "password": PASSWORD,
                                                                 "email": "bob@example.org"})

    assert error_of(response)[:2] == (401, "UNAUTHORIZED")


async def test_a_non_admin_cannot_create_users(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.post(f"{API}/users", json={"username": "bob", "password": PASSWORD,
                                                             "email": "bob@example.org"})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_creating_a_user_is_audited(client: httpx.AsyncClient, services: Services, alice: int) -> None:
    await services.flush()

    async with services.db.read() as conn:
        rows = (await conn.execute(select(audit_logs.c.username, audit_logs.c.resource).where(
            audit_logs.c.resource_type == "user", audit_logs.c.operation == "create"))).all()
    assert [tuple(row) for row in rows] == [("admin", "alice")]


# --- listing and searching ----------------------------------------------------------------------

async def test_list_filters_by_fuzzy_username_and_pages(client: httpx.AsyncClient) -> None:
    for name in ("carol", "caroline", "dave"):
        await create_user(client, name)

    response = await client.get(f"{API}/users", params={"q": "username=~carol", "page_size": 1})

    assert response.status_code == 200, response.text
    assert [user["username"] for user in response.json()] == ["carol"]
    assert response.headers["x-total-count"] == "2"
    assert 'rel="next"' in response.headers["link"]


async def test_list_filters_by_exact_email(client: httpx.AsyncClient) -> None:
    await create_user(client, "carol")
    await create_user(client, "caroline")

    response = await client.get(f"{API}/users", params={"q": "email=carol@example.org"})

    assert [user["username"] for user in response.json()] == ["carol"]


async def test_list_sorts_by_username_descending(client: httpx.AsyncClient) -> None:
    for name in ("bea", "cid", "abe"):
        await create_user(client, name)

    response = await client.get(f"{API}/users", params={"sort": "-username"})

    assert [user["username"] for user in response.json()] == ["cid", "bea", "admin", "abe"]


@pytest.mark.parametrize("params", [{"q": "password=~x"}, {"sort": "password"}, {"q": "username"}])
async def test_list_rejects_unsupported_queries_with_400(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get(f"{API}/users", params=params)

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_a_non_admin_cannot_list_users(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.get(f"{API}/users")

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_any_signed_in_user_can_search_by_username(client: httpx.AsyncClient,
                                                         alice_client: httpx.AsyncClient) -> None:
    carol = await create_user(client, "carol")
    await create_user(client, "dave")

    response = await alice_client.get(f"{API}/users/search", params={"username": "aro"})

    assert response.status_code == 200, response.text
    assert response.json() == [{"user_id": carol, "username": "carol"}]
    assert response.headers["x-total-count"] == "1"


async def test_search_needs_a_username(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.get(f"{API}/users/search")

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_anonymous_cannot_search(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get(f"{API}/users/search", params={"username": "a"})

    assert error_of(response)[:2] == (401, "UNAUTHORIZED")


# --- one user: get, update, delete ------------------------------------------------------------

async def test_a_user_reads_their_own_profile(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.get(f"{API}/users/{alice}")

    assert response.status_code == 200, response.text
    assert response.json()["username"] == "alice"


async def test_a_user_cannot_read_another_users_profile(client: httpx.AsyncClient,
                                                        alice_client: httpx.AsyncClient) -> None:
    bob = await create_user(client, "bob")

    response = await alice_client.get(f"{API}/users/{bob}")

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_an_unknown_user_id_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/users/4242")

    assert error_of(response)[:2] == (404, "NOT_FOUND")


async def test_a_non_numeric_user_id_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/users/alice")

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_a_user_updates_their_own_profile(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}", json={"email": "a@example.com", "realname": "Alice A"})

    assert response.status_code == 200, response.text
    got = (await alice_client.get(f"{API}/users/{alice}")).json()
    assert (got["email"], got["realname"], got["comment"]) == ("a@example.com", "Alice A", "created by a test")


async def test_an_admin_updates_another_users_comment(client: httpx.AsyncClient, alice: int) -> None:
    response = await client.put(f"{API}/users/{alice}", json={"comment": "team lead"})

    assert response.status_code == 200, response.text
    assert (await client.get(f"{API}/users/{alice}")).json()["comment"] == "team lead"


async def test_a_user_cannot_update_another_users_profile(client: httpx.AsyncClient,
                                                          alice_client: httpx.AsyncClient) -> None:
    bob = await create_user(client, "bob")

    response = await alice_client.put(f"{API}/users/{bob}", json={"comment": "hacked"})

    assert error_of(response)[:2] == (403, "FORBIDDEN")
    assert (await client.get(f"{API}/users/{bob}")).json()["comment"] == "created by a test"


async def test_updating_to_an_email_in_use_is_409(client: httpx.AsyncClient, alice_client: httpx.AsyncClient,
                                                  alice: int) -> None:
    await create_user(client, "bob")

    response = await alice_client.put(f"{API}/users/{alice}", json={"email": "bob@example.org"})

    assert error_of(response)[:2] == (409, "CONFLICT")


async def test_updating_an_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put(f"{API}/users/4242", json={"comment": "x"})

    assert error_of(response)[:2] == (404, "NOT_FOUND")


async def test_an_admin_deletes_a_user_who_then_cannot_sign_in(app: ASGIApp, client: httpx.AsyncClient,
                                                               alice_client: httpx.AsyncClient, alice: int) -> None:
    assert (await alice_client.get(f"{API}/users/current")).status_code == 200

    response = await client.delete(f"{API}/users/{alice}")

    assert response.status_code == 200, response.text
    assert error_of(await client.get(f"{API}/users/{alice}"))[:2] == (404, "NOT_FOUND")
    assert error_of(await alice_client.get(f"{API}/users/current"))[:2] == (401, "UNAUTHORIZED")


async def test_deleting_an_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    assert error_of(await client.delete(f"{API}/users/4242"))[:2] == (404, "NOT_FOUND")


async def test_a_non_admin_cannot_delete_users(client: httpx.AsyncClient, alice_client: httpx.AsyncClient) -> None:
    bob = await create_user(client, "bob")

    assert error_of(await alice_client.delete(f"{API}/users/{bob}"))[:2] == (403, "FORBIDDEN")


async def test_an_admin_cannot_delete_themself(client: httpx.AsyncClient, admin_id: int) -> None:
    status, code, message = error_of(await client.delete(f"{API}/users/{admin_id}"))

    assert (status, code) == (403, "FORBIDDEN")
    assert "your own account" in message


async def test_the_last_sysadmin_cannot_be_deleted(app: ASGIApp, client: httpx.AsyncClient, admin_id: int) -> None:
    created = await client.post(f"{API}/robots", json={
        "name": "janitor", "level": "system", "duration": -1,
        "permissions": [{"kind": "system", "namespace": "/", "access": [{"resource": "user", "action": "delete"}]}]})
    assert created.status_code == 201, created.text

    async with signed_in(app, created.json()["name"], created.json()["secret"]) as robot:
        status, code, message = error_of(await robot.delete(f"{API}/users/{admin_id}"))

    assert (status, code) == (412, "PRECONDITION")
    assert "last system administrator" in message


# --- the sysadmin flag --------------------------------------------------------------------------

async def test_an_admin_makes_a_user_sysadmin(client: httpx.AsyncClient, alice_client: httpx.AsyncClient,
                                              alice: int) -> None:
    response = await client.put(f"{API}/users/{alice}/sysadmin", json={"sysadmin_flag": True})

    assert response.status_code == 200, response.text
    assert (await client.get(f"{API}/users/{alice}")).json()["sysadmin_flag"] is True
    assert (await alice_client.get(f"{API}/users")).status_code == 200


async def test_the_last_sysadmin_cannot_lose_the_flag(client: httpx.AsyncClient, admin_id: int) -> None:
    status, code, message = error_of(await client.put(f"{API}/users/{admin_id}/sysadmin",
                                                      json={"sysadmin_flag": False}))

    assert (status, code) == (412, "PRECONDITION")
    assert "last system administrator" in message


async def test_an_admin_may_step_down_when_another_admin_remains(client: httpx.AsyncClient, alice: int,
                                                                 admin_id: int) -> None:
    await client.put(f"{API}/users/{alice}/sysadmin", json={"sysadmin_flag": True})

    response = await client.put(f"{API}/users/{admin_id}/sysadmin", json={"sysadmin_flag": False})

    assert response.status_code == 200, response.text
    assert error_of(await client.get(f"{API}/users"))[:2] == (403, "FORBIDDEN")


async def test_a_non_admin_cannot_grant_the_flag(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/sysadmin", json={"sysadmin_flag": True})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_the_flag_of_an_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put(f"{API}/users/4242/sysadmin", json={"sysadmin_flag": True})

    assert error_of(response)[:2] == (404, "NOT_FOUND")


# --- passwords ----------------------------------------------------------------------------------

async def test_a_user_changes_their_password_with_the_old_one(app: ASGIApp, alice_client: httpx.AsyncClient,
                                                              alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/password",
                                      json={"old_password": PASSWORD, "new_password": "N3wPassword"})

    assert response.status_code == 200, response.text
    async with signed_in(app, "alice", "N3wPassword") as new, signed_in(app, "alice", PASSWORD) as old:
        assert (await new.get(f"{API}/users/current")).status_code == 200
        assert (await old.get(f"{API}/users/current")).status_code == 401


async def test_changing_ones_password_needs_the_old_one(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/password", json={"new_password": "N3wPassword"})

    status, code, message = error_of(response)
    assert (status, code) == (400, "BAD_REQUEST")
    assert "old_password" in message


async def test_a_wrong_old_password_is_403(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/password",
                                      json={"old_password": "Wr0ngPassword", "new_password": "N3wPassword"})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


async def test_a_weak_new_password_is_400(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/password",
                                      json={"old_password": PASSWORD, "new_password": "weak"})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_the_new_password_must_differ(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/password",
                                      json={"old_password": PASSWORD, "new_password": PASSWORD})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_an_admin_resets_a_password_without_the_old_one(app: ASGIApp, client: httpx.AsyncClient,
                                                              alice: int) -> None:
    response = await client.put(f"{API}/users/{alice}/password", json={"new_password": "Res3tByAdmin"})

    assert response.status_code == 200, response.text
    async with signed_in(app, "alice", "Res3tByAdmin") as reset:
        assert (await reset.get(f"{API}/users/current")).status_code == 200


async def test_a_user_cannot_change_another_users_password(client: httpx.AsyncClient,
                                                           alice_client: httpx.AsyncClient) -> None:
    bob = await create_user(client, "bob")

    response = await alice_client.put(f"{API}/users/{bob}/password",
                                      json={"old_password": PASSWORD, "new_password": "N3wPassword"})

    assert error_of(response)[:2] == (403, "FORBIDDEN")


# --- CLI secrets --------------------------------------------------------------------------------

async def generated_cli_secret(http: httpx.AsyncClient, user_id: int) -> str:
    response = await http.put(f"{API}/users/{user_id}/cli_secret")
    assert response.status_code == 200, response.text
    secret: str = response.json()["secret"]
    return secret


async def test_a_generated_cli_secret_is_returned_once_and_meets_the_policy(alice_client: httpx.AsyncClient,
                                                                            alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/cli_secret", json={"secret": ""})

    assert response.status_code == 200, response.text
    secret = response.json()["secret"]
    assert len(secret) == 32 and any(c.isupper() for c in secret) and any(c.isdigit() for c in secret)
    assert secret not in (await alice_client.get(f"{API}/users/current")).text


async def test_a_cli_secret_is_a_password_for_basic_auth_on_the_api(app: ASGIApp, alice_client: httpx.AsyncClient,
                                                                    alice: int) -> None:
    secret = await generated_cli_secret(alice_client, alice)

    async with signed_in(app, "alice", secret) as cli:
        response = await cli.get(f"{API}/users/current")

    assert response.status_code == 200, response.text
    assert response.json()["username"] == "alice"


async def test_a_cli_secret_pulls_through_v2_with_basic_auth(app: ASGIApp, client: httpx.AsyncClient,
                                                             services: Services, alice_client: httpx.AsyncClient,
                                                             alice: int) -> None:
    digest = await push_image(client, "team/app")
    await add_member(services, "team", alice, Role.GUEST)
    secret = await generated_cli_secret(alice_client, alice)

    async with signed_in(app, "alice", secret) as cli:
        response = await cli.get("/v2/team/app/manifests/v1")

    assert response.status_code == 200, response.text
    assert response.headers["docker-content-digest"] == digest


async def test_a_cli_secret_gets_tokens_with_the_users_permissions(app: ASGIApp, client: httpx.AsyncClient,
                                                                   services: Services,
                                                                   alice_client: httpx.AsyncClient,
                                                                   alice: int) -> None:
    await push_image(client, "team/app")
    await add_member(services, "team", alice, Role.GUEST)
    secret = await generated_cli_secret(alice_client, alice)

    async with signed_in(app, "alice", secret) as cli:
        response = await cli.get("/service/token", params={"service": "harbor-registry",
                                                           "scope": "repository:team/app:pull,push"})

    assert token_access(response) == [{"type": "repository", "name": "team/app", "actions": ["pull"]}]


async def test_a_users_own_cli_secret_is_set_without_echo(app: ASGIApp, alice_client: httpx.AsyncClient,
                                                          alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/cli_secret", json={"secret": "MyOwnCl1Secret"})

    assert (response.status_code, response.content) == (200, b"")
    async with signed_in(app, "alice", "MyOwnCl1Secret") as cli:
        assert (await cli.get(f"{API}/users/current")).status_code == 200


async def test_a_new_cli_secret_replaces_the_old_one(app: ASGIApp, alice_client: httpx.AsyncClient,
                                                     alice: int) -> None:
    first = await generated_cli_secret(alice_client, alice)

    await generated_cli_secret(alice_client, alice)

    async with signed_in(app, "alice", first) as old:
        assert error_of(await old.get(f"{API}/users/current"))[:2] == (401, "UNAUTHORIZED")


async def test_a_weak_cli_secret_is_400(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.put(f"{API}/users/{alice}/cli_secret", json={"secret": "weak"})

    status, code, message = error_of(response)
    assert (status, code) == (400, "BAD_REQUEST")
    assert "CLI secret" in message


async def test_a_user_cannot_set_another_users_cli_secret(client: httpx.AsyncClient,
                                                          alice_client: httpx.AsyncClient) -> None:
    bob = await create_user(client, "bob")

    assert error_of(await alice_client.put(f"{API}/users/{bob}/cli_secret"))[:2] == (403, "FORBIDDEN")


async def test_an_admin_sets_another_users_cli_secret(app: ASGIApp, client: httpx.AsyncClient, alice: int) -> None:
    secret = await generated_cli_secret(client, alice)

    async with signed_in(app, "alice", secret) as cli:
        assert (await cli.get(f"{API}/users/current")).json()["user_id"] == alice


# --- the current user ---------------------------------------------------------------------------

async def test_current_user_is_the_signed_in_user(alice_client: httpx.AsyncClient, alice: int) -> None:
    response = await alice_client.get(f"{API}/users/current")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_RESP_FIELDS
    assert (body["user_id"], body["username"], body["email"]) == (alice, "alice", "alice@example.org")


async def test_post_current_user_answers_like_get(alice_client: httpx.AsyncClient) -> None:
    posted = await alice_client.post(f"{API}/users/current", headers={"accept": "application/json"})

    assert posted.status_code == 200, posted.text
    assert posted.json() == (await alice_client.get(f"{API}/users/current")).json()


async def test_current_user_needs_authentication(anonymous_client: httpx.AsyncClient) -> None:
    assert error_of(await anonymous_client.get(f"{API}/users/current"))[:2] == (401, "UNAUTHORIZED")


async def test_wrong_credentials_are_401(app: ASGIApp, alice: int) -> None:
    async with signed_in(app, "alice", "Wr0ngPassword") as wrong:
        assert error_of(await wrong.get(f"{API}/users/current"))[:2] == (401, "UNAUTHORIZED")


async def test_a_robot_has_no_current_user_profile(app: ASGIApp, client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/robots", json={
        "name": "ci", "level": "system",
        "permissions": [{"kind": "system", "namespace": "/", "access": [{"resource": "project", "action": "list"}]}]})
    assert created.status_code == 201, created.text

    async with signed_in(app, created.json()["name"], created.json()["secret"]) as robot:
        assert error_of(await robot.get(f"{API}/users/current"))[:2] == (412, "PRECONDITION")


# --- the current user's permissions -------------------------------------------------------------

async def test_a_users_system_permissions_are_project_creation(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.get(f"{API}/users/current/permissions")

    assert response.status_code == 200, response.text
    assert response.json() == [{"resource": "/system/project", "action": "create"}]


async def test_relative_system_permissions_drop_the_scope(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.get(f"{API}/users/current/permissions", params={"relative": "true"})

    assert response.json() == [{"resource": "project", "action": "create"}]


async def test_an_admin_holds_the_system_user_permissions(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/users/current/permissions", params={"scope": "/system", "relative": "true"})

    permissions = response.json()
    assert {"resource": "user", "action": "create"} in permissions
    assert {"resource": "robot", "action": "delete"} in permissions


async def test_a_developer_sees_their_project_permissions(client: httpx.AsyncClient, services: Services,
                                                          alice_client: httpx.AsyncClient, alice: int) -> None:
    await push_image(client, "team/app")
    await add_member(services, "team", alice, Role.DEVELOPER)
    pid = await project_id(services, "team")

    response = await alice_client.get(f"{API}/users/current/permissions",
                                      params={"scope": f"/project/{pid}", "relative": "true"})

    permissions = response.json()
    assert {"resource": "repository", "action": "push"} in permissions
    assert {"resource": "tag", "action": "delete"} in permissions
    assert {"resource": "artifact", "action": "delete"} not in permissions


async def test_project_permissions_are_absolute_by_default(client: httpx.AsyncClient, services: Services,
                                                           alice_client: httpx.AsyncClient, alice: int) -> None:
    await push_image(client, "team/app")
    await add_member(services, "team", alice, Role.GUEST)

    response = await alice_client.get(f"{API}/users/current/permissions", params={"scope": "/project/team"})

    assert {"resource": "/project/team/repository", "action": "pull"} in response.json()
    assert {"resource": "/project/team/repository", "action": "push"} not in response.json()


async def test_a_non_member_has_no_permissions_in_a_private_project(client: httpx.AsyncClient,
                                                                    alice_client: httpx.AsyncClient) -> None:
    await push_image(client, "team/app")

    response = await alice_client.get(f"{API}/users/current/permissions", params={"scope": "/project/team"})

    assert (response.status_code, response.json()) == (200, [])


async def test_a_malformed_scope_is_400(alice_client: httpx.AsyncClient) -> None:
    response = await alice_client.get(f"{API}/users/current/permissions", params={"scope": "/repository/x"})

    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_anonymous_permissions_are_401(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get(f"{API}/users/current/permissions")

    assert error_of(response)[:2] == (401, "UNAUTHORIZED")


async def test_the_admin_password_still_works_after_user_changes(app: ASGIApp, client: httpx.AsyncClient,
                                                                 alice: int) -> None:
    await client.put(f"{API}/users/{alice}/password", json={"new_password": "Res3tByAdmin"})

    async with signed_in(app, "admin", ADMIN_PASSWORD) as admin:
        assert (await admin.get(f"{API}/users/current")).json()["sysadmin_flag"] is True
