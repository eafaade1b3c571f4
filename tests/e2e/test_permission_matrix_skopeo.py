"""The permission matrix through a real `portside serve` and skopeo, the way CANFAR users pull and push.

For guest, developer, maintainer, a signed-in non-member and an anonymous caller, on a public and a
private project each holding `app:1.0`: `skopeo inspect` (pull), `skopeo copy` of 1.0 to a new tag
(push) and `skopeo delete` of an image of the cell's own (delete). What should succeed comes from
the same table as the in-process suite (tests/web/api/matrix.py: the token rows, since skopeo
fetches tokens); after each command the administrator checks the registry's state, so a "success"
that changed nothing, or a refusal that changed something, fails.

One server per module (its cells share the users and projects); names carry a random suffix so
that a shared PostgreSQL database may hold earlier runs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from web.api.matrix import ROLE_IDS, ROWS_BY_NAME, Visibility

from .servers import STOP_TIMEOUT, PortsideServer, free_port
from .skopeo import Skopeo

pytestmark = pytest.mark.e2e

API = "/api/v2.0"
PASSWORD = "Matr1xPassw0rd"
SUBJECTS = ("guest", "developer", "maintainer", "nonmember", "anonymous")
#: skopeo command -> the matrix row that decides it (skopeo always goes through /service/token).
COMMAND_ROWS = {"inspect": "pull-token", "copy": "push-token", "delete": "delete-manifest-token"}
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG, LAYER = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}', b"e2e layer"
#: Words skopeo prints when the registry refuses (401 or 403), as opposed to any other failure.
REFUSALS = ("unauthorized", "denied", "authentication required")

#: Cells where Portside is known to disagree with the matrix: cell id -> the bug.
KNOWN_BUGS: dict[str, str] = {}


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_bytes(marker: str) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "annotations": {"cell": marker},
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(CONFIG),
                   "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(LAYER),
                    "size": len(LAYER)}],
    }).encode()


@dataclass
class Scene:
    server: PortsideServer
    admin: httpx.Client
    suffix: str
    digests: dict[str, str]  # "<project>:<tag>" -> manifest digest

    def project(self, visibility: Visibility) -> str:
        return f"mx-{self.suffix}-{visibility}"

    def user(self, subject: str) -> str:
        return f"mx-{self.suffix}-{subject}"

    def ref(self, visibility: Visibility, tag: str) -> str:
        return f"docker://{self.server.host}/{self.project(visibility)}/app:{tag}"

    def push_image(self, project: str, tag: str) -> str:
        """Push app:`tag` (a manifest of its own, shared blobs) as the administrator; return its digest."""
        for blob in (CONFIG, LAYER):
            response = self.admin.post(f"/v2/{project}/app/blobs/uploads/", params={"digest": digest_of(blob)},
                                       content=blob)
            assert response.status_code == 201, response.text
        content = manifest_bytes(f"{project}:{tag}")
        response = self.admin.put(f"/v2/{project}/app/manifests/{tag}", content=content,
                                  headers={"Content-Type": OCI_MANIFEST})
        assert response.status_code == 201, response.text
        self.digests[f"{project}:{tag}"] = digest_of(content)
        return digest_of(content)

    def has_manifest(self, project: str, reference: str) -> bool:
        status = self.admin.get(f"/v2/{project}/app/manifests/{reference}").status_code
        assert status in (200, 404), status
        return status == 200


def created(response: httpx.Response) -> httpx.Response:
    assert response.status_code == 201, f"{response.request.method} {response.request.url}: {response.text}"
    return response


def build_scene(server: PortsideServer, admin: httpx.Client) -> Scene:
    """Users, the two projects with app:1.0, the memberships, and a victim image per delete cell."""
    scene = Scene(server, admin, uuid.uuid4().hex[:10], {})
    for subject in SUBJECTS[:-1]:
        created(admin.post(f"{API}/users", json={"username": scene.user(subject), "password": PASSWORD,
                                                  "email": f"{scene.user(subject)}@example.org",
                                                  "realname": subject}))
    for visibility in Visibility:
        project = scene.project(visibility)
        public = "true" if visibility is Visibility.PUBLIC else "false"
        created(admin.post(f"{API}/projects", json={"project_name": project, "metadata": {"public": public}}))
        scene.push_image(project, "1.0")
        for subject in SUBJECTS:
            scene.push_image(project, f"victim-{subject}")
            if subject in ROLE_IDS:
                created(admin.post(f"{API}/projects/{project}/members", json={
                    "role_id": ROLE_IDS[subject], "member_user": {"username": scene.user(subject)}}))
    return scene


@pytest.fixture(scope="module")
def portside_server(tmp_path_factory: pytest.TempPathFactory, shared_database_url: str | None,
                    shared_data_dir: Path | None) -> Iterator[PortsideServer]:
    """One server for the module, built as conftest's `start_portside` builds them."""
    tmp = tmp_path_factory.mktemp("matrix-e2e")
    data_dir = shared_data_dir or tmp / "portside-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = PortsideServer(free_port(), data_dir, tmp / "portside.log", shared_database_url)
    server.start()
    try:
        yield server
    finally:
        if server.is_running():
            server.stop(timeout=STOP_TIMEOUT)


@pytest.fixture(scope="module")
def scene(portside_server: PortsideServer) -> Iterator[Scene]:
    with httpx.Client(base_url=portside_server.url, auth=portside_server.credentials, timeout=30.0) as admin:
        yield build_scene(portside_server, admin)


@dataclass(frozen=True)
class Cell:
    command: str
    subject: str
    visibility: Visibility

    @property
    def id(self) -> str:
        return f"{self.command}-{self.subject}-{self.visibility}"

    @property
    def allowed(self) -> bool:
        return ROWS_BY_NAME[COMMAND_ROWS[self.command]].allows(self.subject, self.visibility)


def cell_params() -> list[object]:
    params: list[object] = []
    for command in COMMAND_ROWS:
        for subject in SUBJECTS:
            for visibility in Visibility:
                cell = Cell(command, subject, visibility)
                marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[cell.id])] if cell.id in KNOWN_BUGS else []
                params.append(pytest.param(cell, id=cell.id, marks=marks))
    return params


def run_skopeo(skopeo: Skopeo, scene: Scene, cell: Cell, *args: str) -> subprocess.CompletedProcess[bytes]:
    """skopeo as the cell's subject: `--creds` (or `--no-creds`) on each image, plain http."""
    creds = ["--no-creds"] if cell.subject == "anonymous" else [f"--creds={scene.user(cell.subject)}:{PASSWORD}"]
    command, *refs = args
    if command == "copy":
        flags = ["--retry-times", "0", "--src-tls-verify=false", "--dest-tls-verify=false",
                 *(f"--src{flag[1:]}" for flag in creds), *(f"--dest{flag[1:]}" for flag in creds)]
    else:
        flags = ["--tls-verify=false", *creds]
    return skopeo.run(command, *flags, *refs, check=False)


def outcome_matches(cell: Cell, result: subprocess.CompletedProcess[bytes]) -> None:
    stderr = result.stderr.decode(errors="replace")
    if cell.allowed:
        assert result.returncode == 0, f"skopeo {cell.command} as {cell.subject} should succeed:\n{stderr[-3000:]}"
    else:
        assert result.returncode != 0, f"skopeo {cell.command} as {cell.subject} should be refused"
        assert any(word in stderr.lower() for word in REFUSALS), f"failed, but not as a refusal:\n{stderr[-3000:]}"


@pytest.mark.parametrize("cell", cell_params())
def test_skopeo_matrix(portside_server: PortsideServer, scene: Scene, skopeo: Skopeo, cell: Cell) -> None:
    project = scene.project(cell.visibility)
    if cell.command == "inspect":
        result = run_skopeo(skopeo, scene, cell, "inspect", scene.ref(cell.visibility, "1.0"))
        outcome_matches(cell, result)
        if cell.allowed:
            assert json.loads(result.stdout)["Digest"] == scene.digests[f"{project}:1.0"]
    elif cell.command == "copy":
        tag = f"copied-{cell.subject}"
        result = run_skopeo(skopeo, scene, cell, "copy", scene.ref(cell.visibility, "1.0"),
                            scene.ref(cell.visibility, tag))
        outcome_matches(cell, result)
        assert scene.has_manifest(project, tag) is cell.allowed
    else:
        digest = scene.digests[f"{project}:victim-{cell.subject}"]
        result = run_skopeo(skopeo, scene, cell, "delete", scene.ref(cell.visibility, f"victim-{cell.subject}"))
        outcome_matches(cell, result)
        assert scene.has_manifest(project, digest) is not cell.allowed
    assert scene.has_manifest(project, "1.0"), "no cell may remove app:1.0"
