"""Our /api/v2.0 against Harbor's swagger: same paths and parameter names, the essential operations served."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.web.api.app import create_api
from portside.web.api.contract import EXTENSIONS, compare, harbor_operations, served_routes

SWAGGER = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "contracts" / "harbor-v2.0-swagger.yaml"

#: What the user guide, docker-style clients and harborapi's common flows call (harbor-api.md §1.16).
ESSENTIAL = {
    "listProjects", "headProject", "createProject", "getProject", "updateProject", "deleteProject",
    "getProjectSummary", "listProjectMembers", "createProjectMember", "getProjectMember",
    "updateProjectMember", "deleteProjectMember", "listRepositories", "getRepository", "updateRepository",
    "deleteRepository", "listAllRepositories", "listArtifacts", "getArtifact", "deleteArtifact", "CopyArtifact",
    "createTag", "listTags", "deleteTag", "addLabel", "removeLabel", "ListLabels", "CreateLabel",
    "ListRobot", "CreateRobot", "GetRobotByID", "UpdateRobot", "DeleteRobot", "RefreshSec",
    "listUsers", "createUser", "getCurrentUserInfo", "getCurrentUserPermissions", "updateUserPassword",
    "setCliSecret", "listAuditLogs", "getSystemInfo", "getHealth", "getPing", "getStatistic", "search",
}


@pytest.fixture(scope="module")
def comparison() -> tuple[list, list, set]:  # type: ignore[type-arg]
    if not SWAGGER.exists():
        pytest.fail(f"Harbor's swagger is missing at {SWAGGER}")
    api = create_api(None)  # type: ignore[arg-type]  # the OpenAPI document needs no services
    return compare(harbor_operations(SWAGGER), served_routes(api.openapi()))


def test_every_route_we_serve_is_harbors_or_a_listed_extension(comparison: tuple[list, list, set]) -> None:  # type: ignore[type-arg]
    _hits, _misses, extra = comparison
    assert extra <= {(method, path.rstrip("/")) for method, path in EXTENSIONS}, sorted(extra)


def test_the_essential_operations_are_served(comparison: tuple[list, list, set]) -> None:  # type: ignore[type-arg]
    hits, _misses, _extra = comparison
    served = {operation.operation_id for operation in hits}
    assert ESSENTIAL - served == set()
