"""Robot accounts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Robot
from portside.store.tables import robots


def _robot(row: Any) -> Robot:
    return Robot(id=row.id, name=row.name, description=row.description, level=row.level,
                 project_id=row.project_id, secret_hash=row.secret_hash, disabled=row.disabled,
                 duration=row.duration, expires_at=row.expires_at, permissions=list(row.permissions or []),
                 creator_type=row.creator_type, creator_ref=row.creator_ref,
                 created_at=row.created_at, updated_at=row.updated_at)


async def find_by_name(conn: AsyncConnection, name: str) -> Robot | None:
    row = (await conn.execute(select(robots).where(robots.c.name == name))).first()
    return _robot(row) if row else None


async def find_by_id(conn: AsyncConnection, robot_id: int) -> Robot | None:
    row = (await conn.execute(select(robots).where(robots.c.id == robot_id))).first()
    return _robot(row) if row else None


async def create(conn: AsyncConnection, **values: Any) -> int:
    now = utcnow()
    result = await conn.execute(robots.insert().values(**values, created_at=now, updated_at=now)
                                .returning(robots.c.id))
    return int(result.scalar_one())


async def update_fields(conn: AsyncConnection, robot_id: int, **values: Any) -> None:
    await conn.execute(update(robots).where(robots.c.id == robot_id).values(**values, updated_at=utcnow()))


async def remove(conn: AsyncConnection, robot_id: int) -> None:
    await conn.execute(delete(robots).where(robots.c.id == robot_id))


async def list_robots(conn: AsyncConnection, *, level: str | None = None, project_id: int | None = None,
                      name_like: str | None = None, offset: int = 0, limit: int = 10) -> tuple[list[Robot], int]:
    query = select(robots)
    if level:
        query = query.where(robots.c.level == level)
    if project_id is not None:
        query = query.where(robots.c.project_id == project_id)
    if name_like:
        query = query.where(robots.c.name.contains(name_like, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(query.order_by(robots.c.id).offset(offset).limit(limit))
    return [_robot(row) for row in rows], int(total)


#: Columns a robot listing may be ordered by (store names).
ROBOT_ORDER_COLUMNS = {"id": robots.c.id, "name": robots.c.name, "created_at": robots.c.created_at,
                       "updated_at": robots.c.updated_at, "expires_at": robots.c.expires_at}


async def insert_unless_taken(conn: AsyncConnection, **values: Any) -> int | None:
    """Insert a robot and return its id; None (nothing written) if its name is taken. Uses a savepoint."""
    try:
        async with conn.begin_nested():
            return await create(conn, **values)
    except IntegrityError:
        return None


async def list_matching(conn: AsyncConnection, *, level: str | None = None,
                        project_ids: Collection[int] | None = None, name: str | None = None,
                        name_like: str | None = None, order: Sequence[tuple[str, bool]] = (),
                        offset: int = 0, limit: int = 10) -> tuple[list[Robot], int]:
    """A page of robots matching every given filter and the total count.

    `project_ids` None means any project (and system robots); an empty collection matches nothing.
    `order` is (column in ROBOT_ORDER_COLUMNS, descending) pairs; ties are broken by id.
    """
    query = select(robots)
    if level is not None:
        query = query.where(robots.c.level == level)
    if project_ids is not None:
        query = query.where(robots.c.project_id.in_(list(project_ids)))
    if name is not None:
        query = query.where(robots.c.name == name)
    if name_like:
        query = query.where(robots.c.name.contains(name_like, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    columns = [ROBOT_ORDER_COLUMNS[key].desc() if descending else ROBOT_ORDER_COLUMNS[key].asc()
               for key, descending in order]
    rows = await conn.execute(query.order_by(*columns, robots.c.id).offset(offset).limit(limit))
    return [_robot(row) for row in rows], int(total)
