"""Emptying the shared PostgreSQL test database between tests (importable from any test module)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portside.store.tables import metadata


async def empty_tables(url: str) -> None:
    """TRUNCATE every table of the database at `url` (identities restarted)."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        names = ", ".join(table.name for table in reversed(metadata.sorted_tables))
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()
