"""Project memberships (user, role)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import Member
from portside.store.tables import project_members, users


def _member(row: Any) -> Member:
    return Member(id=row.id, project_id=row.project_id, user_id=row.user_id, username=row.username, role=row.role)


_COLUMNS = (project_members.c.id, project_members.c.project_id, project_members.c.user_id, users.c.username,
            project_members.c.role)


async def role_of(conn: AsyncConnection, project_id: int, user_id: int) -> int | None:
    """The user's role id in the project, or None if not a member."""
    query = select(project_members.c.role).where(project_members.c.project_id == project_id,
                                                 project_members.c.user_id == user_id)
    value = (await conn.execute(query)).scalar()
    return int(value) if value is not None else None


async def add(conn: AsyncConnection, project_id: int, user_id: int, role: int) -> int:
    now = utcnow()
    result = await conn.execute(project_members.insert().values(
        project_id=project_id, user_id=user_id, role=role, created_at=now, updated_at=now,
    ).returning(project_members.c.id))
    return int(result.scalar_one())


async def find(conn: AsyncConnection, project_id: int, member_id: int) -> Member | None:
    query = select(*_COLUMNS).join(users, users.c.id == project_members.c.user_id).where(
        project_members.c.project_id == project_id, project_members.c.id == member_id)
    row = (await conn.execute(query)).first()
    return _member(row) if row else None


async def find_by_user(conn: AsyncConnection, project_id: int, user_id: int) -> Member | None:
    query = select(*_COLUMNS).join(users, users.c.id == project_members.c.user_id).where(
        project_members.c.project_id == project_id, project_members.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _member(row) if row else None


async def set_role(conn: AsyncConnection, member_id: int, role: int) -> None:
    await conn.execute(update(project_members).where(project_members.c.id == member_id)
                       .values(role=role, updated_at=utcnow()))


async def remove(conn: AsyncConnection, member_id: int) -> None:
    await conn.execute(delete(project_members).where(project_members.c.id == member_id))


async def list_members(conn: AsyncConnection, project_id: int, *, name_like: str | None = None,
                       offset: int = 0, limit: int = 10) -> tuple[list[Member], int]:
    query = select(*_COLUMNS).join(users, users.c.id == project_members.c.user_id).where(
        project_members.c.project_id == project_id)
    if name_like:
        query = query.where(users.c.username.contains(name_like, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(query.order_by(project_members.c.id).offset(offset).limit(limit))
    return [_member(row) for row in rows], int(total)


async def count_by_role(conn: AsyncConnection, project_id: int) -> dict[int, int]:
    query = (select(project_members.c.role, func.count()).where(project_members.c.project_id == project_id)
             .group_by(project_members.c.role))
    return {int(role): int(count) for role, count in await conn.execute(query)}


async def project_ids_of_user(conn: AsyncConnection, user_id: int) -> list[int]:
    query = select(project_members.c.project_id).where(project_members.c.user_id == user_id)
    return [int(v) for v in (await conn.execute(query)).scalars()]
