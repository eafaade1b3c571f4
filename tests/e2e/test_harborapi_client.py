"""harborapi (Harbor's Python client, 0.26) against a real `portside serve`.

harborapi builds its own httpx client and takes no transport, so it cannot talk to the app in
process: one server serves this module. Every call validates our JSON against harborapi's
copies of Harbor's models, so a wrong field name or type fails here as a ValidationError; the
tests then assert the values. Each test works in projects and users of its own (unique names:
with PORTSIDE_TEST_DATABASE_URL the database is shared with other suites and runs).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from harborapi import HarborAsyncClient
from harborapi.exceptions import Forbidden, NotFound, PreconditionFailed, Unauthorized
from harborapi.models import (
    Access,
    Label,
    ProjectMetadata,
    ProjectReq,
    Repository,
    RobotCreate,
    RobotPermission,
    Tag,
    UserCreationReq,
)

from .conftest import track_server
from .servers import ADMIN_PASSWORD, ADMIN_USERNAME, STOP_TIMEOUT, PortsideServer, free_port

pytestmark = pytest.mark.e2e

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
USER_PASSWORD = "HarborApi1Passw0rd"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_database_url: str | None,
           shared_data_dir: Path | None) -> Iterator[PortsideServer]:
    workdir = tmp_path_factory.mktemp("harborapi")
    started = PortsideServer(free_port(), shared_data_dir or workdir / "data", workdir / "portside.log",
                             shared_database_url)
    started.start()
    try:
        yield started
    finally:
        started.stop(timeout=STOP_TIMEOUT)


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest, server: PortsideServer) -> None:
    track_server(request, server)


def harbor_client(server: PortsideServer, username: str, secret: str) -> HarborAsyncClient:
    """harborapi as a script would make it, minus retries (a failure must show at once)."""
    return HarborAsyncClient(url=f"{server.url}/api/v2.0", username=username, secret=secret, retry=None,
                             timeout=30.0)


@pytest.fixture
async def harbor(server: PortsideServer) -> AsyncIterator[HarborAsyncClient]:
    """harborapi logged in as the system administrator."""
    client = harbor_client(server, ADMIN_USERNAME, ADMIN_PASSWORD)
    yield client
    await client.client.aclose()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def project(harbor: HarborAsyncClient) -> str:
    """A new private project, created through harborapi."""
    name = unique("hapi")
    await harbor.create_project(ProjectReq(project_name=name, metadata=ProjectMetadata(public="false")))
    return name


@dataclass(frozen=True)
class Pushed:
    repository: str  # <project>/<name>
    tag: str
    digest: str
    size: int  # manifest + config + layer, as Harbor's artifact `size`


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def gzip_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(content)
            archive.addfile(entry, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)


def push_image(server: PortsideServer, repository: str, tag: str, *, architecture: str = "amd64") -> Pushed:
    """Push a one-layer OCI image over /v2 with Basic credentials (the admin's)."""
    config = json.dumps({"architecture": architecture, "os": "linux", "author": "harborapi e2e",
                         "rootfs": {"type": "layers", "diff_ids": []}, "nonce": uuid.uuid4().hex}).encode()
    layer = gzip_tar({"etc/hostname": uuid.uuid4().hex.encode()})
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": sha256(layer), "size": len(layer)}],
    }).encode()
    with httpx.Client(base_url=server.url, auth=server.credentials, timeout=30.0) as http:
        for blob in (config, layer):
            uploaded = http.post(f"/v2/{repository}/blobs/uploads/", params={"digest": sha256(blob)}, content=blob)
            assert uploaded.status_code == 201, uploaded.text
        put = http.put(f"/v2/{repository}/manifests/{tag}", content=manifest,
                       headers={"Content-Type": OCI_MANIFEST})
        assert put.status_code == 201, put.text
    return Pushed(repository, tag, sha256(manifest), len(manifest) + len(config) + len(layer))


async def create_user(harbor: HarborAsyncClient) -> tuple[str, int]:
    """A new user (USER_PASSWORD); returns (name, id)."""
    name = unique("hapi-user")
    await harbor.create_user(UserCreationReq(username=name, email=f"{name}@example.org", realname="Harbor API",
                                             password=USER_PASSWORD, comment="e2e"))
    [user] = await harbor.get_users(query=f"username={name}")
    assert user.user_id is not None
    return name, user.user_id


def recent(moment: datetime | None) -> bool:
    return moment is not None and abs(datetime.now(UTC) - moment) < timedelta(minutes=10)


# --- projects -------------------------------------------------------------------------------------


async def test_create_project_returns_its_location(harbor: HarborAsyncClient) -> None:
    name = unique("hapi")

    location = await harbor.create_project(ProjectReq(project_name=name, metadata=ProjectMetadata(public="true")))

    assert location == f"/api/v2.0/projects/{name}"  # X-Resource-Name-In-Location: true


async def test_get_project_by_name_and_by_id(harbor: HarborAsyncClient, project: str) -> None:
    by_name = await harbor.get_project(project)
    assert by_name.project_id is not None

    by_id = await harbor.get_project(by_name.project_id)

    assert by_name.name == by_id.name == project
    assert by_name.owner_name == "admin"
    assert by_name.metadata is not None and by_name.metadata.public == "false"
    assert by_name.repo_count == 0
    assert by_name.current_user_role_id == 1  # the creator is its projectAdmin
    assert recent(by_name.creation_time)


async def test_get_projects_follows_the_link_header_past_the_first_page(harbor: HarborAsyncClient) -> None:
    prefix = unique("hapi-page")
    names = {f"{prefix}-{index:02d}" for index in range(12)}
    for name in names:
        await harbor.create_project(ProjectReq(project_name=name))

    # harborapi asks ?with_detail=true&page=1&page_size=10 first, then follows rel="next".
    found = await harbor.get_projects(query=f"name=~{prefix}")

    assert {found_project.name for found_project in found} == names


async def test_project_exists_answers_through_head(harbor: HarborAsyncClient, project: str) -> None:
    assert await harbor.project_exists(project) is True
    assert await harbor.project_exists(unique("hapi-missing")) is False


async def test_update_project_changes_its_metadata(harbor: HarborAsyncClient, project: str) -> None:
    await harbor.update_project(project, ProjectReq(metadata=ProjectMetadata(public="true", auto_scan="true",
                                                                              severity="high")))

    updated = await harbor.get_project(project)
    assert updated.metadata is not None
    assert (updated.metadata.public, updated.metadata.auto_scan, updated.metadata.severity) == ("true", "true", "high")


async def test_project_metadata_entries_round_trip(harbor: HarborAsyncClient, project: str) -> None:
    await harbor.set_project_metadata(project, ProjectMetadata(prevent_vul="true", severity="critical"))
    await harbor.update_project_metadata_entry(project, "severity", ProjectMetadata(severity="medium"))

    assert await harbor.get_project_metadata_entry(project, "severity") == {"severity": "medium"}
    await harbor.delete_project_metadata_entry(project, "prevent_vul")
    metadata = await harbor.get_project_metadata(project)
    assert (metadata.public, metadata.severity, metadata.prevent_vul) == ("false", "medium", None)


async def test_project_summary_counts_repositories_and_members(harbor: HarborAsyncClient, server: PortsideServer,
                                                               project: str) -> None:
    push_image(server, f"{project}/one", "1.0")
    push_image(server, f"{project}/two", "1.0")
    username, _ = await create_user(harbor)
    await harbor.add_project_member_user(project, username, 2)

    summary = await harbor.get_project_summary(project)

    assert summary.repo_count == 2
    assert (summary.project_admin_count, summary.developer_count, summary.maintainer_count) == (1, 1, 0)
    assert summary.quota is not None and summary.quota.hard is not None
    assert summary.quota.hard.root == {"storage": -1}


async def test_delete_project_with_repositories_is_412(harbor: HarborAsyncClient, server: PortsideServer,
                                                       project: str) -> None:
    push_image(server, f"{project}/app", "1.0")

    with pytest.raises(PreconditionFailed) as refused:
        await harbor.delete_project(project)

    assert [(error.code, error.message) for error in refused.value.errors] == [
        ("PRECONDITION", "the project contains repositories, can not be deleted")]


async def test_delete_empty_project(harbor: HarborAsyncClient, project: str) -> None:
    await harbor.delete_project(project)

    assert await harbor.project_exists(project) is False
    with pytest.raises(NotFound):
        await harbor.get_project(project)


# --- members --------------------------------------------------------------------------------------


async def test_members_add_change_role_and_remove(harbor: HarborAsyncClient, project: str) -> None:
    username, user_id = await create_user(harbor)

    location = await harbor.add_project_member_user(project, username, 2)  # developer
    member_id = int(location.rsplit("/", 1)[1])
    await harbor.update_project_member_role(project, member_id, 4)  # maintainer
    member = await harbor.get_project_member(project, member_id)
    members = await harbor.get_project_members(project)
    await harbor.remove_project_member(project, member_id)

    assert (member.entity_name, member.entity_id, member.entity_type) == (username, user_id, "u")
    assert (member.role_id, member.role_name) == (4, "maintainer")
    assert {(m.entity_name, m.role_name) for m in members} == {("admin", "projectAdmin"), (username, "maintainer")}
    assert [m.entity_name for m in await harbor.get_project_members(project)] == ["admin"]


# --- repositories ---------------------------------------------------------------------------------


async def test_get_repositories_of_a_project(harbor: HarborAsyncClient, server: PortsideServer,
                                             project: str) -> None:
    push_image(server, f"{project}/app", "1.0")
    push_image(server, f"{project}/team/tool", "1.0")

    repositories = await harbor.get_repositories(project)

    assert sorted(str(repository.name) for repository in repositories) == [f"{project}/app", f"{project}/team/tool"]
    assert all(repository.artifact_count == 1 for repository in repositories)


async def test_get_repository_with_a_slash_in_its_name(harbor: HarborAsyncClient, server: PortsideServer,
                                                       project: str) -> None:
    push_image(server, f"{project}/team/tool", "1.0")

    repository = await harbor.get_repository(project, "team/tool")  # harborapi double-encodes the /

    assert repository.name == f"{project}/team/tool"
    assert repository.artifact_count == 1
    assert repository.pull_count == 0


async def test_update_repository_description(harbor: HarborAsyncClient, server: PortsideServer,
                                             project: str) -> None:
    push_image(server, f"{project}/app", "1.0")

    await harbor.update_repository(project, "app", Repository(description="the analysis environment"))

    assert (await harbor.get_repository(project, "app")).description == "the analysis environment"


async def test_delete_repository(harbor: HarborAsyncClient, server: PortsideServer, project: str) -> None:
    push_image(server, f"{project}/app", "1.0")
    push_image(server, f"{project}/keep", "1.0")

    await harbor.delete_repository(project, "app")

    assert [repository.name for repository in await harbor.get_repositories(project)] == [f"{project}/keep"]
    with pytest.raises(NotFound):
        await harbor.get_repository(project, "app")


async def test_get_repositories_of_many_follows_pages(harbor: HarborAsyncClient, server: PortsideServer,
                                                      project: str) -> None:
    for index in range(11):
        push_image(server, f"{project}/repo{index:02d}", "1.0")

    repositories = await harbor.get_repositories(project)

    assert len(repositories) == 11


# --- artifacts, tags, labels -----------------------------------------------------------------------


async def test_get_artifacts_with_tags(harbor: HarborAsyncClient, server: PortsideServer, project: str) -> None:
    pushed = push_image(server, f"{project}/app", "1.0")

    [artifact] = await harbor.get_artifacts(project, "app", with_tag=True)

    assert artifact.digest == pushed.digest
    assert (artifact.type, artifact.manifest_media_type, artifact.media_type) == ("IMAGE", OCI_MANIFEST, OCI_CONFIG)
    assert artifact.size == pushed.size
    assert artifact.repository_name == pushed.repository
    assert [tag.name for tag in artifact.tags or []] == ["1.0"]
    assert artifact.extra_attrs is not None and artifact.extra_attrs.root is not None
    assert (artifact.extra_attrs.root["architecture"], artifact.extra_attrs.root["os"]) == ("amd64", "linux")
    assert artifact.extra_attrs.root["author"] == "harborapi e2e"
    assert recent(artifact.push_time)


async def test_get_artifact_by_tag_and_by_digest(harbor: HarborAsyncClient, server: PortsideServer,
                                                 project: str) -> None:
    pushed = push_image(server, f"{project}/app", "1.0")

    by_tag = await harbor.get_artifact(project, "app", "1.0")
    by_digest = await harbor.get_artifact(project, "app", pushed.digest)

    assert by_tag.id == by_digest.id
    assert by_tag.digest == by_digest.digest == pushed.digest


async def test_create_and_delete_artifact_tag(harbor: HarborAsyncClient, server: PortsideServer,
                                              project: str) -> None:
    pushed = push_image(server, f"{project}/app", "1.0")

    await harbor.create_artifact_tag(project, "app", "1.0", Tag(name="latest"))
    tags_after_create = {tag.name for tag in await harbor.get_artifact_tags(project, "app", "1.0")}
    await harbor.delete_artifact_tag(project, "app", pushed.digest, "1.0")

    assert tags_after_create == {"1.0", "latest"}
    assert [tag.name for tag in await harbor.get_artifact_tags(project, "app", "latest")] == ["latest"]


async def test_copy_artifact_into_another_repository(harbor: HarborAsyncClient, server: PortsideServer,
                                                     project: str) -> None:
    pushed = push_image(server, f"{project}/app", "1.0")

    location = await harbor.copy_artifact(project, "copies", f"{project}/app:1.0")

    assert location.startswith(f"/api/v2.0/projects/{project}/repositories/copies/artifacts/")
    [copied] = await harbor.get_artifacts(project, "copies")
    assert copied.digest == pushed.digest
    assert [tag.name for tag in copied.tags or []] == ["1.0"]


async def test_delete_artifact(harbor: HarborAsyncClient, server: PortsideServer, project: str) -> None:
    first = push_image(server, f"{project}/app", "1.0")
    second = push_image(server, f"{project}/app", "2.0")

    await harbor.delete_artifact(project, "app", first.digest)

    assert [artifact.digest for artifact in await harbor.get_artifacts(project, "app")] == [second.digest]
    with pytest.raises(NotFound):
        await harbor.get_artifact(project, "app", "1.0")


async def test_create_label_and_list_it(harbor: HarborAsyncClient) -> None:
    name = unique("hapi-label")

    location = await harbor.create_label(Label(name=name, description="e2e", color="#00FF00", scope="g"))
    [label] = await harbor.get_labels(name=name, scope="g")

    assert location == f"/api/v2.0/labels/{label.id}"
    assert (label.name, label.description, label.color, label.scope, label.project_id) == (
        name, "e2e", "#00FF00", "g", 0)


async def test_add_and_remove_an_artifact_label(harbor: HarborAsyncClient, server: PortsideServer,
                                                project: str) -> None:
    push_image(server, f"{project}/app", "1.0")
    name = unique("hapi-label")
    await harbor.create_label(Label(name=name, color="#FF0000", scope="g"))
    [label] = await harbor.get_labels(name=name, scope="g")
    assert label.id is not None

    await harbor.add_artifact_label(project, "app", "1.0", label)
    labelled = await harbor.get_artifact(project, "app", "1.0", with_label=True)
    await harbor.delete_artifact_label(project, "app", "1.0", label.id)
    unlabelled = await harbor.get_artifact(project, "app", "1.0", with_label=True)

    assert [(found.id, found.name) for found in labelled.labels or []] == [(label.id, name)]
    assert not unlabelled.labels


# --- robots ---------------------------------------------------------------------------------------


def pull_robot(project: str, name: str) -> RobotCreate:
    return RobotCreate(name=name, description="ci puller", level="project", duration=30, permissions=[
        RobotPermission(kind="project", namespace=project, access=[
            Access(resource="repository", action="pull"), Access(resource="repository", action="list")])])


async def test_create_robot_returns_its_secret_once(harbor: HarborAsyncClient, project: str) -> None:
    created = await harbor.create_robot(pull_robot(project, "puller"))

    assert created.name == f"robot${project}+puller"
    assert created.secret and len(created.secret) >= 8
    assert created.expires_at is not None
    expected = datetime.now(UTC) + timedelta(days=30)
    assert abs(datetime.fromtimestamp(created.expires_at, UTC) - expected) < timedelta(minutes=10)


async def test_get_robots_of_a_project(harbor: HarborAsyncClient, project: str) -> None:
    created = await harbor.create_robot(pull_robot(project, "puller"))
    project_id = (await harbor.get_project(project)).project_id

    [robot] = await harbor.get_robots(query=f"Level=project,ProjectID={project_id}")

    assert (robot.id, robot.name, robot.level, robot.duration, robot.disable) == (
        created.id, created.name, "project", 30, False)
    assert robot.secret is None
    assert robot.permissions is not None
    [permission] = robot.permissions
    assert (permission.kind, permission.namespace) == ("project", project)
    assert {(access.resource, access.action) for access in permission.access or []} == {
        ("repository", "pull"), ("repository", "list")}


async def test_a_robot_lists_its_projects_repositories_through_harborapi(harbor: HarborAsyncClient,
                                                                  server: PortsideServer, project: str) -> None:
    push_image(server, f"{project}/app", "1.0")
    created = await harbor.create_robot(pull_robot(project, "lister"))
    assert created.name and created.secret
    robot = harbor_client(server, created.name, created.secret)
    try:
        repositories = await robot.get_repositories(project)
    finally:
        await robot.client.aclose()

    assert [repository.name for repository in repositories] == [f"{project}/app"]


async def test_a_robot_without_project_read_may_not_get_the_project(harbor: HarborAsyncClient,
                                                                    server: PortsideServer, project: str) -> None:
    created = await harbor.create_robot(pull_robot(project, "narrow"))
    assert created.name and created.secret
    robot = harbor_client(server, created.name, created.secret)
    try:
        with pytest.raises(Forbidden):  # Harbor's getProject needs project:read, which it was not given
            await robot.get_project(project)
    finally:
        await robot.client.aclose()


async def test_refresh_robot_secret_replaces_the_old_one(harbor: HarborAsyncClient, server: PortsideServer,
                                                         project: str) -> None:
    created = await harbor.create_robot(pull_robot(project, "rotated"))
    assert created.id is not None and created.name and created.secret

    refreshed = await harbor.refresh_robot_secret(created.id, "Rotated1Secret")

    assert refreshed.secret == "Rotated1Secret"
    listing = f"/api/v2.0/projects/{project}/repositories"
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as http:
        assert (await http.get(listing, auth=(created.name, created.secret))).status_code == 401
        assert (await http.get(listing, auth=(created.name, "Rotated1Secret"))).status_code == 200


async def test_delete_robot(harbor: HarborAsyncClient, project: str) -> None:
    created = await harbor.create_robot(pull_robot(project, "doomed"))
    assert created.id is not None

    await harbor.delete_robot(created.id)

    with pytest.raises(NotFound):
        await harbor.get_robot(created.id)


# --- users ----------------------------------------------------------------------------------------


async def test_create_user_and_find_it(harbor: HarborAsyncClient) -> None:
    name = unique("hapi-user")

    location = await harbor.create_user(UserCreationReq(username=name, email=f"{name}@example.org",
                                                        realname="Research User", password=USER_PASSWORD))
    [user] = await harbor.get_users(query=f"username={name}")

    assert location == f"/api/v2.0/users/{user.user_id}"
    assert (user.username, user.email, user.realname, user.sysadmin_flag) == (
        name, f"{name}@example.org", "Research User", False)
    assert recent(user.creation_time)


async def test_get_current_user_of_a_signed_in_user(harbor: HarborAsyncClient, server: PortsideServer) -> None:
    name, user_id = await create_user(harbor)
    client = harbor_client(server, name, USER_PASSWORD)
    try:
        current = await client.get_current_user()
    finally:
        await client.client.aclose()

    assert (current.user_id, current.username, current.sysadmin_flag) == (user_id, name, False)


async def test_a_cli_secret_set_through_harborapi_signs_in(harbor: HarborAsyncClient,
                                                           server: PortsideServer) -> None:
    name, user_id = await create_user(harbor)

    await harbor.set_user_cli_secret(user_id, "CliSecret1Value")

    client = harbor_client(server, name, "CliSecret1Value")
    try:
        assert (await client.get_current_user()).username == name
    finally:
        await client.client.aclose()


async def test_set_user_password_replaces_the_old_one(harbor: HarborAsyncClient, server: PortsideServer) -> None:
    name, user_id = await create_user(harbor)

    await harbor.set_user_password(user_id, "Changed1Passw0rd", USER_PASSWORD)

    old = harbor_client(server, name, USER_PASSWORD)
    new = harbor_client(server, name, "Changed1Passw0rd")
    try:
        with pytest.raises(Unauthorized):
            await old.get_current_user()
        assert (await new.get_current_user()).username == name
    finally:
        await old.client.aclose()
        await new.client.aclose()


# --- audit logs and system ------------------------------------------------------------------------


async def test_audit_logs_record_the_project_creation(harbor: HarborAsyncClient, project: str) -> None:
    logs = await harbor.get_audit_logs(query=f"resource={project},operation=create")

    [entry] = logs
    assert (entry.username, entry.resource, entry.resource_type, entry.operation) == (
        "admin", project, "project", "create")
    assert recent(entry.op_time)


async def test_get_system_info(harbor: HarborAsyncClient, server: PortsideServer) -> None:
    info = await harbor.get_system_info()

    assert info.auth_mode == "db_auth"
    assert info.registry_url == server.host
    assert info.harbor_version is not None and info.harbor_version.startswith("v2.")
    assert recent(info.current_time)


async def test_health_check(harbor: HarborAsyncClient) -> None:
    health = await harbor.health_check()

    assert health.status == "healthy"
    assert {component.name: component.status for component in health.components or []} == {
        "database": "healthy", "storage": "healthy"}


async def test_get_statistics_counts_what_a_user_can_see(harbor: HarborAsyncClient, server: PortsideServer,
                                                         project: str) -> None:
    push_image(server, f"{project}/app", "1.0")
    name, _ = await create_user(harbor)
    await harbor.add_project_member_user(project, name, 3)  # guest
    client = harbor_client(server, name, USER_PASSWORD)
    try:
        statistics = await client.get_statistics()
    finally:
        await client.client.aclose()

    # A new user, guest of one private project (other suites may leave public projects behind).
    assert (statistics.private_project_count, statistics.private_repo_count) == (1, 1)
    # Harbor shows the totals and the storage to system administrators only.
    assert (statistics.total_project_count, statistics.total_repo_count, statistics.total_storage_consumption) == (
        0, 0, 0)


async def test_search_finds_projects_and_repositories(harbor: HarborAsyncClient, server: PortsideServer,
                                                      project: str) -> None:
    push_image(server, f"{project}/analysis-env", "1.0")

    found = await harbor.search(project)

    assert [found_project.name for found_project in found.project or []] == [project]
    assert [(repository.repository_name, repository.project_public, repository.artifact_count)
            for repository in found.repository or []] == [(f"{project}/analysis-env", False, 1)]


# --- scanning -------------------------------------------------------------------------------------


async def wait_for_report(harbor: HarborAsyncClient, project: str, repository: str, reference: str) -> None:
    """Until the artifact's scan has finished (the guide's /scan/overview, which harborapi lacks)."""
    url = f"/projects/{project}/repositories/{repository}/artifacts/{reference}/scan/overview"
    for _ in range(300):
        overview = await harbor.get(url)
        if isinstance(overview, dict) and overview.get("scan_status") in ("Success", "Error"):
            assert overview["scan_status"] == "Success", overview
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the scan did not finish in 60 s")


async def test_scan_artifact_produces_a_vulnerability_report(harbor: HarborAsyncClient, server: PortsideServer,
                                                             project: str) -> None:
    push_image(server, f"{project}/app", "1.0")

    await harbor.scan_artifact(project, "app", "1.0")
    with pytest.raises(NotFound):
        await harbor.get(f"/projects/{project}/repositories/app/artifacts/2.0/scan/overview")
    await wait_for_report(harbor, project, "app", "1.0")
    reports = await harbor.get_artifact_vulnerability_reports(project, "app", "1.0")

    report = reports.first()
    assert report is not None
    assert report.scanner is not None and report.scanner.name == "Portside"
    assert report.vulnerabilities == []


async def test_get_artifact_with_scan_overview_after_a_scan(harbor: HarborAsyncClient, server: PortsideServer,
                                                            project: str) -> None:
    push_image(server, f"{project}/app", "1.0")
    await harbor.scan_artifact(project, "app", "1.0")
    await wait_for_report(harbor, project, "app", "1.0")

    artifact = await harbor.get_artifact(project, "app", "1.0", with_scan_overview=True)

    assert artifact.scan_overview is not None
    summary = artifact.scan_overview.root["application/vnd.security.vulnerability.report; version=1.1"]
    assert (summary.scan_status, summary.severity) == ("Success", "None")
