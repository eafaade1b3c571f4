"""Resolving repository names for pulls and pushes (the project is the first component)."""

from __future__ import annotations

from portside.domain.errors import NameUnknown
from portside.domain.models import Repository
from portside.domain.reference import RepositoryName
from portside.store import repositories as store
from portside.store.database import Database


class RepositoryResolver:
    """Finds repositories; creates them (and their project, if allowed) on push."""

    def __init__(self, db: Database, *, auto_create_projects: bool) -> None:
        self._db = db
        self._auto_create_projects = auto_create_projects

    async def for_pull(self, name: RepositoryName) -> Repository:
        """The existing repository; raises NameUnknown."""
        async with self._db.read() as conn:
            repository = await store.find_repository(conn, name.value)
        if repository is None:
            raise NameUnknown(f"repository {name.value!r} not known to registry")
        return repository

    async def for_push(self, name: RepositoryName) -> Repository:
        """The repository, created on first push; raises NameUnknown for a missing project
        when auto-creation is off."""
        async with self._db.read() as conn:
            repository = await store.find_repository(conn, name.value)
        if repository is not None:
            return repository
        async with self._db.write() as conn:
            project_id = await store.find_project_id(conn, name.project)
            if project_id is None:
                if not self._auto_create_projects:
                    raise NameUnknown(f"project {name.project!r} does not exist")
                project_id = await store.ensure_project(conn, name.project)
            return await store.ensure_repository(conn, project_id, name.value)
