# ruff: noqa: E501 - the guide's commands are copied verbatim, long lines included
"""The user guide's "CLI and API Usage" and "Troubleshooting" examples, run as written against a
real `portside serve` (shared/seed/, the CANFAR Harbor guide).

Each curl command is the guide's text, run by bash (so `$(echo -n username:password | base64)`
is evaluated as a reader's shell would), with only placeholders substituted: the host, the
credentials, the project (`myteam-<random>`: with PORTSIDE_TEST_DATABASE_URL the database outlives
the run), `image`/`tag`, `sha256:digest` and `YOUR_TOKEN`. To read the status the runner adds
`-sS --write-out '%{stderr}%{http_code}'` after `curl`, which changes nothing that is sent.

The HarborManager script is the guide's too, indentation restored and its constants substituted;
it runs with this interpreter (it needs `requests`, which oras-py already brings). Its
`time.sleep(60)` is made to return as soon as the scan has finished, so the test waits seconds,
not a minute.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .commands import require_binary
from .conftest import track_server
from .images import OCI_CONFIG, OCI_MANIFEST, OciLayout
from .servers import ADMIN_PASSWORD, ADMIN_USERNAME, STOP_TIMEOUT, PortsideServer, free_port
from .skopeo import Skopeo

pytestmark = pytest.mark.e2e

GUIDE_HOST = "https://images.canfar.net"
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
USER_PASSWORD = "Guide1Passw0rd"
OBSERVE = "curl -sS --write-out '%{stderr}%{http_code}' "
TIMEOUT = 60.0


@dataclass(frozen=True)
class Guide:
    """A server with the guide's cast: a developer of `team`, which holds `analysis-env:latest`
    pushed as a Docker v2 schema 2 image."""

    server: PortsideServer
    username: str
    team: str
    manifest: bytes  # as pushed, v2s2

    @property
    def credentials(self) -> str:
        return f"{self.username}:{USER_PASSWORD}"

    @property
    def manifest_digest(self) -> str:
        return sha256(self.manifest)

    @property
    def config_digest(self) -> str:
        digest: str = json.loads(self.manifest)["config"]["digest"]
        return digest


@dataclass(frozen=True)
class CurlResult:
    status: int
    stdout: bytes


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def analysis_env_layout(directory: Path) -> str:
    """An OCI layout holding `analysis-env:latest`: one gzip layer with a Debian os-release and a
    nonce (a new digest every run); returns skopeo's `oci:` reference to it."""
    layer_tar = io.BytesIO()
    with tarfile.open(fileobj=layer_tar, mode="w") as archive:
        for name, content in {"etc/os-release": b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n',
                              "opt/analysis/nonce": uuid.uuid4().hex.encode()}.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(content)
            archive.addfile(entry, io.BytesIO(content))
    diff = layer_tar.getvalue()
    layout = OciLayout(directory)
    directory.mkdir(parents=True)
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (directory / "index.json").write_text('{"schemaVersion": 2, "manifests": []}')
    layer = gzip.compress(diff, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"team": "myteam"}},
                         "rootfs": {"type": "layers", "diff_ids": [sha256(diff)]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": layout.write_blob(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": layout.write_blob(layer), "size": len(layer)}],
    }).encode()
    layout.tag("latest", OCI_MANIFEST, manifest)
    return f"oci:{directory}:latest"


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory, shared_database_url: str | None, shared_data_dir: Path | None,
          skopeo: Skopeo) -> Iterator[Guide]:
    workdir = tmp_path_factory.mktemp("guide")
    server = PortsideServer(free_port(), shared_data_dir or workdir / "data", workdir / "portside.log",
                            shared_database_url)
    server.start()
    try:
        yield _cast(server, skopeo, analysis_env_layout(workdir / "layout"))
    finally:
        server.stop(timeout=STOP_TIMEOUT)


def _cast(server: PortsideServer, skopeo: Skopeo, source: str) -> Guide:
    suffix = uuid.uuid4().hex[:10]
    username, team = f"guide-{suffix}", f"myteam-{suffix}"
    admin = (ADMIN_USERNAME, ADMIN_PASSWORD)
    with httpx.Client(base_url=f"{server.url}/api/v2.0", auth=admin, timeout=TIMEOUT) as api:
        created = api.post("/users", json={"username": username, "email": f"{username}@example.org",
                                           "realname": "Research User", "password": USER_PASSWORD})
        assert created.status_code == 201, created.text
        assert api.post("/projects", json={"project_name": team}).status_code == 201
        member = api.post(f"/projects/{team}/members", json={"role_id": 2, "member_user": {"username": username}})
        assert member.status_code == 201, member.text
    destination = f"docker://{server.host}/{team}/analysis-env:latest"
    skopeo.run("copy", "--retry-times", "0", "--format", "v2s2", "--dest-tls-verify=false",
               f"--dest-creds={username}:{USER_PASSWORD}", source, destination)
    manifest = skopeo.run("inspect", "--tls-verify=false", f"--creds={username}:{USER_PASSWORD}", "--raw",
                          destination).stdout
    assert json.loads(manifest)["mediaType"] == DOCKER_V2
    return Guide(server, username, team, manifest)


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest, guide: Guide) -> None:
    track_server(request, guide.server)


def run_guide_curl(guide: Guide, command: str, placeholders: Mapping[str, str] | None = None, *,
                   cwd: Path | None = None) -> CurlResult:
    """Run the guide's `command` with bash, its host, credentials, project and `placeholders` swapped."""
    require_binary("curl")
    shell = command.replace(GUIDE_HOST, guide.server.url).replace("username:password", guide.credentials)
    shell = shell.replace("myteam", guide.team)
    for placeholder, value in (placeholders or {}).items():
        shell = shell.replace(placeholder, value)
    assert shell.startswith("curl "), shell
    shell = OBSERVE + shell.removeprefix("curl ")
    result = subprocess.run(["bash", "-c", shell], capture_output=True, timeout=TIMEOUT, cwd=cwd, check=False,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return CurlResult(int(result.stderr.decode().strip()[-3:]), result.stdout)


def wait_for_scan(guide: Guide, seconds: float = 60.0) -> dict[str, object]:
    """Poll the guide's `/scan/overview` until the scan of analysis-env:latest has succeeded."""
    artifact = f"{guide.server.url}/api/v2.0/projects/{guide.team}/repositories/analysis-env/artifacts/latest"
    deadline = time.monotonic() + seconds
    with httpx.Client(auth=(guide.username, USER_PASSWORD), timeout=TIMEOUT) as http:
        while time.monotonic() < deadline:
            response = http.get(f"{artifact}/scan/overview")
            if response.status_code == 200 and response.json()["scan_status"] == "Error":
                log = http.get(f"{artifact}/scan/{response.json()['report_id']}/log")
                raise AssertionError(f"the scan failed: {response.text}\n{log.text}")
            if response.status_code == 200 and response.json()["scan_status"] == "Success":
                overview: dict[str, object] = response.json()
                return overview
            time.sleep(0.2)
    raise AssertionError(f"the scan of analysis-env:latest did not finish in {seconds} s")


# --- CLI and API Usage: Basic Image Operations -------------------------------------------------------

LIST_REPOSITORIES = """curl -X GET "https://images.canfar.net/api/v2.0/projects/myteam/repositories" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""
GET_REPOSITORY = """curl -X GET "https://images.canfar.net/api/v2.0/projects/myteam/repositories/analysis-env" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""
LIST_TAGS = """curl -X GET "https://images.canfar.net/api/v2.0/projects/myteam/repositories/analysis-env/artifacts" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""
GET_MANIFEST = """curl -X GET "https://images.canfar.net/v2/myteam/analysis-env/manifests/latest" \\
-H "Accept: application/vnd.docker.distribution.manifest.v2+json" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""
GET_BLOB = """curl -X GET "https://images.canfar.net/v2/myteam/analysis-env/blobs/sha256:digest" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""


def test_list_repositories_in_a_project(guide: Guide) -> None:
    result = run_guide_curl(guide, LIST_REPOSITORIES)

    assert result.status == 200
    [repository] = json.loads(result.stdout)
    assert (repository["name"], repository["artifact_count"]) == (f"{guide.team}/analysis-env", 1)


def test_get_repository_information(guide: Guide) -> None:
    result = run_guide_curl(guide, GET_REPOSITORY)

    assert result.status == 200
    repository = json.loads(result.stdout)
    assert (repository["name"], repository["artifact_count"]) == (f"{guide.team}/analysis-env", 1)


def test_list_tags_for_a_repository(guide: Guide) -> None:
    result = run_guide_curl(guide, LIST_TAGS)

    assert result.status == 200
    [artifact] = json.loads(result.stdout)
    assert artifact["digest"] == guide.manifest_digest
    assert artifact["manifest_media_type"] == DOCKER_V2
    assert [tag["name"] for tag in artifact["tags"]] == ["latest"]


def test_get_manifest_for_a_tag_through_the_v2_api(guide: Guide) -> None:
    result = run_guide_curl(guide, GET_MANIFEST)

    assert result.status == 200
    assert result.stdout == guide.manifest
    assert json.loads(result.stdout)["mediaType"] == DOCKER_V2


def test_get_a_blob_through_the_v2_api(guide: Guide) -> None:
    result = run_guide_curl(guide, GET_BLOB, {"sha256:digest": guide.config_digest})

    assert result.status == 200
    assert sha256(result.stdout) == guide.config_digest
    assert json.loads(result.stdout)["architecture"] == "amd64"


# --- Access Control: API Access -------------------------------------------------------------------

GET_TOKEN = """curl -X POST "https://images.canfar.net/api/v2.0/users/current" \\
-u "username:password" \\
-H "accept: application/json\""""
USE_TOKEN = """curl -X GET "https://images.canfar.net/api/v2.0/projects" \\
-H "Authorization: Bearer YOUR_TOKEN" \\
-H "accept: application/json\""""


def test_post_users_current_with_basic_credentials(guide: Guide) -> None:
    result = run_guide_curl(guide, GET_TOKEN)

    assert result.status == 200
    user = json.loads(result.stdout)
    assert (user["username"], user["sysadmin_flag"]) == (guide.username, False)


def test_a_registry_token_works_for_api_calls(guide: Guide) -> None:
    """The guide's "YOUR_TOKEN": a token from the registry's token service (`/service/token`)."""
    with httpx.Client(timeout=TIMEOUT) as http:
        issued = http.get(f"{guide.server.url}/service/token", auth=(guide.username, USER_PASSWORD),
                          params={"service": "harbor-registry", "scope": f"repository:{guide.team}/analysis-env:pull"})
    assert issued.status_code == 200, issued.text

    result = run_guide_curl(guide, USE_TOKEN, {"YOUR_TOKEN": issued.json()["token"]})

    assert result.status == 200
    assert guide.team in [project["name"] for project in json.loads(result.stdout)]


# --- Backup and Disaster Recovery ---------------------------------------------------------------------

EXPORT_METADATA = """curl -X GET "https://images.canfar.net/api/v2.0/projects/myteam/repositories/analysis-env/artifacts" \\
-H "Authorization: Basic $(echo -n username:password | base64)" \\
> repository-metadata.json"""


def test_export_image_metadata_to_a_file(guide: Guide, tmp_path: Path) -> None:
    result = run_guide_curl(guide, EXPORT_METADATA, cwd=tmp_path)

    assert result.status == 200
    [artifact] = json.loads((tmp_path / "repository-metadata.json").read_bytes())
    assert artifact["digest"] == guide.manifest_digest
    assert artifact["repository_name"] == f"{guide.team}/analysis-env"


# --- Troubleshooting -----------------------------------------------------------------------------------

CHECK_PERMISSIONS = """curl -X GET "https://images.canfar.net/api/v2.0/projects/myteam" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""
SERVICE_STATUS = """curl -X GET "https://images.canfar.net/api/v2.0/systeminfo\""""
TRIGGER_SCAN = """curl -X POST "https://images.canfar.net/api/v2.0/projects/myteam/repositories/image/artifacts/tag/scan" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""
SCAN_STATUS = """curl -X GET "https://images.canfar.net/api/v2.0/projects/myteam/repositories/image/artifacts/tag/scan/overview" \\
-H "Authorization: Basic $(echo -n username:password | base64)\""""
IMAGE_AND_TAG = {"/repositories/image/": "/repositories/analysis-env/", "/artifacts/tag/": "/artifacts/latest/"}


def test_check_repository_permissions(guide: Guide) -> None:
    result = run_guide_curl(guide, CHECK_PERMISSIONS)

    assert result.status == 200
    project = json.loads(result.stdout)
    assert (project["name"], project["current_user_role_id"], project["metadata"]["public"]) == (
        guide.team, 2, "false")


def test_check_harbor_service_status_anonymously(guide: Guide) -> None:
    result = run_guide_curl(guide, SERVICE_STATUS)

    assert result.status == 200
    info = json.loads(result.stdout)
    assert info["harbor_version"].startswith("v2.")
    assert info["auth_mode"] == "db_auth"
    assert "registry_url" not in info  # Harbor shows it to signed-in users only


def test_manually_trigger_a_scan(guide: Guide) -> None:
    result = run_guide_curl(guide, TRIGGER_SCAN, IMAGE_AND_TAG)

    assert result.status == 202
    assert result.stdout == b""
    assert wait_for_scan(guide)["scan_status"] == "Success"


def test_check_scan_status(guide: Guide) -> None:
    run_guide_curl(guide, TRIGGER_SCAN, IMAGE_AND_TAG)
    wait_for_scan(guide)

    result = run_guide_curl(guide, SCAN_STATUS, IMAGE_AND_TAG)

    assert result.status == 200
    overview = json.loads(result.stdout)
    assert overview["scan_status"] == "Success"
    assert set(overview["vulnerabilities"]) >= {"critical", "high", "medium", "low"}
    assert all(isinstance(count, int) for count in overview["vulnerabilities"].values())


# --- Automated Scanning and Deployment: the HarborManager script -----------------------------------

HARBOR_MANAGER = '''\
#!/usr/bin/env python3
# automated_scan_deploy.py
import requests
import time
import sys
from base64 import b64encode

class HarborManager:
    def __init__(self, registry_url, username, password):
        self.registry_url = registry_url
        self.auth_header = self._create_auth_header(username, password)

    def _create_auth_header(self, username, password):
        credentials = f"{username}:{password}"
        encoded_credentials = b64encode(credentials.encode()).decode()
        return {"Authorization": f"Basic {encoded_credentials}"}

    def scan_repository(self, project, repository):
        """Trigger vulnerability scan for repository."""
        url = f"{self.registry_url}/api/v2.0/projects/{project}/repositories/{repository}/artifacts"
        response = requests.get(url, headers=self.auth_header)
        if response.status_code != 200:
            print(f"Failed to get artifacts: {response.status_code}")
            return False
        artifacts = response.json()
        for artifact in artifacts:
            scan_url = f"{url}/{artifact['digest']}/scan"
            scan_response = requests.post(scan_url, headers=self.auth_header)
            if scan_response.status_code == 202:
                print(f"Scan triggered for {artifact['digest'][:12]}")
            else:
                print(f"Scan failed for {artifact['digest'][:12]}: {scan_response.status_code}")
        return True

    def get_vulnerability_report(self, project, repository, tag="latest"):
        """Get vulnerability scan results."""
        url = f"{self.registry_url}/api/v2.0/projects/{project}/repositories/{repository}/artifacts/{tag}/scan/overview"
        response = requests.get(url, headers=self.auth_header)
        if response.status_code == 200:
            return response.json()
        else:
            print(f"Failed to get scan results: {response.status_code}")
            return None

    def check_vulnerabilities(self, scan_results, max_critical=0, max_high=5):
        """Check if vulnerability levels are within acceptable limits."""
        if not scan_results:
            return False
        # Extract vulnerability counts
        summary = scan_results.get('vulnerabilities', {})
        critical = summary.get('critical', 0)
        high = summary.get('high', 0)
        print(f"Vulnerabilities found - Critical: {critical}, High: {high}")
        return critical <= max_critical and high <= max_high

# Usage example
def main():
    harbor = HarborManager(
        "https://images.canfar.net",
        "your-username",
        "your-password"
    )
    project = "myteam"
    repository = "analysis-env"
    # Trigger scan
    if harbor.scan_repository(project, repository):
        print("Scan triggered, waiting for completion...")
        time.sleep(60)  # Wait for scan to complete
    # Check results
    results = harbor.get_vulnerability_report(project, repository)
    if harbor.check_vulnerabilities(results):
        print("✅ Vulnerability check passed")
        sys.exit(0)
    else:
        print("❌ Vulnerability check failed")
        sys.exit(1)

if __name__ == "__main__":
    main()
'''

# Runs the script with time.sleep returning once the scan is done (argv: script, overview URL, user, password).
SCRIPT_RUNNER = '''\
import runpy, sys, time
import requests

script, overview, username, password = sys.argv[1:5]
real_sleep = time.sleep

def sleep_until_scanned(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = requests.get(overview, auth=(username, password), timeout=30)
        if response.status_code == 200 and response.json().get("scan_status") in ("Success", "Error"):
            return
        real_sleep(0.2)

time.sleep = sleep_until_scanned
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
'''


def run_harbor_manager(guide: Guide, tmp_path: Path, password: str) -> subprocess.CompletedProcess[str]:
    script = (HARBOR_MANAGER.replace("https://images.canfar.net", guide.server.url)
              .replace("your-username", guide.username).replace("your-password", password)
              .replace('"myteam"', f'"{guide.team}"'))
    path = tmp_path / "automated_scan_deploy.py"
    path.write_text(script)
    overview = (f"{guide.server.url}/api/v2.0/projects/{guide.team}/repositories/analysis-env/artifacts/latest"
                "/scan/overview")
    return subprocess.run([sys.executable, "-c", SCRIPT_RUNNER, str(path), overview, guide.username, password],
                          capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)


def test_harbor_manager_scans_and_passes_the_vulnerability_check(guide: Guide, tmp_path: Path) -> None:
    result = run_harbor_manager(guide, tmp_path, USER_PASSWORD)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"Scan triggered for {guide.manifest_digest[:12]}",
        "Scan triggered, waiting for completion...",
        "Vulnerabilities found - Critical: 0, High: 0",
        "✅ Vulnerability check passed",
    ]


def test_harbor_manager_with_a_wrong_password_fails_the_check(guide: Guide, tmp_path: Path) -> None:
    result = run_harbor_manager(guide, tmp_path, "Wrong1Passw0rd")

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "Failed to get artifacts: 401",
        "Failed to get scan results: 401",
        "❌ Vulnerability check failed",
    ]
