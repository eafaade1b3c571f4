"""A user's CLI secret and a project robot's secret as skopeo credentials, against a real
`portside serve`, through the real token flow (401 challenge, /service/token with Basic, Bearer).

The administrator creates a user through the API; the user generates a CLI secret, pushes with
it (which creates their project, where they are projectAdmin) and creates a pull-only project
robot with the CLI secret as API password. The robot can inspect and pull, and its push fails.

The project is created by a first blob upload with Basic credentials on /v2 (the guide's curl
style): a push that creates a project through a bearer token does not record the pusher as its
projectAdmin yet (the /v2 actor carries no user id for token callers).
"""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .commands import require_binary, run_command
from .images import NotebookImages, OciImage, OciLayout
from .servers import PortsideServer

pytestmark = pytest.mark.e2e

API = "/api/v2.0"
USER_PASSWORD = "E2ePassw0rd"


@dataclass(frozen=True)
class Team:
    """A user with a CLI secret, their project holding `<project>/notebook:1.0`, and its pull-only robot."""

    host: str
    project: str
    image: OciImage
    user_creds: str  # "user:cli secret"
    robot_creds: str  # "robot$<project>+puller:secret"

    def ref(self, repository: str, tag: str = "1.0") -> str:
        return f"docker://{self.host}/{self.project}/{repository}:{tag}"


def skopeo(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """skopeo with the policy check off; plain http on loopback (`--*tls-verify=false` in `args`)."""
    return run_command([require_binary("skopeo"), "--insecure-policy", *args], check=check)


def create_user_with_cli_secret(http: httpx.Client, admin: tuple[str, str]) -> tuple[str, str]:
    """Create a user as the administrator; the user generates a CLI secret. Returns (name, secret)."""
    username = f"e2e-user-{uuid.uuid4().hex[:10]}"
    created = http.post(f"{API}/users", auth=admin, json={
        "username": username, "password": USER_PASSWORD, "email": f"{username}@example.org", "realname": "E2E"})
    assert created.status_code == 201, created.text
    user_id = created.headers["location"].rsplit("/", 1)[1]
    generated = http.put(f"{API}/users/{user_id}/cli_secret", auth=(username, USER_PASSWORD))
    assert generated.status_code == 200, generated.text
    return username, generated.json()["secret"]


def create_pull_robot(http: httpx.Client, creds: tuple[str, str], project: str) -> str:
    """Create `robot$<project>+puller` (repository pull only); return "name:secret"."""
    response = http.post(f"{API}/robots", auth=creds, json={
        "name": "puller", "level": "project", "duration": 1, "permissions": [
            {"kind": "project", "namespace": project, "access": [{"resource": "repository", "action": "pull"}]}]})
    assert response.status_code == 201, response.text
    return f"{response.json()['name']}:{response.json()['secret']}"


def create_project_by_basic_push(http: httpx.Client, creds: tuple[str, str], project: str, image: OciImage) -> None:
    """Upload the image's config blob with Basic credentials: the project is created, owned by `creds`."""
    config = image.blob(image.config_digest)
    response = http.post(f"/v2/{project}/notebook/blobs/uploads/", params={"digest": image.config_digest},
                         content=config, auth=creds)
    assert response.status_code == 201, response.text


@pytest.fixture
def team(portside: PortsideServer, notebook_images: NotebookImages, project: str) -> Team:
    image = notebook_images.normalised
    with httpx.Client(base_url=portside.url, verify=portside.verify, timeout=30.0) as http:
        username, cli_secret = create_user_with_cli_secret(http, portside.credentials)
        user_creds = f"{username}:{cli_secret}"
        create_project_by_basic_push(http, (username, cli_secret), project, image)
        skopeo("copy", "--retry-times", "0", "--dest-tls-verify=false", f"--dest-creds={user_creds}",
               "--preserve-digests", image.oci_ref, f"docker://{portside.host}/{project}/notebook:1.0")
        robot_creds = create_pull_robot(http, (username, cli_secret), project)
    return Team(portside.host, project, image, user_creds, robot_creds)


def test_a_cli_secret_is_a_docker_password(team: Team) -> None:
    result = skopeo("inspect", "--tls-verify=false", f"--creds={team.user_creds}", "--raw", team.ref("notebook"))

    assert result.stdout == team.image.manifest_bytes


def test_a_pull_only_robot_inspects_and_pulls(team: Team, tmp_path: Path) -> None:
    raw = skopeo("inspect", "--tls-verify=false", f"--creds={team.robot_creds}", "--raw", team.ref("notebook"))
    pulled = OciLayout(tmp_path / "pulled")
    skopeo("copy", "--retry-times", "0", "--src-tls-verify=false", f"--src-creds={team.robot_creds}",
           "--preserve-digests", team.ref("notebook"), f"oci:{pulled.path}:1.0")

    assert raw.stdout == team.image.manifest_bytes
    assert pulled.descriptor("1.0")["digest"] == team.image.manifest_digest
    for layer in team.image.layer_digests:
        assert pulled.read_blob(layer) == team.image.blob(layer)


def test_a_pull_only_robot_cannot_push(team: Team) -> None:
    result = skopeo("copy", "--retry-times", "0", "--dest-tls-verify=false", f"--dest-creds={team.robot_creds}",
                    team.image.oci_ref, team.ref("robot-push"), check=False)

    assert result.returncode != 0
    assert "denied" in result.stderr.decode(errors="replace").lower()
    inspect = skopeo("inspect", "--tls-verify=false", f"--creds={team.user_creds}", team.ref("robot-push"),
                     check=False)
    assert inspect.returncode != 0
