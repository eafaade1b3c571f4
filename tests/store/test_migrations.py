"""Migrations reach head on the test database and match the table definitions."""

from __future__ import annotations

import anyio.to_thread
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from portside.store.migrate import upgrade
from portside.store.tables import metadata


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrated_schema_has_no_autogenerate_diff(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    await engine.dispose()
    assert diff == []


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await anyio.to_thread.run_sync(upgrade, database_url)
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        names = await conn.run_sync(_table_names)
    await engine.dispose()
    assert {table.name for table in metadata.sorted_tables} <= names
    assert "alembic_version" in names
