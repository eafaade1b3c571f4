"""Harbor's project, search and statistic models (swagger definitions, exact JSON field names)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from portside.domain.rbac import Role
from portside.services import projects as project_service
from portside.services.project_metadata import CveAllowlist
from portside.services.projects import ProjectSpec, ProjectView, SearchResult, Statistics

#: Harbor's ProjectMetadata: a map of strings ("true"/"false", severities, ids).
ProjectMetadata = dict[str, str]
#: Harbor's ResourceList: resource name ("storage") -> bytes.
ResourceList = dict[str, int]


def rfc3339(moment: datetime) -> str:
    """A UTC RFC 3339 timestamp with milliseconds, as Harbor writes them (naive times are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CVEAllowlistItem(BaseModel):
    cve_id: str


class CVEAllowlist(BaseModel):
    id: int | None = None
    project_id: int | None = None
    expires_at: int | None = None
    items: list[CVEAllowlistItem] | None = None
    creation_time: str | None = None
    update_time: str | None = None

    def to_allowlist(self) -> CveAllowlist:
        return CveAllowlist(tuple(item.cve_id for item in self.items or []), self.expires_at)


class ProjectReq(BaseModel):
    """The body of POST and PUT /projects. Metadata values may also be JSON booleans or numbers,
    which are taken as their string forms; null values are ignored."""

    project_name: str | None = None
    public: bool | None = None
    metadata: dict[str, str | bool | int | None] | None = None
    cve_allowlist: CVEAllowlist | None = None
    storage_limit: int | None = None
    registry_id: int | None = None

    def to_spec(self) -> ProjectSpec:
        return ProjectSpec(
            name=self.project_name, public=self.public, metadata=metadata_strings(self.metadata),
            storage_limit=self.storage_limit,
            cve_allowlist=self.cve_allowlist.to_allowlist() if self.cve_allowlist is not None else None,
            allowlist_project_id=self.cve_allowlist.project_id if self.cve_allowlist is not None else None,
            registry_id=self.registry_id,
        )


def metadata_strings(values: dict[str, str | bool | int | None] | None) -> dict[str, str] | None:
    """Harbor's string map from a JSON object: booleans as "true"/"false", nulls dropped."""
    if values is None:
        return None
    strings: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            strings[key] = "true" if value else "false"
        elif value is not None:
            strings[key] = str(value)
    return strings


class Project(BaseModel):
    project_id: int
    owner_id: int | None
    name: str
    registry_id: int | None = None
    creation_time: str
    update_time: str
    deleted: bool = False
    owner_name: str
    togglable: bool
    current_user_role_id: int
    current_user_role_ids: list[int]
    repo_count: int
    metadata: ProjectMetadata
    cve_allowlist: CVEAllowlist


def project_body(view: ProjectView) -> dict[str, Any]:
    """The Project JSON for a view."""
    project = view.project
    role = int(view.role) if view.role is not None else 0
    allowlist = view.cve_allowlist
    return Project(
        project_id=project.id, owner_id=project.owner_id, name=project.name,
        creation_time=rfc3339(project.created_at), update_time=rfc3339(project.updated_at),
        owner_name=view.owner_name, togglable=view.togglable, current_user_role_id=role,
        current_user_role_ids=[role] if role else [], repo_count=view.repo_count, metadata=view.metadata,
        cve_allowlist=CVEAllowlist(
            id=project.id, project_id=project.id, expires_at=allowlist.expires_at,
            items=[CVEAllowlistItem(cve_id=cve_id) for cve_id in allowlist.cve_ids],
            creation_time=rfc3339(project.created_at), update_time=rfc3339(project.updated_at)),
    ).model_dump(mode="json")


class ProjectDeletable(BaseModel):
    deletable: bool
    message: str


class ProjectSummaryQuota(BaseModel):
    hard: ResourceList
    used: ResourceList


class ProjectSummary(BaseModel):
    """Harbor's ProjectSummary; counts or quota absent when the caller may not see them."""

    repo_count: int
    project_admin_count: int | None = None
    maintainer_count: int | None = None
    developer_count: int | None = None
    guest_count: int | None = None
    limited_guest_count: int | None = None
    quota: ProjectSummaryQuota | None = None


def summary_body(summary: project_service.ProjectSummary) -> dict[str, Any]:
    counts = summary.member_counts
    body = ProjectSummary(repo_count=summary.repo_count)
    if counts is not None:
        body.project_admin_count = counts[Role.PROJECT_ADMIN]
        body.maintainer_count = counts[Role.MAINTAINER]
        body.developer_count = counts[Role.DEVELOPER]
        body.guest_count = counts[Role.GUEST]
        body.limited_guest_count = counts[Role.LIMITED_GUEST]
    if summary.storage_limit is not None and summary.storage_used is not None:
        body.quota = ProjectSummaryQuota(hard={"storage": summary.storage_limit},
                                         used={"storage": summary.storage_used})
    return body.model_dump(mode="json", exclude_none=True)


class SearchRepository(BaseModel):
    project_id: int
    project_name: str
    project_public: bool
    repository_name: str
    pull_count: int
    artifact_count: int


class Search(BaseModel):
    project: list[Project]
    repository: list[SearchRepository]


def search_body(result: SearchResult) -> dict[str, Any]:
    return {
        "project": [project_body(view) for view in result.projects],
        "repository": [SearchRepository(
            project_id=hit.project_id, project_name=hit.project_name, project_public=hit.project_public,
            repository_name=hit.name, pull_count=hit.pull_count, artifact_count=hit.artifact_count,
        ).model_dump(mode="json") for hit in result.repositories],
    }


class Statistic(BaseModel):
    private_project_count: int
    private_repo_count: int
    public_project_count: int
    public_repo_count: int
    total_project_count: int
    total_repo_count: int
    total_storage_consumption: int


def statistic_body(statistics: Statistics) -> dict[str, Any]:
    return Statistic(
        private_project_count=statistics.private_project_count, private_repo_count=statistics.private_repo_count,
        public_project_count=statistics.public_project_count, public_repo_count=statistics.public_repo_count,
        total_project_count=statistics.total_project_count, total_repo_count=statistics.total_repo_count,
        total_storage_consumption=statistics.total_storage_consumption,
    ).model_dump(mode="json")
