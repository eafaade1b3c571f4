"""Repositories: resolving names for pulls and pushes (the project is the first component),
and Harbor's repository view (list, get, describe, delete)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from portside.domain.errors import BadRequest, NameInvalid, NameUnknown, NotFound
from portside.domain.models import Project, Repository
from portside.domain.query import parse_query
from portside.domain.rbac import Principal, Role
from portside.domain.reference import RepositoryName, parse_repository_name
from portside.services.audit import Actor, AuditLog
from portside.services.row_ids import parse_row_id
from portside.store import artifacts as artifact_store
from portside.store import members as member_store
from portside.store import repositories as store
from portside.store.artifacts import RepositoryQuery, RepositoryRow
from portside.store.database import Database

if TYPE_CHECKING:  # deps imports the manifest service, which imports this module
    from portside.services.deps import ServiceDeps


class RepositoryResolver:
    """Finds repositories; creates them on first push (and their project, when allowed)."""

    def __init__(self, db: Database, audit: AuditLog, *, auto_create_projects: bool) -> None:
        self._db = db
        self._audit = audit
        self._auto_create_projects = auto_create_projects

    async def for_pull(self, name: RepositoryName) -> Repository:
        """The existing repository; raises NameUnknown."""
        async with self._db.read() as conn:
            repository = await store.find_repository(conn, name.value)
        if repository is None:
            raise NameUnknown(f"repository {name.value!r} not known to registry")
        return repository

    async def for_push(self, name: RepositoryName, actor: Actor | None = None) -> Repository:
        """The repository, created on first push.

        A missing project raises NameUnknown unless auto-creation is on; then the
        pushing user owns the new (private) project as its projectAdmin.
        """
        async with self._db.read() as conn:
            repository = await store.find_repository(conn, name.value)
        if repository is not None:
            return repository
        created_project = False
        async with self._db.write() as conn:
            project_id = await store.find_project_id(conn, name.project)
            if project_id is None:
                if not self._auto_create_projects:
                    raise NameUnknown(f"project {name.project!r} does not exist: create it first")
                owner = actor.user_id if actor else None
                project_id = await store.ensure_project(conn, name.project, owner)
                if owner is not None and await member_store.role_of(conn, project_id, owner) is None:
                    await member_store.add(conn, project_id, owner, int(Role.PROJECT_ADMIN))
                created_project = True
            repository = await store.ensure_repository(conn, project_id, name.value)
        if created_project:
            self._audit.record(actor, "create", "project", name.project, project_id=project_id)
        return repository


class RepositoryService:
    """Harbor's repository view: list, get, update the description, delete with all artifacts.

    Callers pass a project the principal may already see (the web layer resolves it);
    each use case then asks the permission policy for its own action.
    """

    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps

    async def list_all(self, principal: Principal, q: str | None, sort: str | None, *, offset: int,
                       limit: int) -> tuple[list[RepositoryRow], int]:
        """Repositories of every project the caller may see (admins: all; others: public + member)."""
        query = _repository_query(q, sort)
        async with self._deps.db.read() as conn:
            scope = await self._visible_projects(conn, principal)
            query = replace(query, project_ids=scope, include_public=scope is not None)
            return await artifact_store.list_repositories(conn, query, offset=offset, limit=limit)

    async def list_in_project(self, principal: Principal, project: Project, q: str | None, sort: str | None, *,
                              offset: int, limit: int) -> tuple[list[RepositoryRow], int]:
        await self._deps.access.require(principal, project.name, "repository", "list")
        query = replace(_repository_query(q, sort), project_ids=(project.id,))
        async with self._deps.db.read() as conn:
            return await artifact_store.list_repositories(conn, query, offset=offset, limit=limit)

    async def get(self, principal: Principal, project: Project, repository_name: str) -> RepositoryRow:
        """One repository of the project; raises NotFound."""
        await self._deps.access.require(principal, project.name, "repository", "read")
        async with self._deps.db.read() as conn:
            return await _find(conn, project, repository_name)

    async def update(self, principal: Principal, actor: Actor, project: Project, repository_name: str,
                     description: str) -> None:
        """Set the description (the only field Harbor lets a client change)."""
        await self._deps.access.require(principal, project.name, "repository", "update")
        async with self._deps.db.write() as conn:
            repository = await _find(conn, project, repository_name)
            await artifact_store.set_description(conn, repository.id, description)
        self._deps.audit.record(actor, "update", "repository", repository.name, project_id=project.id)

    async def delete(self, principal: Principal, actor: Actor, project: Project, repository_name: str) -> None:
        """Delete the repository with all its artifacts and tags (maintainers and project admins)."""
        await self._deps.access.require(principal, project.name, "repository", "delete")
        async with self._deps.db.write() as conn:
            repository = await _find(conn, project, repository_name)
            await artifact_store.delete_repository(conn, repository.id)
        self._deps.audit.record(actor, "delete", "repository", repository.name, project_id=project.id)

    async def _visible_projects(self, conn: AsyncConnection, principal: Principal) -> list[int] | None:
        """Ids of the non-public projects whose repositories the caller may list; None means all."""
        if principal.sysadmin:
            return None
        if principal.user_id is not None:
            return await member_store.project_ids_of_user(conn, principal.user_id)
        names: set[str] = set()
        for grant in principal.robot_grants:
            if grant.covers(grant.namespace, ("repository", "list")):
                if grant.namespace == "*":
                    return None
                names.add(grant.namespace)
        ids = [await store.find_project_id(conn, name) for name in sorted(names)]
        return [project_id for project_id in ids if project_id is not None]


async def _find(conn: AsyncConnection, project: Project, repository_name: str) -> RepositoryRow:
    """The repository `<project>/<repository_name>`; raises NotFound (BadRequest for an invalid name)."""
    full_name = full_repository_name(project, repository_name)
    repository = await artifact_store.find_repository(conn, full_name)
    if repository is None:
        raise NotFound(f"repository {full_name} not found")
    return repository


def full_repository_name(project: Project, repository_name: str) -> str:
    """`<project>/<repository_name>`, validated; raises BadRequest."""
    try:
        return parse_repository_name(f"{project.name}/{repository_name}").value
    except NameInvalid as error:
        raise BadRequest(error.message) from None


def _repository_query(q: str | None, sort: str | None) -> RepositoryQuery:
    """Harbor's `q` (name=, name=~, name={a b}, project_id=) and `sort` for repositories."""
    query = RepositoryQuery(sort=artifact_store.parse_sort(sort, artifact_store.REPOSITORY_SORTS))
    for key, term in parse_query(q).items():
        if key == "name" and term.kind == "fuzzy":
            query = replace(query, name_like=term.value)
        elif key == "name" and term.kind in ("exact", "any"):
            query = replace(query, names=term.values)
        elif key == "project_id" and term.kind == "exact" and (project_id := parse_row_id(term.value)):
            query = replace(query, project_id=project_id)
        else:
            raise BadRequest(f"unsupported query {key}: filter repositories by name (=, =~, {{}}) or project_id")
    return query
