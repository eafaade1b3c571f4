"""The permission matrix, cell by cell, through the real HTTP API in process.

Every (row, subject, project) of `matrix.ROWS` is one test, e.g. `test_matrix[push-basic-developer-private]`:
the subject makes the row's request and must get the row's allowed status, or the denial the matrix
prescribes; then the administrator observes the effect (the pushed tag exists, the deleted manifest
is gone, the member was added...), so a 2xx that did nothing or a refusal that did something fails.

Everything is set up once per module, on a module-scoped event loop, through the API: the
administrator creates the users; the user `projectAdmin` creates every project (so it is their
projectAdmin, and the system administrator is a member of none: its column shows the sysadmin
flag alone); the administrator adds the members. Cells that change things get a victim of their
own (an image, a tag, a repository, or a whole project of the cell's visibility where the subject
has its role, for the member and project rows), so cells never depend on each other or their order.
The fixtures mirror tests/conftest.py's function-scoped `settings`/`services`/`app`: argon2 makes
per-test set-up far too slow for ~500 cells.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import httpx
import jwt
import pytest
import pytest_asyncio
from matrix import ROLE_IDS, ROWS, ROWS_BY_NAME, SUBJECTS, Row, Surface, Visibility, cell_id
from starlette.types import ASGIApp

from fixture_values import ADMIN_PASSWORD
from portside.app import create_app
from portside.container import build_services
from portside.core.config import Settings
from portside.services.bundle import Services
from portside.store import members as member_store
from portside.store import repositories as repository_store
from portside.store import users as user_store
from portside.store.migrate import upgrade
from shared_database import empty_tables as _empty_tables

pytestmark = pytest.mark.asyncio(loop_scope="module")

PASSWORD = "Matr1xPassw0rd"  # every subject's password (meets the policy)
PROJECT_NAMES = {Visibility.PUBLIC: "matrix-public", Visibility.PRIVATE: "matrix-private"}
REPO, TAG = "app", "1.0"
API = "/api/v2.0"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG, LAYER = b'{"architecture":"amd64","os":"linux"}', b"the matrix layer"
IMAGE_VICTIM_ROWS = ("delete-artifact", "delete-manifest-basic", "delete-manifest-token")
#: Member rows, each in a project of the cell's own: the role of CANDIDATE before the cell (None: not a
#: member) and the role the subject asks for (None: removal).
MEMBER_ROWS: dict[str, tuple[int | None, int | None]] = {
    "add-member": (None, ROLE_IDS["developer"]), "add-project-admin": (None, ROLE_IDS["projectAdmin"]),
    "remove-member": (ROLE_IDS["developer"], None), "remove-project-admin": (ROLE_IDS["projectAdmin"], None),
    "change-member-role": (ROLE_IDS["developer"], ROLE_IDS["maintainer"]),
    "promote-to-project-admin": (ROLE_IDS["developer"], ROLE_IDS["projectAdmin"]),
    "demote-project-admin": (ROLE_IDS["projectAdmin"], ROLE_IDS["developer"]),
}
OWN_PROJECT_ROWS = (*MEMBER_ROWS, "update-project", "delete-project", "delete-nonempty-project")
CANDIDATE = "candidate"  # the user the member rows add, change or remove
OWNER = "projectAdmin"  # creates every project, and so is its projectAdmin
SANDBOX = "matrix-sandbox"  # private; every signed-in subject is a developer there

#: Cells where Portside is known to disagree with the matrix: cell id -> the bug.
KNOWN_BUGS: dict[str, str] = {}


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_bytes(layer: bytes, marker: str = "") -> bytes:
    """An OCI image manifest over CONFIG and `layer`; `marker` (an annotation) makes its digest unique."""
    body: dict[str, Any] = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(CONFIG),
                   "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(layer),
                    "size": len(layer)}],
    }
    if marker:
        body["annotations"] = {"cell": marker}
    return json.dumps(body).encode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Cell:
    row: Row
    subject: str
    visibility: Visibility

    @property
    def id(self) -> str:
        return cell_id(self.row, self.subject, self.visibility)

    @property
    def project(self) -> str:
        return PROJECT_NAMES[self.visibility]

    @property
    def repository(self) -> str:
        return f"{self.project}/{REPO}"

    @property
    def victim(self) -> str:
        """The name of the cell's own project or repository."""
        return f"{self.row.name}-{self.subject.lower()}-{self.visibility}"

    def allows(self, row_name: str) -> bool:
        return ROWS_BY_NAME[row_name].allows(self.subject, self.visibility)


CELLS = [Cell(row, subject, visibility) for row in ROWS for subject in SUBJECTS for visibility in Visibility]


# --- the registry and the administrator's set-up, once per module ---------------------------------

@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory,
                   migrated_shared_database: str | None) -> AsyncIterator[tuple[Services, ASGIApp]]:
    """Services and app on a fresh database, as conftest's `services` and `app` build them."""
    tmp = tmp_path_factory.mktemp("matrix")
    if migrated_shared_database:
        await _empty_tables(migrated_shared_database)
        url = migrated_shared_database
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'portside.db'}"
        await anyio.to_thread.run_sync(upgrade, url)
    settings = Settings(data_dir=tmp / "data", database_url=url, access_log=False, storage_fsync=False,
                        admin_password=ADMIN_PASSWORD, auto_create_projects=True)
    services = await build_services(settings)
    await services.start()
    try:
        yield services, create_app(settings, services)
    finally:
        await services.close()


class AdminSetup:
    """What the administrator does to set the scene, through the API.

    `api` (the administrator) and `owner` (the user OWNER, who creates the projects) send bearer
    tokens rather than Basic credentials: membership changes empty the authenticator's cache, and
    re-checking an argon2 hash after each one would dominate the run time. `registry` is the
    administrator with Basic credentials, for /v2.
    """

    def __init__(self, api: httpx.AsyncClient, registry: httpx.AsyncClient, services: Services) -> None:
        self.api, self.registry, self.services = api, registry, services
        self.owner = api

    async def create_user(self, username: str) -> None:
        response = await self.api.post(f"{API}/users", json={
            "username": username, "password": PASSWORD, "email": f"{username}@example.org", "realname": username})
        assert response.status_code == 201, response.text

    async def create_project(self, name: str, visibility: Visibility) -> int:
        """Create the project; return its id (from the Location header)."""
        public = "true" if visibility is Visibility.PUBLIC else "false"
        response = await self.owner.post(f"{API}/projects", json={"project_name": name, "metadata": {"public": public}})
        assert response.status_code == 201, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])

    async def add_member(self, project: str, username: str, role_id: int) -> int:
        """Make `username` a member; return the member id (from the Location header)."""
        response = await self.api.post(f"{API}/projects/{project}/members",
                                       json={"role_id": role_id, "member_user": {"username": username}})
        assert response.status_code == 201, response.text
        return int(response.headers["location"].rsplit("/", 1)[1])

    async def add_in_role(self, project: str, subject: str) -> None:
        """Give `subject` its role in `project` (nothing for anonymous, the non-member, the administrator,
        and the OWNER, projectAdmin as the project's creator)."""
        if subject in ROLE_IDS and subject != OWNER:
            await self.add_member(project, subject, ROLE_IDS[subject])

    async def push_image(self, project: str, tag: str, marker: str = "", repo: str = REPO) -> str:
        """Push `repo`:`tag` (CONFIG, LAYER; `marker` makes the manifest unique); return its digest."""
        for blob in (CONFIG, LAYER):
            response = await self.registry.post(f"/v2/{project}/{repo}/blobs/uploads/?digest={digest_of(blob)}",
                                                content=blob)
            assert response.status_code == 201, response.text
        content = manifest_bytes(LAYER, marker)
        response = await self.registry.put(f"/v2/{project}/{repo}/manifests/{tag}", content=content,
                                           headers={"Content-Type": OCI_MANIFEST})
        assert response.status_code == 201, response.text
        return digest_of(content)

    async def has_manifest(self, project: str, reference: str, repo: str = REPO) -> bool:
        status = (await self.registry.get(f"/v2/{project}/{repo}/manifests/{reference}")).status_code
        assert status in (200, 404), status
        return status == 200

    async def role_of(self, project: str, username: str) -> int | None:
        """The user's role id in the project, read from the database."""
        async with self.services.db.read() as conn:
            project_id = await repository_store.find_project_id(conn, project)
            user = await user_store.find_by_name(conn, username)
            assert project_id is not None and user is not None, (project, username)
            return await member_store.role_of(conn, project_id, user.id)

    async def project_exists(self, name: str) -> bool:
        async with self.services.db.read() as conn:
            return await repository_store.find_project_id(conn, name) is not None

    async def project_metadata(self, name: str) -> dict[str, str]:
        async with self.services.db.read() as conn:
            project = await repository_store.find_project(conn, name)
        assert project is not None, name
        return project.metadata

    async def has_blob(self, repository: str, digest: str) -> bool:
        status = (await self.registry.head(f"/v2/{repository}/blobs/{digest}")).status_code
        assert status in (200, 404), status
        return status == 200


async def prepare_content(setup: AdminSetup, cell: Cell) -> Any:
    """A cell's victim, before any membership (which would empty the credential cache)."""
    if cell.row.name in IMAGE_VICTIM_ROWS:
        return await setup.push_image(cell.project, f"victim-{cell.id}", cell.id)  # its digest
    if cell.row.name in ("delete-tag", "delete-tag-v2"):
        await setup.push_image(cell.project, f"d-{cell.id}")  # one more tag on the 1.0 artifact
    if cell.row.name == "delete-repository":
        await setup.push_image(cell.project, TAG, repo=cell.victim)
    if cell.row.name in OWN_PROJECT_ROWS:
        await setup.create_project(cell.victim, cell.visibility)
        if cell.row.name == "delete-nonempty-project":
            await setup.push_image(cell.victim, TAG)
    return None


async def prepare_membership(setup: AdminSetup, cell: Cell) -> Any:
    if cell.row.name in OWN_PROJECT_ROWS:
        await setup.add_in_role(cell.victim, cell.subject)
    role_before = MEMBER_ROWS.get(cell.row.name, (None, None))[0]
    if role_before is not None:
        return await setup.add_member(cell.victim, CANDIDATE, role_before)  # the member id
    return None


@dataclass
class World:
    setup: AdminSetup
    clients: dict[str, httpx.AsyncClient]  # subject -> a client with its Basic credentials (none: anonymous)
    project_ids: dict[Visibility, int]
    prepared: dict[str, Any] = field(default_factory=dict)  # cell id -> what its preparation returned

    @property
    def anonymous(self) -> httpx.AsyncClient:
        return self.clients["anonymous"]


async def bearer_client(basic: httpx.AsyncClient, transport: httpx.ASGITransport) -> httpx.AsyncClient:
    """A client sending the bearer token /service/token gives `basic`'s user (/api/v2.0 takes it, whatever
    its registry scope)."""
    response = await basic.get("/service/token", params={"scope": f"repository:{CELLS[0].repository}:pull"})
    assert response.status_code == 200, response.text
    return httpx.AsyncClient(transport=transport, base_url="http://registry.test",
                             headers=bearer(response.json()["token"]))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(registry: tuple[Services, ASGIApp]) -> AsyncIterator[World]:
    services, app = registry
    transport = httpx.ASGITransport(app=app)
    clients = {subject: httpx.AsyncClient(transport=transport, base_url="http://registry.test",
                                          auth=None if subject == "anonymous" else (subject, PASSWORD))
               for subject in SUBJECTS}
    clients["admin"].auth = httpx.BasicAuth("admin", ADMIN_PASSWORD)
    setup = AdminSetup(await bearer_client(clients["admin"], transport), clients["admin"], services)
    try:
        yield await populate(setup, clients, transport)
    finally:
        for client in dict.fromkeys((*clients.values(), setup.api, setup.owner)):
            await client.aclose()


async def populate(setup: AdminSetup, clients: dict[str, httpx.AsyncClient],
                   transport: httpx.ASGITransport) -> World:
    """Users, projects, images, victims, then every membership (each one empties the credential cache)."""
    for username in ("nonmember", *ROLE_IDS, CANDIDATE):
        await setup.create_user(username)
    setup.owner = await bearer_client(clients[OWNER], transport)
    world = World(setup, clients, {})
    for visibility, name in PROJECT_NAMES.items():
        world.project_ids[visibility] = await setup.create_project(name, visibility)
        await setup.push_image(name, TAG)
    await setup.create_project(SANDBOX, Visibility.PRIVATE)
    for cell in CELLS:
        world.prepared[cell.id] = await prepare_content(setup, cell)
    for name in PROJECT_NAMES.values():
        for subject in ROLE_IDS:
            await setup.add_in_role(name, subject)
    for subject in ("nonmember", *ROLE_IDS):
        if subject != OWNER:
            await setup.add_member(SANDBOX, subject, ROLE_IDS["developer"])
    for cell in CELLS:
        world.prepared[cell.id] = await prepare_membership(setup, cell) or world.prepared[cell.id]
    await setup.services.flush()  # the audit log entries of the set-up (written in batches)
    return world


# --- one action per row ---------------------------------------------------------------------------

Observation = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class Outcome:
    """The decisive response, and how to observe whether the action took effect (or showed the resource)."""

    response: httpx.Response
    observe: Observation


def constant(value: bool) -> Observation:
    async def observed() -> bool:
        return value
    return observed


Action = Callable[[World, Cell], Awaitable[Outcome]]
ACTIONS: dict[str, Action] = {}


def action(*names: str) -> Callable[[Action], Action]:
    def register(function: Action) -> Action:
        for name in names:
            assert name in ROWS_BY_NAME, name
            ACTIONS[name] = function
        return function
    return register


#: Token action -> the row whose cell says whether a token may carry it.
REGISTRY_ACTION_ROWS = {"pull": "pull-token", "push": "push-token", "delete": "delete-manifest-token"}


async def token_for(world: World, cell: Cell, actions: str, expected: list[str]) -> str:
    """A token from /service/token for `repository:<p>/app:<actions>`; asserts it grants exactly `expected`."""
    response = await world.clients[cell.subject].get("/service/token", params={
        "service": "harbor-registry", "scope": f"repository:{cell.repository}:{actions}"})
    assert response.status_code == 200, f"/service/token: {response.status_code} {response.text}"
    token = str(response.json()["token"])
    access = jwt.decode(token, options={"verify_signature": False})["access"]
    assert access == [{"type": "repository", "name": cell.repository, "actions": expected}], access
    return token


@action("view-project")
async def view_project(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"{API}/projects/{cell.project}")
    return Outcome(response, constant(response.is_success and response.json().get("name") == cell.project))


@action("view-project-by-id")
async def view_project_by_id(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"{API}/projects/{world.project_ids[cell.visibility]}")
    return Outcome(response, constant(response.is_success and response.json().get("name") == cell.project))


def names_in(response: httpx.Response, key: str = "name") -> list[str]:
    return [item[key] for item in response.json()] if response.is_success else []


@action("list-projects")
async def list_projects(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"{API}/projects", params={"name": cell.project})
    return Outcome(response, constant(cell.project in names_in(response)))


@action("search")
async def search(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"{API}/search", params={"q": cell.project})
    found = [project["name"] for project in response.json()["project"]] if response.is_success else []
    return Outcome(response, constant(cell.project in found))


@action("list-artifacts")
async def list_artifacts(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"{API}/projects/{cell.project}/repositories/{REPO}/artifacts",
                                                     params={"page_size": 100})
    digests = names_in(response, "digest")
    return Outcome(response, constant(digest_of(manifest_bytes(LAYER)) in digests))


@action("list-repositories", "list-all-repositories")
async def list_repositories(world: World, cell: Cell) -> Outcome:
    path = f"{API}/repositories"
    if cell.row.name == "list-repositories":
        path = f"{API}/projects/{cell.project}/repositories"
    response = await world.clients[cell.subject].get(path, params={"page_size": 100})
    return Outcome(response, constant(cell.repository in names_in(response)))


@action("pull-basic", "pull-token")
async def pull(world: World, cell: Cell) -> Outcome:
    client, headers = world.clients[cell.subject], None
    if cell.row.name == "pull-token":
        every = [a for a, row in REGISTRY_ACTION_ROWS.items() if cell.allows(row)]
        await token_for(world, cell, "*", every)
        client, headers = world.anonymous, bearer(await token_for(world, cell, "pull", [
            "pull"] if cell.allows("pull-token") else []))
    response = await client.get(f"/v2/{cell.repository}/manifests/{TAG}", headers=headers)
    return Outcome(response, constant(response.is_success and response.content == manifest_bytes(LAYER)))


@action("pull-blob")
async def pull_blob(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"/v2/{cell.repository}/blobs/{digest_of(LAYER)}")
    return Outcome(response, constant(response.is_success and response.content == LAYER))


@action("list-tags-v2")
async def list_tags_v2(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"/v2/{cell.repository}/tags/list", params={"n": 1000})
    return Outcome(response, constant(response.is_success and TAG in response.json()["tags"]))


@action("push-basic", "push-token")
async def push(world: World, cell: Cell) -> Outcome:
    """Upload a layer of its own and PUT a manifest tagged `pushed-<cell>`; decisive: the first refusal."""
    client, headers = world.clients[cell.subject], {}
    if cell.row.name == "push-token":
        expected = [a for a, row in REGISTRY_ACTION_ROWS.items() if a != "delete" and cell.allows(row)]
        client, headers = world.anonymous, bearer(await token_for(world, cell, "pull,push", expected))
    layer, tag = f"pushed by {cell.id}".encode(), f"pushed-{cell.id}"
    response = await client.post(f"/v2/{cell.repository}/blobs/uploads/?digest={digest_of(layer)}", content=layer,
                                 headers=headers)
    if response.status_code == 201:
        response = await client.put(f"/v2/{cell.repository}/manifests/{tag}", content=manifest_bytes(layer),
                                    headers={**headers, "Content-Type": OCI_MANIFEST})
    return Outcome(response, lambda: world.setup.has_manifest(cell.project, tag))


@action("copy-artifact", "copy-artifact-out")
async def copy_artifact(world: World, cell: Cell) -> Outcome:
    """Copy app:1.0 into a new repository of the project itself, or of the sandbox."""
    target = cell.project if cell.row.name == "copy-artifact" else SANDBOX
    response = await world.clients[cell.subject].post(f"{API}/projects/{target}/repositories/{cell.victim}/artifacts",
                                                      params={"from": f"{cell.repository}:{TAG}"})
    return Outcome(response, lambda: world.setup.has_manifest(target, TAG, repo=cell.victim))


@action("mount-blob-out")
async def mount_blob(world: World, cell: Cell) -> Outcome:
    repository = f"{SANDBOX}/{cell.victim}"
    response = await world.clients[cell.subject].post(f"/v2/{repository}/blobs/uploads/", params={
        "mount": digest_of(LAYER), "from": cell.repository})
    return Outcome(response, lambda: world.setup.has_blob(repository, digest_of(LAYER)))


@action(*IMAGE_VICTIM_ROWS)
async def delete_image(world: World, cell: Cell) -> Outcome:
    digest = world.prepared[cell.id]
    if cell.row.name == "delete-artifact":
        path = f"{API}/projects/{cell.project}/repositories/{REPO}/artifacts/{digest}"
        response = await world.clients[cell.subject].delete(path)
    elif cell.row.name == "delete-manifest-basic":
        response = await world.clients[cell.subject].delete(f"/v2/{cell.repository}/manifests/{digest}")
    else:
        token = await token_for(world, cell, "delete", ["delete"] if cell.allows(cell.row.name) else [])
        response = await world.anonymous.delete(f"/v2/{cell.repository}/manifests/{digest}", headers=bearer(token))

    async def gone() -> bool:
        return not await world.setup.has_manifest(cell.project, digest)
    return Outcome(response, gone)


TAGS_PATH = f"{API}/projects/{{project}}/repositories/{REPO}/artifacts/{TAG}/tags"


@action("create-tag")
async def create_tag(world: World, cell: Cell) -> Outcome:
    tag = f"t-{cell.id}"
    response = await world.clients[cell.subject].post(TAGS_PATH.format(project=cell.project), json={"name": tag})
    return Outcome(response, lambda: world.setup.has_manifest(cell.project, tag))


@action("delete-tag", "delete-tag-v2")
async def delete_tag(world: World, cell: Cell) -> Outcome:
    tag = f"d-{cell.id}"
    path = f"{TAGS_PATH.format(project=cell.project)}/{tag}"
    if cell.row.name == "delete-tag-v2":
        path = f"/v2/{cell.repository}/manifests/{tag}"
    response = await world.clients[cell.subject].delete(path)

    async def gone() -> bool:
        return not await world.setup.has_manifest(cell.project, tag)
    return Outcome(response, gone)


@action("delete-repository")
async def delete_repository(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].delete(f"{API}/projects/{cell.project}/repositories/{cell.victim}")

    async def gone() -> bool:
        return not await world.setup.has_manifest(cell.project, TAG, repo=cell.victim)
    return Outcome(response, gone)


@action("list-members")
async def list_members(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"{API}/projects/{cell.project}/members",
                                                     params={"page_size": 100})
    return Outcome(response, constant("guest" in names_in(response, "entity_name")))


@action("project-audit-log")
async def project_audit_log(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].get(f"{API}/projects/{cell.project}/logs")
    return Outcome(response, constant(response.is_success and len(response.json()) > 0))


@action(*MEMBER_ROWS)
async def change_membership(world: World, cell: Cell) -> Outcome:
    """Add CANDIDATE, change its role or remove it (MEMBER_ROWS); observed: it has the asked-for role."""
    client, members = world.clients[cell.subject], f"{API}/projects/{cell.victim}/members"
    role_before, role_after = MEMBER_ROWS[cell.row.name]
    if role_before is None:
        response = await client.post(members, json={"role_id": role_after, "member_user": {"username": CANDIDATE}})
    elif role_after is None:
        response = await client.delete(f"{members}/{world.prepared[cell.id]}")
    else:
        response = await client.put(f"{members}/{world.prepared[cell.id]}", json={"role_id": role_after})

    async def changed() -> bool:
        return await world.setup.role_of(cell.victim, CANDIDATE) == role_after
    return Outcome(response, changed)


@action("update-project")
async def update_project(world: World, cell: Cell) -> Outcome:
    response = await world.clients[cell.subject].put(f"{API}/projects/{cell.victim}",
                                                     json={"metadata": {"auto_scan": "true"}})

    async def updated() -> bool:
        return (await world.setup.project_metadata(cell.victim)).get("auto_scan") == "true"
    return Outcome(response, updated)


@action("delete-project", "delete-nonempty-project")
async def delete_project(world: World, cell: Cell) -> Outcome:
    """The subject deletes a project of the cell's visibility where it has its role (empty or holding app:1.0)."""
    response = await world.clients[cell.subject].delete(f"{API}/projects/{cell.victim}")

    async def gone() -> bool:
        return not await world.setup.project_exists(cell.victim)
    return Outcome(response, gone)


@action("scan-read-policy", "scan-create-policy")
async def lists_scan_permission(world: World, cell: Cell) -> Outcome:
    wanted = {"resource": "scan", "action": "read" if cell.row.name == "scan-read-policy" else "create"}
    scope = f"/project/{world.project_ids[cell.visibility]}"
    response = await world.clients[cell.subject].get(f"{API}/users/current/permissions",
                                                     params={"scope": scope, "relative": "true"})
    return Outcome(response, constant(response.status_code == 200 and wanted in response.json()))


# --- the matrix -----------------------------------------------------------------------------------

ERROR_CODES = {Surface.API: {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 412: "PRECONDITION"},
               Surface.MOUNT: {401: "UNAUTHORIZED"},
               Surface.REGISTRY: {401: "UNAUTHORIZED", 403: "DENIED"},
               Surface.TOKEN: {401: "UNAUTHORIZED"},
               Surface.POLICY: {401: "UNAUTHORIZED"}}


def cell_params() -> list[Any]:
    params = []
    for cell in CELLS:
        marks = [pytest.mark.skip(reason=cell.row.skip_reason)] if cell.row.skip_reason else []
        if cell.id in KNOWN_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[cell.id]))
        params.append(pytest.param(cell, id=cell.id, marks=marks))
    return params


def assert_error_body(cell: Cell, response: httpx.Response) -> None:
    """A refusal in Harbor's error format, with the code its status implies; never a missing route."""
    errors = response.json()["errors"]
    assert errors[0]["code"] == ERROR_CODES[cell.row.surface][response.status_code], errors
    assert errors[0]["message"] != "Not Found", f"{cell.row.action}: the route is not served"
    if cell.row.surface is Surface.TOKEN:
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"], response.headers


@pytest.mark.parametrize("cell", cell_params())
async def test_matrix(world: World, cell: Cell) -> None:
    allowed = cell.row.allows(cell.subject, cell.visibility)
    outcome = await ACTIONS[cell.row.name](world, cell)
    response = outcome.response
    expected = cell.row.expected_status(cell.subject, cell.visibility)
    assert response.status_code == expected, (
        f"{cell.row.action} as {cell.subject} in the {cell.visibility} project: expected {expected} "
        f"({'allowed' if allowed else 'denied'}), got {response.status_code} {response.text[:300]}")
    if response.status_code >= 400:
        assert_error_body(cell, response)
    took_effect = allowed and cell.row.allowed_status < 300
    assert await outcome.observe() is took_effect, (
        f"{cell.row.action} as {cell.subject}: expected the action {'' if took_effect else 'not '}to take effect")
    assert await world.setup.has_manifest(cell.project, TAG), "no cell may remove app:1.0"


async def test_every_row_but_the_skipped_ones_has_an_action() -> None:
    assert set(ACTIONS) == {row.name for row in ROWS if row.skip_reason is None}
