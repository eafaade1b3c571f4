"""Projects and repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Page, Repository
from portside.store import dialect
from portside.store.tables import projects, repositories


async def find_project_id(conn: AsyncConnection, name: str) -> int | None:
    """The id of project `name`, or None."""
    return (await conn.execute(select(projects.c.id).where(projects.c.name == name))).scalar()


async def ensure_project(conn: AsyncConnection, name: str) -> int:
    """The id of project `name`, creating it (private) if absent. Safe under races."""
    now = utcnow()
    await dialect.insert_ignore(conn, projects, {"name": name, "public": False, "created_at": now,
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
