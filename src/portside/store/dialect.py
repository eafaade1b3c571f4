"""The few statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(conn: AsyncConnection, table: Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


async def insert_ignore(conn: AsyncConnection, table: Table, values: dict[str, Any] | list[dict[str, Any]],
                        conflict: Sequence[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on the `conflict` columns."""
    if isinstance(values, list) and not values:
        return
    await conn.execute(_insert(conn, table).values(values).on_conflict_do_nothing(index_elements=list(conflict)))


async def upsert(conn: AsyncConnection, table: Table, values: dict[str, Any], conflict: Sequence[str],
                 update: Sequence[str]) -> None:
    """INSERT … ON CONFLICT DO UPDATE SET the `update` columns."""
    statement = _insert(conn, table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict), set_={name: statement.excluded[name] for name in update}
    )
    await conn.execute(statement)
