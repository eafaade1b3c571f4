"""Robot accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
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
