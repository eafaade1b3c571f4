"""Local user accounts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from portside.core.clock import utcnow
from portside.domain.models import User
from portside.store.tables import users


def _user(row: Any) -> User:
    return User(id=row.id, username=row.username, email=row.email, realname=row.realname, comment=row.comment,
                sysadmin=row.sysadmin, password_hash=row.password_hash, cli_secret_hash=row.cli_secret_hash,
                created_at=row.created_at, updated_at=row.updated_at)


async def find_by_name(conn: AsyncConnection, username: str) -> User | None:
    row = (await conn.execute(select(users).where(users.c.username == username))).first()
    return _user(row) if row else None


async def find_by_id(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return _user(row) if row else None


async def find_by_email(conn: AsyncConnection, email: str) -> User | None:
    row = (await conn.execute(select(users).where(users.c.email == email))).first()
    return _user(row) if row else None


async def create(conn: AsyncConnection, *, username: str, password_hash: str, email: str | None = None,
                 realname: str = "", comment: str = "", sysadmin: bool = False) -> int:
    now = utcnow()
    result = await conn.execute(users.insert().values(
        username=username, email=email, realname=realname, comment=comment, password_hash=password_hash,
        sysadmin=sysadmin, created_at=now, updated_at=now,
    ).returning(users.c.id))
    return int(result.scalar_one())


async def update_fields(conn: AsyncConnection, user_id: int, **values: Any) -> None:
    """Set columns of a user (email, realname, comment, sysadmin, password_hash, cli_secret_hash)."""
    await conn.execute(update(users).where(users.c.id == user_id).values(**values, updated_at=utcnow()))


async def remove(conn: AsyncConnection, user_id: int) -> None:
    await conn.execute(delete(users).where(users.c.id == user_id))


async def list_users(conn: AsyncConnection, *, username_like: str | None = None, email_like: str | None = None,
                     offset: int = 0, limit: int = 10) -> tuple[list[User], int]:
    """A page of users ordered by id, and the total count."""
    query = select(users)
    if username_like:
        query = query.where(users.c.username.contains(username_like, autoescape=True))
    if email_like:
        query = query.where(users.c.email.contains(email_like, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(query.order_by(users.c.id).offset(offset).limit(limit))
    return [_user(row) for row in rows], int(total)


async def count_sysadmins(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).where(users.c.sysadmin.is_(True)))).scalar_one())


async def search(conn: AsyncConnection, text: str, limit: int) -> list[User]:
    """Users whose name or email contains `text`."""
    query = select(users).where(or_(users.c.username.contains(text, autoescape=True),
                                    users.c.email.contains(text, autoescape=True)))
    return [_user(row) for row in await conn.execute(query.order_by(users.c.username).limit(limit))]


#: Columns a user listing may be ordered by (store names).
USER_ORDER_COLUMNS = {"id": users.c.id, "username": users.c.username, "email": users.c.email,
                      "created_at": users.c.created_at, "updated_at": users.c.updated_at}


async def insert_unless_taken(conn: AsyncConnection, *, username: str, password_hash: str, email: str | None,
                              realname: str, comment: str, sysadmin: bool = False) -> int | None:
    """Insert a user and return its id; None (and nothing written) if the username or email is taken.

    Runs in a savepoint, so a racing insert of the same name does not abort the caller's transaction.
    """
    try:
        async with conn.begin_nested():
            return await create(conn, username=username, password_hash=password_hash, email=email,
                                realname=realname, comment=comment, sysadmin=sysadmin)
    except IntegrityError:
        return None


async def list_matching(conn: AsyncConnection, *, username: str | None = None, username_like: str | None = None,
                        email: str | None = None, email_like: str | None = None,
                        order: Sequence[tuple[str, bool]] = (), offset: int = 0,
                        limit: int = 10) -> tuple[list[User], int]:
    """A page of users matching every given filter and the total count.

    `order` is (column in USER_ORDER_COLUMNS, descending) pairs; ties are broken by id.
    """
    query = select(users)
    if username is not None:
        query = query.where(users.c.username == username)
    if username_like:
        query = query.where(users.c.username.contains(username_like, autoescape=True))
    if email is not None:
        query = query.where(users.c.email == email)
    if email_like:
        query = query.where(users.c.email.contains(email_like, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    columns = [USER_ORDER_COLUMNS[name].desc() if descending else USER_ORDER_COLUMNS[name].asc()
               for name, descending in order]
    rows = await conn.execute(query.order_by(*columns, users.c.id).offset(offset).limit(limit))
    return [_user(row) for row in rows], int(total)


async def search_usernames(conn: AsyncConnection, text: str, *, offset: int = 0,
                           limit: int = 10) -> tuple[list[User], int]:
    """A page of users whose name contains `text` (ordered by name) and the total count."""
    query = select(users).where(users.c.username.contains(text, autoescape=True))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(query.order_by(users.c.username, users.c.id).offset(offset).limit(limit))
    return [_user(row) for row in rows], int(total)


async def lock_sysadmins(conn: AsyncConnection) -> int:
    """The number of system administrators, their rows locked until the transaction ends
    (FOR UPDATE on PostgreSQL; SQLite's single writer already serialises), so that two
    concurrent demotions or deletions cannot remove the last one."""
    query = select(users.c.id).where(users.c.sysadmin.is_(True)).with_for_update()
    return len((await conn.execute(query)).all())
