"""Shared fixtures: settings on a fresh database, the services, an in-process client.

The metadata database is SQLite in a temporary directory unless the environment
variable PORTSIDE_TEST_DATABASE_URL names another (CI runs the whole suite a
second time with PostgreSQL). A shared database is migrated once per session and
emptied before each test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import ASGIApp

from fixture_values import ADMIN_PASSWORD
from portside.app import create_app
from portside.container import build_services
from portside.core.config import Settings
from portside.services.bundle import Services
from portside.store.migrate import upgrade
from shared_database import empty_tables

SHARED_DATABASE_URL = os.environ.get("PORTSIDE_TEST_DATABASE_URL")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


async def _run_autocommit(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_shared_database() -> Iterator[str | None]:
    """A migrated PostgreSQL database of this test session's own (created next to the one
    PORTSIDE_TEST_DATABASE_URL names, dropped at the end, so concurrent runs never collide);
    None when each test uses its own SQLite file."""
    if not SHARED_DATABASE_URL:
        yield None
        return
    name = f"portside_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_run_autocommit(SHARED_DATABASE_URL, f'CREATE DATABASE "{name}"'))
    url = make_url(SHARED_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_run_autocommit(SHARED_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per session; each test gets a copy (milliseconds, not a migration)."""
    directory = tmp_path_factory.mktemp("template")
    path = directory / "portside.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    # First-start work (the admin's argon2 hash, the RSA signing key) done once, not per test.
    settings = Settings(data_dir=directory / "data", database_url=url, admin_password=ADMIN_PASSWORD)

    async def first_start() -> None:
        services = await build_services(settings)
        await services.start()
        await services.close()

    asyncio.run(first_start())
    return path


@pytest.fixture
async def database_url(tmp_path: Path, migrated_shared_database: str | None, sqlite_template: Path) -> str:
    """A migrated, empty database for this test."""
    if migrated_shared_database:
        await empty_tables(migrated_shared_database)
        return migrated_shared_database
    path = tmp_path / "portside.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for an in-process registry whose `admin` has ADMIN_PASSWORD; pushes create projects."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url, access_log=False,
                    storage_fsync=False, admin_password=ADMIN_PASSWORD, auto_create_projects=True)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    await built.start()
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def app(settings: Settings, services: Services) -> ASGIApp:
    return create_app(settings, services)


@pytest.fixture
async def anonymous_client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process, without credentials."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test") as http:
        yield http


@pytest.fixture
async def client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in process as the administrator (Basic auth)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry.test",
                                 auth=("admin", ADMIN_PASSWORD)) as http:
        yield http
