"""oras-py logs in to a real `portside serve` with a user's password, a user's CLI secret and a
robot account, and pushes and pulls an artifact through the token flow.

`login()` is oras-py's own (with no Docker daemon it writes the credentials to the config file
it is given, here one in the test's directory). Tokens are primed per repository before the first
request (clients.md §4.3: oras-py cannot upgrade a token's scope after a 401).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import track_server
from .oras_client import FailFastOrasClient
from .servers import ADMIN_PASSWORD, ADMIN_USERNAME, STOP_TIMEOUT, PortsideServer, free_port

pytestmark = pytest.mark.e2e

USER_PASSWORD = "Oras1Passw0rd"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Team:
    """A developer of `project` (password and CLI secret) and the project's robots."""

    server: PortsideServer
    project: str
    username: str
    cli_secret: str
    robot: tuple[str, str]  # pull and push
    pull_robot: tuple[str, str]  # pull only


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, shared_database_url: str | None,
         shared_data_dir: Path | None) -> Iterator[Team]:
    workdir = tmp_path_factory.mktemp("oras-login")
    server = PortsideServer(free_port(), shared_data_dir or workdir / "data", workdir / "portside.log",
                            shared_database_url)
    server.start()
    try:
        yield _team(server)
    finally:
        server.stop(timeout=STOP_TIMEOUT)


def _robot(api: httpx.Client, project: str, name: str, actions: list[str]) -> tuple[str, str]:
    access = [{"resource": "repository", "action": action} for action in actions]
    created = api.post("/robots", json={"name": name, "level": "project", "duration": 1, "permissions": [
        {"kind": "project", "namespace": project, "access": access}]})
    assert created.status_code == 201, created.text
    return created.json()["name"], created.json()["secret"]


def _team(server: PortsideServer) -> Team:
    suffix = uuid.uuid4().hex[:10]
    username, project = f"oras-{suffix}", f"oras-team-{suffix}"
    with httpx.Client(base_url=f"{server.url}/api/v2.0", auth=(ADMIN_USERNAME, ADMIN_PASSWORD),
                      timeout=TIMEOUT) as api:
        created = api.post("/users", json={"username": username, "email": f"{username}@example.org",
                                           "realname": "ORAS User", "password": USER_PASSWORD})
        assert created.status_code == 201, created.text
        user_id = created.headers["location"].rsplit("/", 1)[1]
        assert api.post("/projects", json={"project_name": project}).status_code == 201
        member = api.post(f"/projects/{project}/members", json={"role_id": 2, "member_user": {"username": username}})
        assert member.status_code == 201, member.text
        secret = api.put(f"/users/{user_id}/cli_secret", auth=(username, USER_PASSWORD))
        assert secret.status_code == 200, secret.text
        robot = _robot(api, project, "builder", ["pull", "push"])
        pull_robot = _robot(api, project, "reader", ["pull"])
    return Team(server, project, username, secret.json()["secret"], robot, pull_robot)


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest, team: Team) -> None:
    track_server(request, team.server)


def logged_in(team: Team, credentials: tuple[str, str], config: Path) -> FailFastOrasClient:
    client = FailFastOrasClient(hostname=team.server.host)
    answer = client.login(credentials[0], credentials[1], hostname=team.server.host, config_path=str(config))
    assert answer.get("Status") == "Login Succeeded", answer
    return client


def push_files(client: FailFastOrasClient, target: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Push one text file as an artifact; returns the file's bytes."""
    content = f"pushed by oras-py {uuid.uuid4().hex}\n".encode()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "notes.txt").write_bytes(content)
    monkeypatch.chdir(workdir)  # oras-py pushes paths relative to the working directory
    pushed = client.push(target=target, files=["notes.txt:text/plain"], quiet=True)
    assert pushed.status_code == 201, pushed.text
    return content


def pull_file(client: FailFastOrasClient, target: str, outdir: Path) -> bytes:
    [path] = client.pull(target=target, outdir=str(outdir))
    return Path(path).read_bytes()


@pytest.mark.parametrize("secret_kind", ["password", "cli secret", "robot"])
def test_oras_logs_in_pushes_and_pulls(team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       secret_kind: str) -> None:
    credentials = {"password": (team.username, USER_PASSWORD), "cli secret": (team.username, team.cli_secret),
                   "robot": team.robot}[secret_kind]
    repository = f"{team.project}/notes-{uuid.uuid4().hex[:6]}"
    target = f"{team.server.host}/{repository}:v1"
    client = logged_in(team, credentials, tmp_path / "config.json")
    client.use_repository(repository)

    content = push_files(client, target, tmp_path / "push", monkeypatch)
    pulled = pull_file(client, target, tmp_path / "pull")

    assert pulled == content
    assert client.get_tags(f"{team.server.host}/{repository}") == ["v1"]
    saved = json.loads((tmp_path / "config.json").read_text())
    assert team.server.host in saved["auths"]


def test_a_pull_only_robot_pulls_but_cannot_push(team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repository = f"{team.project}/shared-{uuid.uuid4().hex[:6]}"
    target = f"{team.server.host}/{repository}:v1"
    developer = logged_in(team, (team.username, team.cli_secret), tmp_path / "developer.json")
    developer.use_repository(repository)
    content = push_files(developer, target, tmp_path / "push", monkeypatch)
    reader = logged_in(team, team.pull_robot, tmp_path / "reader.json")
    reader.use_repository(repository, "pull")

    assert pull_file(reader, target, tmp_path / "pull") == content
    # The upload's POST answers 401 (the token grants no push), which oras-py raises as a ValueError.
    with pytest.raises(ValueError, match="the token does not grant this access"):
        push_files(reader, f"{team.server.host}/{repository}:v2", tmp_path / "push2", monkeypatch)
    assert developer.get_tags(f"{team.server.host}/{repository}") == ["v1"]


def test_oras_with_a_wrong_password_gets_no_token(team: Team, tmp_path: Path) -> None:
    client = logged_in(team, (team.username, "Wrong1Passw0rd"), tmp_path / "config.json")

    with pytest.raises(AssertionError, match="gave no token"):
        client.use_repository(f"{team.project}/notes")
