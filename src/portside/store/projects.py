"""Project queries for the Harbor API: filtered lists, updates, cascading deletes, counts.

Finding and creating single projects stays in `store/repositories.py` (the /v2
path needs it); this module holds what the project, search and statistics views
need. Visibility is passed in as a `Visibility` (computed by the service from the
caller), so every list here can be restricted to what the caller may see in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, null, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Project
from portside.store.tables import (
    artifact_labels,
    blobs,
    manifest_blobs,
    manifest_children,
    manifests,
    project_members,
    projects,
    repositories,
    repository_blobs,
    tags,
    uploads,
    users,
)

#: Sort keys Harbor clients use for projects -> the column they order by.
SORTABLE = {"name": projects.c.name, "creation_time": projects.c.created_at, "update_time": projects.c.updated_at,
            "project_id": projects.c.id}


@dataclass(frozen=True, slots=True)
class Visibility:
    """The projects a caller may see: every project, or the public ones plus those it belongs to
    (`member_user_id`) or is granted by name (`granted_names`, for robot accounts)."""

    everything: bool = False
    member_user_id: int | None = None
    granted_names: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ProjectFilter:
    """Conditions a listed project must meet (all of them): `names` any-of exact names,
    `name_contains` every substring, `ids` any-of ids."""

    names: tuple[str, ...] = ()
    name_contains: tuple[str, ...] = ()
    public: bool | None = None
    owner: str | None = None
    ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """A project with what Harbor shows next to it: owner name, repository count, the viewer's role."""

    project: Project
    owner_name: str
    repo_count: int
    viewer_role: int | None


@dataclass(frozen=True, slots=True)
class RepositoryHit:
    """A repository found by search, with its project and counts."""

    project_id: int
    project_name: str
    project_public: bool
    name: str
    pull_count: int
    artifact_count: int


@dataclass(frozen=True, slots=True)
class RemovedRepositories:
    """What a cascading delete removed: repository names and the pending uploads' driver states."""

    names: list[str]
    upload_states: list[dict[str, Any]] = field(default_factory=list)


def _visible(visibility: Visibility) -> ColumnElement[bool]:
    if visibility.everything:
        return true()
    clauses: list[ColumnElement[bool]] = [projects.c.public.is_(True)]
    if visibility.member_user_id is not None:
        clauses.append(projects.c.id.in_(
            select(project_members.c.project_id).where(project_members.c.user_id == visibility.member_user_id)))
    if visibility.granted_names:
        clauses.append(projects.c.name.in_(sorted(visibility.granted_names)))
    return or_(*clauses)


def _filtered(query: Select[Any], conditions: ProjectFilter) -> Select[Any]:
    if conditions.names:
        query = query.where(projects.c.name.in_(conditions.names))
    for text in conditions.name_contains:
        query = query.where(projects.c.name.contains(text, autoescape=True))
    if conditions.public is not None:
        query = query.where(projects.c.public.is_(conditions.public))
    if conditions.owner is not None:
        query = query.where(users.c.username == conditions.owner)
    if conditions.ids:
        query = query.where(projects.c.id.in_(conditions.ids))
    return query


def _row_query(viewer_id: int | None) -> Select[Any]:
    repo_count = (select(func.count()).select_from(repositories)
                  .where(repositories.c.project_id == projects.c.id).scalar_subquery())
    role: Any = null()
    if viewer_id is not None:
        role = (select(project_members.c.role)
                .where(project_members.c.project_id == projects.c.id, project_members.c.user_id == viewer_id)
                .scalar_subquery())
    return (select(projects, users.c.username.label("owner_name"), repo_count.label("repo_count"),
                   role.label("viewer_role"))
            .select_from(projects.outerjoin(users, users.c.id == projects.c.owner_id)))


def _project(row: Any) -> Project:
    return Project(id=row.id, name=row.name, public=bool(row.public), owner_id=row.owner_id,
                   metadata=dict(row.metadata or {}), storage_limit=int(row.storage_limit),
                   created_at=row.created_at, updated_at=row.updated_at)


def _project_row(row: Any) -> ProjectRow:
    role = row.viewer_role
    return ProjectRow(_project(row), row.owner_name or "", int(row.repo_count or 0),
                      int(role) if role is not None else None)


async def list_projects(conn: AsyncConnection, *, visibility: Visibility, conditions: ProjectFilter,
                        viewer_id: int | None, sort: Sequence[tuple[str, bool]] = (), offset: int = 0,
                        limit: int | None = 10) -> tuple[list[ProjectRow], int]:
    """A page of visible projects matching `conditions`, and how many match in all.

    `sort` holds (key of SORTABLE, descending) pairs; the default order is by name.
    """
    query = _filtered(_row_query(viewer_id).where(_visible(visibility)), conditions)
    counted = _filtered(select(func.count()).select_from(projects.outerjoin(users, users.c.id == projects.c.owner_id))
                        .where(_visible(visibility)), conditions)
    total = int((await conn.execute(counted)).scalar_one())
    order = [SORTABLE[key].desc() if descending else SORTABLE[key] for key, descending in sort]
    query = query.order_by(*(order or [projects.c.name]), projects.c.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_project_row(row) for row in await conn.execute(query)], total


async def find_row(conn: AsyncConnection, project_id: int, viewer_id: int | None) -> ProjectRow | None:
    """One project with its owner name, repository count and the viewer's role."""
    row = (await conn.execute(_row_query(viewer_id).where(projects.c.id == project_id))).first()
    return _project_row(row) if row else None


async def lock_project(conn: AsyncConnection, project_id: int) -> Project | None:
    """The project, locked for the rest of the write transaction (PostgreSQL; SQLite has one writer)."""
    row = (await conn.execute(select(projects).where(projects.c.id == project_id).with_for_update())).first()
    return _project(row) if row else None


async def first_sysadmin_id(conn: AsyncConnection) -> int | None:
    """The lowest id of a system administrator: Harbor's owner for projects robots create."""
    query = select(func.min(users.c.id)).where(users.c.sysadmin.is_(True))
    value = (await conn.execute(query)).scalar()
    return int(value) if value is not None else None


async def update_project(conn: AsyncConnection, project_id: int, *, public: bool | None = None,
                         metadata: dict[str, str] | None = None, storage_limit: int | None = None) -> None:
    """Set the given columns (None leaves a column alone) and the update time."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if public is not None:
        values["public"] = public
    if metadata is not None:
        values["metadata"] = metadata
    if storage_limit is not None:
        values["storage_limit"] = storage_limit
    await conn.execute(update(projects).where(projects.c.id == project_id).values(**values))


async def repository_count(conn: AsyncConnection, project_id: int) -> int:
    query = select(func.count()).select_from(repositories).where(repositories.c.project_id == project_id)
    return int((await conn.execute(query)).scalar_one())


async def storage_used(conn: AsyncConnection, project_id: int) -> int:
    """Bytes of the distinct blobs linked to the project's repositories (a shared blob counts once)."""
    linked = (select(repository_blobs.c.blob_id)
              .join(repositories, repositories.c.id == repository_blobs.c.repository_id)
              .where(repositories.c.project_id == project_id))
    query = select(func.coalesce(func.sum(blobs.c.size), 0)).where(blobs.c.id.in_(linked))
    return int((await conn.execute(query)).scalar_one())


async def delete_repositories(conn: AsyncConnection, project_id: int) -> RemovedRepositories:
    """Delete every repository of the project with its tags, manifests, blob links and uploads.

    Blob rows and bytes stay (other repositories may use them; garbage collection
    reclaims the rest). Returns the deleted names and the pending uploads' states so the
    caller can discard their bytes once the transaction has committed.
    """
    repo_ids = select(repositories.c.id).where(repositories.c.project_id == project_id)
    manifest_ids = select(manifests.c.id).where(manifests.c.repository_id.in_(repo_ids))
    names = list((await conn.execute(select(repositories.c.name).where(repositories.c.project_id == project_id)
                                     .order_by(repositories.c.name))).scalars())
    states = [dict(state) for state in (await conn.execute(
        select(uploads.c.state).where(uploads.c.repository_id.in_(repo_ids)))).scalars()]
    await conn.execute(delete(tags).where(tags.c.repository_id.in_(repo_ids)))
    await conn.execute(delete(artifact_labels).where(artifact_labels.c.manifest_id.in_(manifest_ids)))
    await conn.execute(delete(manifest_children).where(or_(manifest_children.c.parent_id.in_(manifest_ids),
                                                           manifest_children.c.child_id.in_(manifest_ids))))
    await conn.execute(delete(manifest_blobs).where(manifest_blobs.c.manifest_id.in_(manifest_ids)))
    await conn.execute(delete(manifests).where(manifests.c.repository_id.in_(repo_ids)))
    await conn.execute(delete(repository_blobs).where(repository_blobs.c.repository_id.in_(repo_ids)))
    await conn.execute(delete(uploads).where(uploads.c.repository_id.in_(repo_ids)))
    await conn.execute(delete(repositories).where(repositories.c.project_id == project_id))
    return RemovedRepositories(names, states)


async def delete_project(conn: AsyncConnection, project_id: int) -> None:
    """Delete the project row; members, project robots and labels go with it (foreign keys cascade)."""
    await conn.execute(delete(project_members).where(project_members.c.project_id == project_id))
    await conn.execute(delete(projects).where(projects.c.id == project_id))


async def search_repositories(conn: AsyncConnection, text: str, *, visibility: Visibility,
                              limit: int) -> list[RepositoryHit]:
    """Repositories of visible projects whose full name contains `text`, by name."""
    artifact_count = (select(func.count()).select_from(manifests)
                      .where(manifests.c.repository_id == repositories.c.id).scalar_subquery())
    query = (select(repositories.c.name, repositories.c.pull_count, projects.c.id.label("project_id"),
                    projects.c.name.label("project_name"), projects.c.public, artifact_count.label("artifacts"))
             .join(projects, projects.c.id == repositories.c.project_id)
             .where(_visible(visibility), repositories.c.name.contains(text, autoescape=True))
             .order_by(repositories.c.name).limit(limit))
    return [RepositoryHit(row.project_id, row.project_name, bool(row.public), row.name, int(row.pull_count),
                          int(row.artifacts)) for row in await conn.execute(query)]


async def count_visible(conn: AsyncConnection, visibility: Visibility) -> dict[bool, tuple[int, int]]:
    """For public (True) and private (False) visible projects: (project count, repository count)."""
    project_counts = select(projects.c.public, func.count()).where(_visible(visibility)).group_by(projects.c.public)
    repo_counts = (select(projects.c.public, func.count()).select_from(
        repositories.join(projects, projects.c.id == repositories.c.project_id))
        .where(_visible(visibility)).group_by(projects.c.public))
    found_projects = {bool(public): int(n) for public, n in await conn.execute(project_counts)}
    found_repos = {bool(public): int(n) for public, n in await conn.execute(repo_counts)}
    return {public: (found_projects.get(public, 0), found_repos.get(public, 0)) for public in (True, False)}


async def total_storage(conn: AsyncConnection) -> int:
    """Bytes of every blob the registry holds."""
    return int((await conn.execute(select(func.coalesce(func.sum(blobs.c.size), 0)))).scalar_one())
