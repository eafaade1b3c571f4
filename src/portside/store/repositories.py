"""Projects and repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Page, Project, Repository
from portside.store import dialect
from portside.store.tables import projects, repositories


async def find_project_id(conn: AsyncConnection, name: str) -> int | None:
    """The id of project `name`, or None."""
    return (await conn.execute(select(projects.c.id).where(projects.c.name == name))).scalar()


async def ensure_project(conn: AsyncConnection, name: str, owner_id: int | None = None) -> int:
    """The id of project `name`, creating it (private) if absent. Safe under races."""
    now = utcnow()
    await dialect.insert_ignore(conn, projects, {"name": name, "public": False, "owner_id": owner_id,
                                                 "metadata": {}, "storage_limit": -1, "created_at": now,
                                                 "updated_at": now}, ["name"])
    project_id = await find_project_id(conn, name)
    assert project_id is not None
    return project_id


def _repository(row: Any) -> Repository:
    return Repository(id=row.id, project_id=row.project_id, name=row.name)


async def find_repository(conn: AsyncConnection, name: str) -> Repository | None:
    """The repository called `name`, or None."""
    row = (await conn.execute(select(repositories).where(repositories.c.name == name))).first()
    return _repository(row) if row else None


async def ensure_repository(conn: AsyncConnection, project_id: int, name: str) -> Repository:
    """The repository `name`, creating it in `project_id` if absent. Safe under races."""
    now = utcnow()
    await dialect.insert_ignore(conn, repositories, {"project_id": project_id, "name": name,
                                                     "created_at": now, "updated_at": now}, ["name"])
    repository = await find_repository(conn, name)
    assert repository is not None
    return repository


async def list_names(conn: AsyncConnection, *, limit: int | None, after: str | None) -> Page:
    """Repository names in lexical order after `after`, at most `limit` (None: all)."""
    query = select(repositories.c.name).order_by(repositories.c.name)
    if after:
        query = query.where(repositories.c.name > after)
    if limit is not None:
        query = query.limit(limit + 1)
    names = list((await conn.execute(query)).scalars())
    if limit is not None and len(names) > limit:
        return Page(names[:limit], True)
    return Page(names, False)


def _project(row: Any) -> Project:
    return Project(id=row.id, name=row.name, public=row.public, owner_id=row.owner_id,
                   metadata=dict(row.metadata or {}), storage_limit=row.storage_limit,
                   created_at=row.created_at, updated_at=row.updated_at)


async def find_project(conn: AsyncConnection, name: str) -> Project | None:
    """The project called `name`, or None."""
    row = (await conn.execute(select(projects).where(projects.c.name == name))).first()
    return _project(row) if row else None


async def find_project_by_id(conn: AsyncConnection, project_id: int) -> Project | None:
    row = (await conn.execute(select(projects).where(projects.c.id == project_id))).first()
    return _project(row) if row else None


async def create_project(conn: AsyncConnection, name: str, *, public: bool, owner_id: int | None,
                         metadata: dict[str, str], storage_limit: int) -> int:
    """Insert a project; raises IntegrityError if the name is taken."""
    now = utcnow()
    result = await conn.execute(projects.insert().values(
        name=name, public=public, owner_id=owner_id, metadata=metadata, storage_limit=storage_limit,
        created_at=now, updated_at=now,
    ).returning(projects.c.id))
    return int(result.scalar_one())
