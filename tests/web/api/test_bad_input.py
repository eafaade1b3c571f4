"""Bad input through the real HTTP API, in process: every answer is a 4xx in Harbor's error
format (never a 5xx, never a stack trace), and nothing names a private project to a non-member.

Run on both databases: PostgreSQL refuses integers beyond int32 and NUL characters in text, both
of which SQLite accepts, so a gap in validation shows as a 500 on one of them only.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import jwt
import pytest
from starlette.types import ASGIApp, Message

import portside.services.tokens as token_module
from fixture_values import ADMIN_PASSWORD
from portside.core.clock import utcnow

API = "/api/v2.0"
ADMIN = ("admin", ADMIN_PASSWORD)
USER_PASSWORD = "Outs1derPassw0rd"
MAX_ROW_ID = 2**31 - 1
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


# --- helpers ----------------------------------------------------------------------------------------


def assert_harbor_error(status: int, body: bytes, allowed: Sequence[int]) -> dict[str, str]:
    """`body` is exactly one Harbor error with a status in `allowed`, and shows no internals."""
    text = body.decode(errors="replace")
    assert status in allowed, (status, text[:500])
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    parsed = json.loads(body)
    assert set(parsed) == {"errors"} and len(parsed["errors"]) == 1, parsed
    error: dict[str, str] = parsed["errors"][0]
    assert set(error) == {"code", "message"}, error
    return error


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


async def raw_request(app: ASGIApp, method: str, raw_path: str, *, auth: tuple[str, str] | None = ADMIN,
                      headers: Sequence[tuple[str, str]] = (), body: bytes = b"") -> tuple[int, bytes]:
    """Call the app with the exact request target a client sent, as uvicorn hands it over
    (`path` percent-decoded once, `raw_path` as sent). httpx would resolve `..` and `.` first."""
    path, _, query = raw_path.partition("?")
    sent = [(b"host", b"registry.test"), (b"content-length", str(len(body)).encode())]
    if auth is not None:
        sent.append((b"authorization", basic(*auth).encode()))
    sent += [(name.lower().encode(), value.encode("latin-1")) for name, value in headers]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": unquote(path), "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "server": ("registry.test", 80), "client": ("127.0.0.1", 1234), "headers": sent}
    delivered = False
    never = asyncio.Event()
    status = 0
    parts: list[bytes] = []

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            await never.wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(parts)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def push_image(client: httpx.AsyncClient, repository: str, tag: str = "1.0") -> str:
    """A small OCI image pushed over /v2 (Basic credentials); its manifest digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "repository": repository}).encode()
    response = await client.post(f"/v2/{repository}/blobs/uploads/?digest={digest_of(config)}", content=config)
    assert response.status_code == 201, response.text
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [], "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(config),
        "size": len(config)}}).encode()
    response = await client.put(f"/v2/{repository}/manifests/{tag}", content=manifest,
                                headers={"Content-Type": OCI_MANIFEST})
    assert response.status_code == 201, response.text
    return digest_of(manifest)


async def create_user(client: httpx.AsyncClient, username: str) -> int:
    response = await client.post(f"{API}/users", json={"username": username, "email": f"{username}@example.org",
                                                        "realname": username, "password": USER_PASSWORD})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def create_project(client: httpx.AsyncClient, name: str) -> int:
    response = await client.post(f"{API}/projects", json={"project_name": name, "metadata": {"public": "false"}})
    assert response.status_code == 201, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


@pytest.fixture
async def team(client: httpx.AsyncClient) -> dict[str, Any]:
    """Private project `team` with `team/app:1.0` and `team/nested/tool:1.0`, a label on the app,
    and private project `secret-lab` with `secret-lab/prototype:1.0`."""
    project_id = await create_project(client, "team")
    digest = await push_image(client, "team/app")
    await push_image(client, "team/nested/tool")
    label = await client.post(f"{API}/labels", json={"name": "release", "scope": "g", "color": "#00FF00"})
    assert label.status_code == 201, label.text
    label_id = int(label.headers["location"].rsplit("/", 1)[1])
    attached = await client.post(f"{API}/projects/team/repositories/app/artifacts/1.0/labels", json={"id": label_id})
    assert attached.status_code == 200, attached.text
    secret_id = await create_project(client, "secret-lab")
    await push_image(client, "secret-lab/prototype")
    return {"project_id": project_id, "digest": digest, "label_id": label_id, "secret_id": secret_id}


@pytest.fixture
async def outsider(app: ASGIApp, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in user who is a member of no project."""
    await create_user(client, "outsider")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test",
                                 auth=("outsider", USER_PASSWORD)) as http:
        yield http


# --- credentials --------------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [("admin", "wrong-password"), ("nobody", ADMIN_PASSWORD), ("admin", "")])
async def test_wrong_credentials_are_401(anonymous_client: httpx.AsyncClient, credentials: tuple[str, str]) -> None:
    response = await anonymous_client.get(f"{API}/users/current", auth=credentials)

    error = assert_harbor_error(response.status_code, response.content, [401])
    assert error["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("header", [
    "Basic", "Basic ", "Basic !!!not-base64!!!", basic("no-colon", "")[:-4] + "====",
    "Basic " + base64.b64encode(b"no-colon-at-all").decode(), "Basic " + base64.b64encode(b":secret").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(), "Bearer", "Bearer ", "Bearer not.a.jwt",
    "Digest username=admin", "Negotiate abc", "basic" + "A" * 8000,
])
async def test_a_malformed_authorization_header_is_401(app: ASGIApp, header: str) -> None:
    status, body = await raw_request(app, "GET", f"{API}/projects", auth=None, headers=[("Authorization", header)])

    assert assert_harbor_error(status, body, [401])["code"] == "UNAUTHORIZED"


async def registry_token(client: httpx.AsyncClient, scope: str) -> str:
    response = await client.get("/service/token", params={"service": "harbor-registry", "scope": scope})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_a_registry_token_is_accepted_on_the_api(client: httpx.AsyncClient,
                                                       anonymous_client: httpx.AsyncClient) -> None:
    token = await registry_token(client, "repository:team/app:pull")

    response = await anonymous_client.get(f"{API}/users/current", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    assert response.json()["username"] == "admin"


async def test_a_tampered_bearer_token_is_401(client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient) -> None:
    header, payload, signature = (await registry_token(client, "repository:team/app:pull")).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = await anonymous_client.get(f"{API}/users/current",
                                          headers={"Authorization": f"Bearer {header}.{forged}.{signature}"})

    assert assert_harbor_error(response.status_code, response.content, [401])["code"] == "UNAUTHORIZED"


async def test_an_expired_bearer_token_is_401(client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    issued_long_ago = utcnow() - timedelta(days=1)
    monkeypatch.setattr(token_module, "utcnow", lambda: issued_long_ago)
    token = await registry_token(client, "repository:team/app:pull")
    monkeypatch.undo()

    response = await anonymous_client.get(f"{API}/users/current", headers={"Authorization": f"Bearer {token}"})

    assert assert_harbor_error(response.status_code, response.content, [401])["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
async def test_a_token_not_signed_by_the_registry_is_401(anonymous_client: httpx.AsyncClient, algorithm: str) -> None:
    now = int(time.time())
    claims = {"iss": "harbor-token-issuer", "sub": "admin", "aud": "harbor-registry", "iat": now, "nbf": now,
              "exp": now + 600, "access": []}
    token = jwt.encode(claims, "a-key-of-our-own-making-32-bytes" if algorithm == "HS256" else "",
                       algorithm=algorithm)

    response = await anonymous_client.get(f"{API}/users/current", headers={"Authorization": f"Bearer {token}"})

    assert assert_harbor_error(response.status_code, response.content, [401])["code"] == "UNAUTHORIZED"


@pytest.fixture
async def other_projects_robot(client: httpx.AsyncClient, team: dict[str, Any]) -> tuple[str, str]:
    """robot$other+ci: everything on repositories and artifacts of project `other`, nothing else."""
    await create_project(client, "other")
    access = [{"resource": resource, "action": action} for resource, action in [
        ("project", "read"), ("repository", "list"), ("repository", "pull"), ("repository", "push"),
        ("repository", "delete"), ("artifact", "list"), ("artifact", "read"), ("artifact", "delete"),
        ("tag", "create"), ("tag", "delete")]]
    response = await client.post(f"{API}/robots", json={"name": "ci", "level": "project", "duration": -1,
                                                        "permissions": [{"kind": "project", "namespace": "other",
                                                                         "access": access}]})
    assert response.status_code == 201, response.text
    return response.json()["name"], response.json()["secret"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/projects/team"), ("GET", "/projects/team/repositories"),
    ("GET", "/projects/team/repositories/app/artifacts"), ("DELETE", "/projects/team/repositories/app/artifacts/1.0"),
    ("DELETE", "/projects/team/repositories/app/artifacts/1.0/tags/1.0"), ("DELETE", "/projects/team/repositories/app"),
])
async def test_another_projects_robot_is_refused_here(app: ASGIApp, client: httpx.AsyncClient,
                                                      other_projects_robot: tuple[str, str], method: str,
                                                      path: str) -> None:
    status, body = await raw_request(app, method, f"{API}{path}", auth=other_projects_robot)

    assert_harbor_error(status, body, [403, 404])
    assert (await client.get(f"{API}/projects/team/repositories/app/artifacts/1.0")).status_code == 200


async def test_another_projects_robot_gets_no_registry_access_here(anonymous_client: httpx.AsyncClient,
                                                                   other_projects_robot: tuple[str, str]) -> None:
    scope = "repository:team/app:pull,push"
    response = await anonymous_client.get("/service/token", auth=other_projects_robot,
                                          params={"service": "harbor-registry", "scope": scope})

    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["token"], options={"verify_signature": False})
    assert claims["access"] == [{"type": "repository", "name": "team/app", "actions": []}]


# --- names with traversal ------------------------------------------------------------------------------

TRAVERSALS = ["..", "%2e%2e", "%252e%252e", "..%2f..%2fetc%2fpasswd", "..%252f..%252fetc%252fpasswd",
              "%2fetc%2fpasswd", "%252fetc%252fpasswd", "%252e%252e%252fsecret-lab%252fprototype"]
NAMED_TARGETS = [
    ("GET", "/projects/{x}"), ("DELETE", "/projects/{x}"), ("GET", "/projects/{x}/summary"),
    ("GET", "/projects/{x}/repositories"), ("GET", "/projects/{x}/members"),
    ("GET", "/projects/team/metadatas/{x}"), ("DELETE", "/projects/team/metadatas/{x}"),
    ("GET", "/projects/team/repositories/{x}"), ("DELETE", "/projects/team/repositories/{x}"),
    ("GET", "/projects/team/repositories/{x}/artifacts"), ("GET", "/projects/team/repositories/app/artifacts/{x}"),
    ("DELETE", "/projects/team/repositories/app/artifacts/{x}"),
    ("GET", "/projects/team/repositories/app/artifacts/{x}/tags"),
    ("DELETE", "/projects/team/repositories/app/artifacts/1.0/tags/{x}"),
    ("GET", "/projects/team/repositories/app/artifacts/{x}/additions/build_history"),
    ("GET", "/projects/team/repositories/app/artifacts/1.0/additions/{x}"),
    ("DELETE", "/projects/team/repositories/app/artifacts/1.0/labels/{x}"),
    ("GET", "/labels/{x}"), ("DELETE", "/labels/{x}"), ("GET", "/users/{x}"), ("DELETE", "/users/{x}"),
    ("PUT", "/users/{x}/password"), ("GET", "/projects/team/members/{x}"), ("DELETE", "/robots/{x}"),
]


@pytest.mark.parametrize(("method", "template"), NAMED_TARGETS)
async def test_traversal_in_a_name_is_400_or_404_and_touches_nothing(app: ASGIApp, client: httpx.AsyncClient,
                                                                     team: dict[str, Any], method: str,
                                                                     template: str) -> None:
    answers = []
    for name in TRAVERSALS:
        status, body = await raw_request(app, method, API + template.replace("{x}", name), body=b"{}")
        answers.append((name, status))
        assert_harbor_error(status, body, [400, 404])

    for artifact in ("team/repositories/app/artifacts/1.0", "team/repositories/nested%252Ftool/artifacts/1.0",
                     "secret-lab/repositories/prototype/artifacts/1.0"):
        assert (await client.get(f"{API}/projects/{artifact}")).status_code == 200, (artifact, answers)
    labels = (await client.get(f"{API}/projects/team/repositories/app/artifacts/1.0?with_label=true")).json()["labels"]
    assert [label["id"] for label in labels] == [team["label_id"]]
    assert (await client.get(f"{API}/users/current")).status_code == 200


# --- NUL characters ------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/projects/te%00am", "/projects/team%2500", "/projects/team/repositories/app%2500",
    "/projects/team/repositories/app/artifacts/1.0%00", "/projects/team/repositories/app/artifacts/1.0/tags",
    "/projects?name=te%00am", "/projects?q=name%3D~%2500", "/repositories?q=name=a%2500b", "/search?q=%00",
    "/users/search?username=a%00", "/audit-logs?q=username=%00", "/labels?name=%00&scope=g",
])
async def test_a_nul_in_the_path_or_query_is_400(app: ASGIApp, team: dict[str, Any], target: str) -> None:
    path = target if "%00" in target or "%2500" in target else f"{target}?q=name=%2500"

    status, body = await raw_request(app, "GET", API + path)

    error = assert_harbor_error(status, body, [400])
    assert error == {"code": "BAD_REQUEST", "message": "the path or query contains a NUL character"}


@pytest.mark.parametrize(("method", "path", "document"), [
    ("POST", "/labels", {"name": "a\u0000b", "scope": "g"}),
    ("PUT", "/projects/team/repositories/app", {"description": "line\u0000"}),
    ("POST", "/users", {"username": "nul", "email": "n\u0000@example.org", "realname": "n", "password": "Passw0rdNul"}),
    ("POST", "/projects/team/members", {"role_id": 2, "member_user": {"username": "a\u0000"}}),
])
async def test_a_nul_in_a_json_body_is_400(client: httpx.AsyncClient, team: dict[str, Any], method: str,
                                           path: str, document: dict[str, Any]) -> None:
    response = await client.request(method, API + path, json=document)

    error = assert_harbor_error(response.status_code, response.content, [400])
    assert error == {"code": "BAD_REQUEST", "message": "the request body contains a NUL character"}


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client: httpx.AsyncClient,
                                                                   team: dict[str, Any]) -> None:
    response = await client.put(f"{API}/projects/team/repositories/app", json={"description": "C:\\u0000dir"})

    assert response.status_code == 200, response.text
    assert (await client.get(f"{API}/projects/team/repositories/app")).json()["description"] == "C:\\u0000dir"


# --- body size, JSON, types -------------------------------------------------------------------------------


async def test_a_10_mib_body_is_413_without_being_read(client: httpx.AsyncClient) -> None:
    body = b'{"project_name": "huge", "padding": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    started = time.monotonic()

    response = await client.post(f"{API}/projects", content=body, headers={"Content-Type": "application/json"})

    assert time.monotonic() - started < 2.0
    error = assert_harbor_error(response.status_code, response.content, [413])
    assert error["code"] == "REQUEST_ENTITY_TOO_LARGE"
    assert (await client.get(f"{API}/projects/huge")).status_code == 404


async def test_a_chunked_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"project_name": "chunked", "padding": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(f"{API}/projects", content=chunks(), headers={"Content-Type": "application/json"})

    assert assert_harbor_error(response.status_code, response.content, [413])["code"] == "REQUEST_ENTITY_TOO_LARGE"
    assert (await client.get(f"{API}/projects/chunked")).status_code == 404


async def test_a_body_under_1_mib_reaches_the_route_intact(client: httpx.AsyncClient) -> None:
    body = b'{"project_name": "padded"' + b" " * (900 * 1024) + b"}"

    response = await client.post(f"{API}/projects", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 201, response.text
    assert (await client.get(f"{API}/projects/padded")).json()["name"] == "padded"


@pytest.mark.parametrize("body", [b'{"project_name": ', b"not json", b'{"project_name": "a",}', b"\xff\xfe{}",
                                  b'{"project_name": "x"}{"extra": 1}'])
async def test_invalid_json_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(f"{API}/projects", content=body, headers={"Content-Type": "application/json"})

    assert assert_harbor_error(response.status_code, response.content, [400])["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(("method", "path", "document"), [
    ("POST", "/projects", {"project_name": 5}),
    ("POST", "/projects", {"project_name": "typed", "metadata": "public"}),
    ("POST", "/projects", ["typed"]),
    ("POST", "/projects", "typed"),
    ("POST", "/projects", {"project_name": "typed", "storage_limit": "lots"}),
    ("PUT", "/projects/team/repositories/app", {"description": ["a", "b"]}),
    ("POST", "/projects/team/members", {"role_id": "developer", "member_user": {"username": "admin"}}),
    ("POST", "/robots", {"name": "typed", "level": "project", "duration": "forever", "permissions": []}),
    ("POST", "/users", {"username": ["typed"], "email": "t@example.org", "realname": "t", "password": "Passw0rdT"}),
    ("POST", "/labels", {"name": {"nested": True}, "scope": "g"}),
    ("POST", "/projects/team/repositories/app/artifacts/1.0/labels", {"id": "one"}),
    ("POST", "/projects/team/repositories/app/artifacts/1.0/tags", {"name": 1.5}),
])
async def test_wrong_types_are_400(client: httpx.AsyncClient, team: dict[str, Any], method: str, path: str,
                                   document: Any) -> None:
    response = await client.request(method, API + path, json=document)

    assert assert_harbor_error(response.status_code, response.content, [400])["code"] == "BAD_REQUEST"


# --- integers out of range ------------------------------------------------------------------------------

BIG_IDS = [str(MAX_ROW_ID + 1), str(2**63), str(10**30), "-1", "0", "-" + str(2**63 + 1)]


@pytest.mark.parametrize(("method", "template"), [
    ("GET", "/projects/{n}"), ("GET", "/projects/{n}/summary"), ("GET", "/projects/team/members/{n}"),
    ("PUT", "/projects/team/members/{n}"), ("GET", "/users/{n}"), ("PUT", "/users/{n}"), ("DELETE", "/users/{n}"),
    ("PUT", "/users/{n}/cli_secret"), ("PUT", "/users/{n}/password"), ("GET", "/robots/{n}"),
    ("PATCH", "/robots/{n}"), ("DELETE", "/robots/{n}"), ("GET", "/labels/{n}"), ("PUT", "/labels/{n}"),
    ("DELETE", "/labels/{n}"), ("DELETE", "/projects/team/repositories/app/artifacts/1.0/labels/{n}"),
])
async def test_an_id_out_of_range_in_the_path_is_400_or_404(client: httpx.AsyncClient, team: dict[str, Any],
                                                            method: str, template: str) -> None:
    for number in BIG_IDS:
        response = await client.request(method, API + template.replace("{n}", number), json={"role_id": 2})
        assert_harbor_error(response.status_code, response.content, [400, 404])


@pytest.mark.parametrize("listing", ["/projects", "/repositories", "/projects/team/repositories",
                                     "/projects/team/repositories/app/artifacts", "/users", "/robots", "/labels",
                                     "/audit-logs", "/projects/team/members"])
async def test_paging_out_of_range_is_400(client: httpx.AsyncClient, team: dict[str, Any], listing: str) -> None:
    for query in ["page=0", "page=-1", "page_size=0", "page_size=1000", f"page={2**31}", f"page={10**30}",
                  "page=abc", "page_size=1e3"]:
        response = await client.get(f"{API}{listing}?{query}")

        error = assert_harbor_error(response.status_code, response.content, [400])
        assert error["code"] == "BAD_REQUEST", query


@pytest.mark.parametrize("target", [
    f"/repositories?q=project_id={MAX_ROW_ID + 1}", f"/projects/team/repositories?q=project_id={2**63}",
    f"/robots?q=Level=project,ProjectID={MAX_ROW_ID + 1}", f"/robots?q=ProjectID={10**30}",
    f"/projects/team/repositories/app/artifacts?q=labels=({MAX_ROW_ID + 1})",
    f"/projects/team/repositories/app/artifacts?q=labels=({10**30})",
    f"/labels?scope=p&project_id={MAX_ROW_ID + 1}", f"/projects?q=project_id={2**63}",
])
async def test_an_id_out_of_range_in_the_query_is_400(client: httpx.AsyncClient, team: dict[str, Any],
                                                      target: str) -> None:
    response = await client.get(API + target)

    assert assert_harbor_error(response.status_code, response.content, [400])["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(("path", "document"), [
    ("/projects/team/repositories/app/artifacts/1.0/labels", {"id": MAX_ROW_ID + 1}),
    ("/projects/team/repositories/app/artifacts/1.0/labels", {"id": 2**64}),
    ("/labels", {"name": "big", "scope": "p", "project_id": MAX_ROW_ID + 1}),
    ("/projects/team/members", {"role_id": MAX_ROW_ID + 1, "member_user": {"username": "admin"}}),
    ("/projects/team/members", {"role_id": 2, "member_user": {"user_id": 2**63}}),
    ("/projects", {"project_name": "bigquota", "storage_limit": 2**70}),
    ("/robots", {"name": "big", "level": "project", "duration": 2**63, "permissions": [
        {"kind": "project", "namespace": "team", "access": [{"resource": "repository", "action": "pull"}]}]}),
])
async def test_an_integer_out_of_range_in_a_body_is_4xx(client: httpx.AsyncClient, team: dict[str, Any], path: str,
                                                        document: dict[str, Any]) -> None:
    response = await client.post(API + path, json=document)

    assert_harbor_error(response.status_code, response.content, [400, 404])


# --- private names -----------------------------------------------------------------------------------------


async def test_search_names_no_private_project_to_a_non_member(outsider: httpx.AsyncClient,
                                                               team: dict[str, Any]) -> None:
    response = await outsider.get(f"{API}/search", params={"q": "secret"})

    assert response.status_code == 200
    assert response.json() == {"project": [], "repository": []}


async def test_statistics_count_no_private_project_for_a_non_member(outsider: httpx.AsyncClient,
                                                                    team: dict[str, Any]) -> None:
    response = await outsider.get(f"{API}/statistics")

    assert response.status_code == 200
    assert response.json() == {"private_project_count": 0, "private_repo_count": 0, "public_project_count": 0,
                               "public_repo_count": 0, "total_project_count": 0, "total_repo_count": 0,
                               "total_storage_consumption": 0}


@pytest.mark.parametrize("listing", ["/projects", "/repositories", "/audit-logs", "/labels?scope=g",
                                     "/projects?name=secret-lab", "/projects?q=name%3D~secret"])
async def test_listings_name_no_private_project_to_a_non_member(outsider: httpx.AsyncClient, team: dict[str, Any],
                                                                listing: str) -> None:
    response = await outsider.get(API + listing)

    assert response.status_code == 200, response.text
    assert "secret" not in response.text


@pytest.mark.parametrize("template", [
    "/projects/{p}", "/projects/{p}/summary", "/projects/{p}/members", "/projects/{p}/repositories",
    "/projects/{p}/repositories/prototype", "/projects/{p}/repositories/prototype/artifacts/1.0",
    "/projects/{p}/logs", "/projects/{p}/metadatas/public",
])
async def test_a_private_project_answers_non_members_like_a_missing_one(outsider: httpx.AsyncClient,
                                                                        anonymous_client: httpx.AsyncClient,
                                                                        team: dict[str, Any], template: str) -> None:
    for caller, expected in ((outsider, 404), (anonymous_client, 401)):
        existing = await caller.get(API + template.replace("{p}", "secret-lab"))
        missing = await caller.get(API + template.replace("{p}", "secret-lbb"))

        assert existing.status_code == missing.status_code == expected
        assert existing.text.replace("secret-lab", "secret-lbb") == missing.text


@pytest.mark.parametrize("template", ["/projects/{id}", "/labels?scope=p&project_id={id}",
                                      "/repositories?q=project_id={id}"])
async def test_a_private_project_id_answers_a_non_member_like_a_missing_one(outsider: httpx.AsyncClient,
                                                                            team: dict[str, Any],
                                                                            template: str) -> None:
    missing_id = team["secret_id"] + 1000
    existing = await outsider.get(API + template.replace("{id}", str(team["secret_id"])))
    missing = await outsider.get(API + template.replace("{id}", str(missing_id)))

    assert existing.status_code == missing.status_code
    assert existing.text.replace(str(team["secret_id"]), str(missing_id)) == missing.text
    assert "secret" not in existing.text


async def test_another_projects_robot_finds_no_private_project(app: ASGIApp, team: dict[str, Any],
                                                               other_projects_robot: tuple[str, str]) -> None:
    status, body = await raw_request(app, "GET", f"{API}/search?q=secret", auth=other_projects_robot)

    assert status == 200
    assert json.loads(body) == {"project": [], "repository": []}
