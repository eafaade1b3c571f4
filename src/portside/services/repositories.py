"""Resolving repository names for pulls and pushes (the project is the first component)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portside.domain.errors import NameUnknown
from portside.domain.models import Repository
from portside.domain.rbac import Role
from portside.domain.reference import RepositoryName
from portside.services.audit import Actor, AuditLog
from portside.store import members as member_store
from portside.store import repositories as store
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
    """Harbor's repository view: list, get, update the description, delete with all artifacts."""

    def __init__(self, deps: ServiceDeps) -> None:
        self._deps = deps
