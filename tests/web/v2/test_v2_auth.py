"""/v2 authentication and the token service: challenges, tokens, scopes, bad credentials."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
from sqlalchemy import update
from tests_v2_helpers import error_code_of, push_small_image

from fixture_values import ADMIN_PASSWORD
from portside.app import create_app
from portside.container import build_services
from portside.core.config import Settings
from portside.services.bundle import Services
from portside.services.passwords import hash_secret
from portside.store import users as user_store
from portside.store.tables import projects

SERVICE = "harbor-registry"


async def _token(client: httpx.AsyncClient, *scopes: str, auth: tuple[str, str] | None = None) -> httpx.Response:
    params = [("service", SERVICE)] + [("scope", scope) for scope in scopes]
    return await client.get("/service/token", params=params, auth=auth)  # type: ignore[arg-type]


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def _make_user(services: Services, username: str, password: str) -> None:
    async with services.db.write() as conn:
        await user_store.create(conn, username=username, password_hash=hash_secret(password))


async def _make_public(services: Services, project: str) -> None:
    async with services.db.write() as conn:
        await conn.execute(update(projects).where(projects.c.name == project).values(public=True))


async def test_base_without_credentials_is_challenged_with_the_token_realm(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/v2/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="http://registry.test/service/token",service="harbor-registry"')
    assert error_code_of(response) == "UNAUTHORIZED"


async def test_base_with_basic_credentials_answers_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/")
    assert response.status_code == 200
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"


async def test_repository_challenge_names_the_scope(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/v2/proj/app/manifests/latest")
    assert response.status_code == 401
    assert 'scope="repository:proj/app:pull"' in response.headers["www-authenticate"]


async def test_admin_token_grants_what_was_asked(anonymous_client: httpx.AsyncClient) -> None:
    response = await _token(anonymous_client, "repository:proj/app:pull,push", auth=("admin", ADMIN_PASSWORD))
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 1800
    claims = _claims(body["token"])
    assert claims["sub"] == "admin" and claims["iss"] == "harbor-token-issuer" and claims["aud"] == SERVICE
    assert claims["access"] == [{"type": "repository", "name": "proj/app", "actions": ["pull", "push"]}]


async def test_bearer_token_pulls_and_pushes(client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient) -> None:
    await push_small_image(client, "proj/app", "v1")
    token = (await _token(anonymous_client, "repository:proj/app:pull", auth=("admin", ADMIN_PASSWORD))).json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert (await anonymous_client.get("/v2/proj/app/manifests/v1", headers=headers)).status_code == 200
    push = await anonymous_client.post("/v2/proj/app/blobs/uploads/", headers=headers)
    assert push.status_code == 401  # the token lacks push: ask for a better one
    assert 'error="insufficient_scope"' in push.headers["www-authenticate"]


async def test_anonymous_token_pulls_a_public_project_only(client: httpx.AsyncClient,
                                                           anonymous_client: httpx.AsyncClient,
                                                           services: Services) -> None:
    await push_small_image(client, "open/app", "v1")
    await push_small_image(client, "closed/app", "v1")
    await _make_public(services, "open")
    response = await _token(anonymous_client, "repository:open/app:pull,push", "repository:closed/app:pull")
    access = {entry["name"]: entry["actions"] for entry in _claims(response.json()["token"])["access"]}  # type: ignore[union-attr]
    assert access == {"open/app": ["pull"], "closed/app": []}
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (await anonymous_client.get("/v2/open/app/manifests/v1", headers=headers)).status_code == 200
    assert (await anonymous_client.get("/v2/closed/app/manifests/v1", headers=headers)).status_code == 401


async def test_anonymous_token_without_scope_is_refused(anonymous_client: httpx.AsyncClient) -> None:
    assert (await _token(anonymous_client)).status_code == 401


async def test_login_without_scope_validates_credentials(anonymous_client: httpx.AsyncClient) -> None:
    good = await _token(anonymous_client, auth=("admin", ADMIN_PASSWORD))
    bad = await _token(anonymous_client, auth=("admin", "Wrong-passw0rd"))
    assert good.status_code == 200
    assert bad.status_code == 401
    assert error_code_of(bad) == "UNAUTHORIZED"


async def test_unknown_service_is_a_400(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/service/token", params={"service": "other", "scope": "x"},
                                          auth=("admin", ADMIN_PASSWORD))
    assert response.status_code == 400


async def test_wrong_password_on_v2_is_401(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/v2/", auth=("admin", "Wrong-passw0rd"))
    assert response.status_code == 401


async def test_malformed_authorization_header_is_401(anonymous_client: httpx.AsyncClient) -> None:
    for header in ("Basic !!!notbase64", "Basic " + base64.b64encode(b"nocolon").decode(), "Digest abc"):
        response = await anonymous_client.get("/v2/", headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_tampered_token_is_refused(client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient) -> None:
    await push_small_image(client, "proj/app", "v1")
    token = (await _token(anonymous_client, "repository:proj/app:pull", auth=("admin", ADMIN_PASSWORD))).json()
    header, payload, signature = token["token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["access"][0]["name"] = "other/app"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = await anonymous_client.get("/v2/other/app/manifests/v1",
                                          headers={"Authorization": f"Bearer {header}.{forged}.{signature}"})
    assert response.status_code == 401


async def test_expired_token_is_refused(client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient,
                                        services: Services) -> None:
    await push_small_image(client, "proj/app", "v1")
    past = int(time.time()) - 3600
    expired = jwt.encode({"iss": "harbor-token-issuer", "sub": "admin", "aud": SERVICE, "iat": past - 60,
                          "nbf": past - 60, "exp": past,
                          "access": [{"type": "repository", "name": "proj/app", "actions": ["pull"]}]},
                         services.tokens._private, algorithm="RS256")  # noqa: SLF001 - signing like the server
    response = await anonymous_client.get("/v2/proj/app/manifests/v1", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


async def test_token_for_one_repository_does_not_open_another(client: httpx.AsyncClient,
                                                             anonymous_client: httpx.AsyncClient) -> None:
    await push_small_image(client, "proj/app", "v1")
    await push_small_image(client, "proj/other", "v1")
    token = (await _token(anonymous_client, "repository:proj/app:pull", auth=("admin", ADMIN_PASSWORD))).json()
    response = await anonymous_client.get("/v2/proj/other/manifests/v1",
                                          headers={"Authorization": f"Bearer {token['token']}"})
    assert response.status_code == 401


async def test_catalog_needs_an_administrator(client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient,
                                              services: Services) -> None:
    await _make_user(services, "alice", "Alice-passw0rd")
    assert (await client.get("/v2/_catalog")).status_code == 200
    assert (await anonymous_client.get("/v2/_catalog", auth=("alice", "Alice-passw0rd"))).status_code == 403
    token = (await _token(anonymous_client, "registry:catalog:*", auth=("alice", "Alice-passw0rd"))).json()
    assert _claims(token["token"])["access"] == [{"type": "registry", "name": "catalog", "actions": []}]
    admin = (await _token(anonymous_client, "registry:catalog:*", auth=("admin", ADMIN_PASSWORD))).json()
    listed = await anonymous_client.get("/v2/_catalog", headers={"Authorization": f"Bearer {admin['token']}"})
    assert listed.status_code == 200


async def test_non_member_is_denied_a_private_repository(client: httpx.AsyncClient,
                                                        anonymous_client: httpx.AsyncClient,
                                                        services: Services) -> None:
    await push_small_image(client, "secret/app", "v1")
    await _make_user(services, "bob", "Bob-passw0rd1")
    response = await anonymous_client.get("/v2/secret/app/manifests/v1", auth=("bob", "Bob-passw0rd1"))
    assert response.status_code == 403
    assert error_code_of(response) == "DENIED"
    token = (await _token(anonymous_client, "repository:secret/app:pull,push", auth=("bob", "Bob-passw0rd1"))).json()
    assert _claims(token["token"])["access"] == [{"type": "repository", "name": "secret/app", "actions": []}]


async def test_push_to_a_missing_project_without_auto_create_is_refused(settings: Settings,
                                                                        services: Services) -> None:
    await _make_user(services, "carol", "Carol-passw0rd1")
    strict = settings.model_copy(update={"auto_create_projects": False})
    strict_services = await build_services(strict)
    await strict_services.start()
    transport = httpx.ASGITransport(app=create_app(strict, strict_services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            user = await http.post("/v2/newproj/app/blobs/uploads/", auth=("carol", "Carol-passw0rd1"))
            admin = await http.post("/v2/newproj/app/blobs/uploads/", auth=("admin", ADMIN_PASSWORD))
    finally:
        await strict_services.close()
    assert user.status_code == 403
    assert admin.status_code == 404
    assert error_code_of(admin) == "NAME_UNKNOWN"
