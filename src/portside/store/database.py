"""Database: the engine(s) and the two kinds of transaction services open.

`read()` yields a connection for queries; `write()` a connection inside one
transaction, committed on success. SQLite has a single writer, so writes go
through a one-connection engine that starts `BEGIN IMMEDIATE` (no lock upgrade
deadlocks, waits instead of failing) and reads through a separate pool in WAL
mode. Never await storage or network I/O inside `write()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
_AFTER_COMMIT = "portside.after_commit"


def after_commit(conn: AsyncConnection, hook: Callable[[], None]) -> None:
    """Call `hook` (no I/O, no await) once `conn`'s `write()` transaction has committed; never
    when it rolls back. The same hook registered twice runs once."""
    conn.info.setdefault(_AFTER_COMMIT, {})[hook] = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let our BEGIN statements decide
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """The metadata database; `dialect` is 'sqlite' or 'postgresql'."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            self._write_engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
            self._read_engine = create_async_engine(url, pool_size=4, max_overflow=4)
            for engine, begin in ((self._write_engine, "BEGIN IMMEDIATE"), (self._read_engine, "BEGIN")):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
                event.listen(engine.sync_engine, "begin",
                             lambda conn, statement=begin: conn.exec_driver_sql(statement))
        elif self.dialect == "postgresql":
            engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
            self._write_engine = self._read_engine = engine
        else:
            raise ValueError(f"unsupported database {self.dialect!r}: use sqlite+aiosqlite or postgresql+asyncpg")

    @property
    def engine(self) -> AsyncEngine:
        return self._write_engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (rolled back at the end)."""
        async with self._read_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one write transaction, committed when the block exits normally."""
        hooks: dict[Callable[[], None], None] | None = None
        async with self._write_engine.begin() as conn:
            try:
                yield conn
            finally:  # `info` outlives the checkout: never leave hooks for the next transaction
                hooks = conn.info.pop(_AFTER_COMMIT, None)
        for hook in hooks or ():  # reached only when the block committed
            hook()

    async def dispose(self) -> None:
        await self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            await self._read_engine.dispose()
